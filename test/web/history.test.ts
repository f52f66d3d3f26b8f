/** Paging back through history: older messages load when scrolling up, in order, each once. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import type { TestServer } from "../helpers/server";
import { SLOW, libraryClient, newContext, shownMessages, signedInPage, startServerAndBrowser, stopServerAndBrowser } from "./browser";

let server: TestServer;
let browser: Browser;

beforeAll(async () => ({ server, browser } = await startServerAndBrowser()), SLOW);
afterAll(() => stopServerAndBrowser(server, browser), SLOW);

const waitText = (page: import("playwright-core").Page, text: string) =>
  page.getByTestId("messages").getByText(text, { exact: true }).first().waitFor();

test("older messages load when scrolling up", async () => {
  // MESSAGE_RATE_LIMIT is per connection: three connections of 40 messages each.
  for (let part = 0; part < 3; part++) {
    const lib = await libraryClient(server, "carol@example.com");
    for (let i = part * 40 + 1; i <= part * 40 + 40; i++) await lib.send(`old ${i}`);
    lib.close();
  }
  const { context } = await newContext(browser);
  const page = await signedInPage(server, context, "carol@example.com");
  await waitText(page, "old 120");
  const first = await shownMessages(page);
  expect(first.length).toBeLessThan(120);
  expect(first.at(-1)).toBe("old 120");

  // One scroll to the top loads the page before, and the reader stays where they were.
  const oldest = page.locator("li.msg", { has: page.locator(".body", { hasText: new RegExp(`^${first[0]}$`) }) }).first();
  await page.locator(".timeline").evaluate((el) => (el.scrollTop = 0));
  await page.waitForFunction((n) => document.querySelectorAll("li.msg[data-seq]").length > n, first.length);
  const box = (await oldest.boundingBox())!;
  const view = (await page.locator(".timeline").boundingBox())!;
  expect(box.y).toBeGreaterThan(view.y - box.height);
  expect(box.y).toBeLessThan(view.y + view.height);

  for (let i = 0; i < 10 && !(await page.getByText("Beginning of your channel.").isVisible()); i++) {
    await page.locator(".timeline").evaluate((el) => (el.scrollTop = 0));
    await page.waitForTimeout(200);
  }
  const all = await shownMessages(page);
  expect(all).toEqual(Array.from({ length: 120 }, (_, i) => `old ${i + 1}`));
  await context.close();
}, SLOW);
