/**
 * 10,000 messages of history: the app is usable soon after load, and the first message
 * is one jump away. Times are measured in the browser (Performance API) and printed, not
 * asserted (no timed assertions); what is asserted is the behaviour and the page's size.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import type { TestServer } from "../helpers/server";
import { SLOW, newContext, seedMessages, signedInPage, startServerAndBrowser, stopServerAndBrowser, waitConnected } from "./browser";

const COUNT = 10_000;
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  ({ server, browser } = await startServerAndBrowser({ MESSAGE_RATE_LIMIT: "100000" }));
  const started = performance.now();
  await seedMessages(server, "alice@example.com", COUNT, "note");
  console.log(`performance: seeded ${COUNT} messages through the WebSocket API in ${Math.round(performance.now() - started)} ms`);
}, 120_000);
afterAll(() => stopServerAndBrowser(server, browser), SLOW);

test("with 10,000 messages: usable right after load, the first message one jump away", async () => {
  const { context, errors } = await newContext(browser);
  await context.addInitScript(recordMarks);
  const page = await signedInPage(server, context, "alice@example.com");
  await page.reload();
  await waitConnected(page);
  await page.locator(`li.msg[data-seq="${COUNT}"]`).waitFor();
  const load = await page.evaluate(() => (window as any).__marks);
  const paint = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null);

  await page.getByText("Go to…").click();
  await page.evaluate(() => ((window as any).__marks.jumpClicked = performance.now()));
  await page.getByRole("button", { name: "First message" }).click();
  await page.locator('li.msg[data-seq="1"]').waitFor();
  const jump = await page.evaluate(() => (window as any).__marks);
  const elements = await page.locator("*").count();
  const messages = await page.locator("li.msg[data-seq]").count();
  const longFrames = await page.evaluate(() => (window as any).__long);

  console.log(
    `performance: first contentful paint ${Math.round(paint ?? -1)} ms; usable (newest message shown, composer enabled) ` +
      `${Math.round(load.usable)} ms after navigation; jump to the first message ${Math.round(jump.first - jump.jumpClicked)} ms; ` +
      `${elements} elements, ${messages} messages on the page; long tasks over 50 ms: ${longFrames.length} (worst ${Math.round(Math.max(0, ...longFrames))} ms)`,
  );
  expect(load.usable).toBeGreaterThan(0);
  expect(jump.first).toBeGreaterThan(jump.jumpClicked);
  expect(messages).toBeLessThanOrEqual(200);
  expect(await page.getByRole("textbox", { name: "Message" }).isEditable()).toBe(true);
  expect(errors).toEqual([]);
  await context.close();
}, SLOW);

/** An init script: when the page became usable, when seq 1 appeared, and the long tasks. */
function recordMarks() {
  const w = window as any;
  w.__marks = { usable: 0, first: 0, jumpClicked: 0 };
  w.__long = [];
  new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__long.push(e.duration))).observe({ type: "longtask", buffered: true });
  new MutationObserver(() => {
    const marks = w.__marks;
    if (!marks.usable && document.querySelector("li.msg[data-seq]") && document.querySelector("#composer-input")) {
      const newest = document.querySelectorAll("li.msg[data-seq]");
      if (newest.length && !document.querySelector('[data-testid="timeline-loading"]')) marks.usable = performance.now();
    }
    if (!marks.first && marks.jumpClicked && document.querySelector('li.msg[data-seq="1"]')) marks.first = performance.now();
  }).observe(document, { subtree: true, childList: true });
}
