/**
 * The defects of issue 17, each as a user meets it (steps in the order), in a
 * real Chromium against a real server.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import type { TestServer } from "../helpers/server";
import {
  PHONE_390,
  SLOW,
  confirm,
  libraryClient,
  magicLink,
  newContext,
  queuedOffline,
  seedMessages,
  signedInPage,
  startServerAndBrowser,
  stopServerAndBrowser,
  switchableWebSocket,
  waitConnected,
} from "./browser";

let server: TestServer;
let browser: Browser;

// Many tests here sign the same few addresses in: the per-address link limit is raised.
beforeAll(async () => ({ server, browser } = await startServerAndBrowser({ MESSAGE_RATE_LIMIT: "100000", MAGIC_LINK_RATE_LIMIT: "1000" })), SLOW);
afterAll(() => stopServerAndBrowser(server, browser), SLOW);

const box = (page: Page) => page.getByRole("textbox", { name: "Message" });
const item = (page: Page, text: string) => page.getByTestId("messages").locator("li.msg", { hasText: text });

async function send(page: Page, text: string) {
  await box(page).fill(text);
  await box(page).press("Enter");
  await item(page, text).and(page.locator("[data-seq]")).waitFor();
}

test("1: every message is drawn as the user's own, naming the device that sent it", async () => {
  const { context } = await newContext(browser);
  const page = await signedInPage(server, context, "alice@example.com");
  const lib = await libraryClient(server, "alice@example.com");
  await lib.send("from the script");
  lib.close();
  await send(page, "from this tab");
  const style = (text: string) =>
    item(page, text).evaluate((el) => {
      const s = getComputedStyle(el);
      return { align: s.alignSelf, background: s.backgroundColor };
    });
  expect(await style("from the script")).toEqual(await style("from this tab"));
  expect(await item(page, "from the script").locator(".who").textContent()).toMatch(/^device \w{4}$/);
  expect(await item(page, "from this tab").locator(".who").textContent()).toBe("this device");
  await context.close();
}, SLOW);

test("2 and 13: a loading state first; scrolled up, new messages show a pill and a count in the title", async () => {
  await seedMessages(server, "bob@example.com", 80, "early");
  const { context } = await newContext(browser);
  const page = await context.newPage();
  const ws = await switchableWebSocket(page);
  await (await signedInPage(server, context, "bob@example.com")).close(); // sets the cookie
  await page.goto(server.url);
  // 13: while nothing is loaded, placeholders and no "(0 connected)".
  await page.getByTestId("timeline-loading").waitFor();
  expect(await page.locator("body").textContent()).not.toContain("(0 connected)");
  ws.blocked = false;
  await page.reload();
  await waitConnected(page);
  await item(page, "early 80").waitFor();

  await page.locator(".timeline").evaluate((el) => (el.scrollTop = 0));
  await page.getByTestId("jump-latest").waitFor();
  const lib = await libraryClient(server, "bob@example.com");
  await lib.send("new one");
  await lib.send("new two");
  lib.close();
  await page.getByTestId("jump-latest").getByText("2 new messages").waitFor();
  expect(await page.title()).toBe("(2) Roomz");
  expect(await page.locator('link[rel="icon"]').getAttribute("href")).toBe("/favicon-unread.svg");
  await page.getByTestId("jump-latest").click();
  await page.getByTestId("jump-latest").waitFor({ state: "detached" });
  await page.waitForFunction(() => document.title === "Roomz");
  await context.close();
}, SLOW);

test("3: the draft and the offline outbox survive a reload; the queued message is stored once", async () => {
  const { context } = await newContext(browser);
  const page = await signedInPage(server, context, "carol@example.com");
  await box(page).fill("half-typed thought");
  await page.reload();
  await waitConnected(page);
  expect(await box(page).inputValue()).toBe("half-typed thought");

  const ws = await queuedOffline(page, "queued while offline");
  expect(await box(page).inputValue()).toBe("");
  await page.reload();
  await page.locator('li.outgoing[data-status="sending"]', { hasText: "queued while offline" }).waitFor();

  ws.blocked = false;
  await page.reload();
  await waitConnected(page);
  await item(page, "queued while offline").and(page.locator("[data-seq]")).waitFor();
  await page.locator("li.outgoing").waitFor({ state: "detached" });
  const lib = await libraryClient(server, "carol@example.com");
  const stored = (await lib.history({ limit: 200 })).messages.filter((m) => m.content === "queued while offline");
  lib.close();
  expect(stored).toHaveLength(1);
  expect(await page.evaluate(() => localStorage.getItem("roomz.outbox"))).toBeNull();
  await context.close();
}, SLOW);

test("4: the sign-in error is in the error colour, and the field is outlined", async () => {
  const { context } = await newContext(browser);
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole("button", { name: "Send sign-in link" }).click();
  const error = page.locator("#signin-error");
  await error.waitFor();
  const colours = await page.evaluate(() => {
    const probe = document.createElement("span");
    probe.style.color = "var(--error)";
    document.body.append(probe);
    const want = getComputedStyle(probe).color;
    probe.remove();
    return { want, text: getComputedStyle(document.querySelector("#signin-error")!).color, border: getComputedStyle(document.querySelector("#email")!).borderColor };
  });
  expect(colours.text).toBe(colours.want);
  expect(colours.border).toBe(colours.want);
  expect(await page.locator("#email").getAttribute("aria-invalid")).toBe("true");
  await context.close();
}, SLOW);

test("6: a device's join and leave lines carry the same label", async () => {
  const { context } = await newContext(browser);
  const page = await signedInPage(server, context, "dave@example.com");
  const lib = await libraryClient(server, "dave@example.com");
  const joined = page.getByTestId("messages").getByText(/^device \w{4} connected$/);
  await joined.waitFor();
  const label = (await joined.textContent())!.replace(" connected", "");
  await lib.setDisplayName("Script");
  lib.close();
  await page.getByTestId("messages").getByText(`Script (${label}) disconnected`).waitFor();
  await context.close();
}, SLOW);

test("7 and 8: reconnecting is announced once, not every second; the 390 px header keeps its height", async () => {
  const { context } = await newContext(browser, { viewport: PHONE_390 });
  const page = await signedInPage(server, context, "alice@example.com");
  const height = () => page.locator(".topbar").evaluate((el) => el.getBoundingClientRect().height);
  const connected = await height();
  const ws = await switchableWebSocket(page, false);
  await page.reload();
  await waitConnected(page);
  await page.evaluate(() => {
    const status = document.querySelector('[data-testid="connection"] [role="status"]')!;
    (window as any).__said = [status.textContent];
    new MutationObserver(() => (window as any).__said.push(status.textContent)).observe(status, { subtree: true, childList: true, characterData: true });
  });
  ws.blocked = true;
  await ws.drop();
  await page.locator('[data-testid="connection"]:not([data-status="connected"])').waitFor();
  await page.locator(".countdown").waitFor();
  const reconnecting = await height();
  await page.waitForTimeout(3000);
  const said: string[] = await page.evaluate(() => (window as any).__said);
  // Each state once (the countdown is outside the status region).
  expect(said.every((s, i) => i === 0 || s !== said[i - 1])).toBe(true);
  expect(said.length).toBeLessThanOrEqual(4);
  expect(reconnecting).toBe(connected);
  ws.blocked = false;
  await context.close();
}, SLOW);

test("9: the name field keeps its width once Clear appears", async () => {
  const { context } = await newContext(browser, { viewport: PHONE_390 });
  const page = await signedInPage(server, context, "bob@example.com");
  await page.locator("details.side > summary").click();
  const field = page.getByLabel("Name for this device");
  const before = (await field.boundingBox())!.width;
  await field.fill("Laptop Chrome");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("button", { name: "Clear" }).waitFor();
  expect((await field.boundingBox())!.width).toBe(before);
  await context.close();
}, SLOW);

test("10: on a phone Enter starts a new line and the Send button sends", async () => {
  const { context } = await newContext(browser, { viewport: PHONE_390, isMobile: true, hasTouch: true });
  const page = await signedInPage(server, context, "carol@example.com");
  await box(page).fill("first line");
  await box(page).press("Enter");
  await box(page).pressSequentially("second line");
  expect(await box(page).inputValue()).toBe("first line\nsecond line");
  await page.getByRole("button", { name: "Send" }).tap();
  const sent = item(page, "second line").and(page.locator("[data-seq]"));
  await sent.waitFor();
  expect(await sent.locator(".body").innerText()).toBe("first line\nsecond line");
  await context.close();
}, SLOW);

test("11: a tab that showed 'session ended' recovers when another tab signs in", async () => {
  const { context } = await newContext(browser);
  const first = await signedInPage(server, context, "dave@example.com");
  const second = await context.newPage();
  await second.goto(server.url);
  await waitConnected(second);
  await second.getByRole("button", { name: "Log out everywhere" }).click();
  await second.getByRole("dialog").getByRole("button", { name: "Log out everywhere" }).click();
  await first.getByTestId("signin-notice").getByText(/session ended/i).waitFor();

  await second.getByLabel("Email address").fill("dave@example.com");
  const from = server.output.length;
  await second.getByRole("button", { name: "Send sign-in link" }).click();
  await second.getByRole("heading", { name: "Check your email" }).waitFor();
  await second.goto(await magicLink(server, "dave@example.com", from));
  await confirm(second, server);
  await waitConnected(second);
  await waitConnected(first);
  await context.close();
}, SLOW);

test("12: the first Tab reaches a skip link to the message box", async () => {
  const { context } = await newContext(browser);
  const page = await signedInPage(server, context, "alice@example.com");
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe("Skip to the message box");
  await page.keyboard.press("Enter");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("composer-input");
  await context.close();
}, SLOW);

test("14: the first of 1,000 messages is one jump away, and the page holds a bounded window", async () => {
  await seedMessages(server, "carol@example.com", 1000, "long");
  const { context } = await newContext(browser);
  await context.addInitScript(countHistoryRequests);
  const page = await signedInPage(server, context, "carol@example.com");
  await item(page, "long 1000").waitFor();
  const before = await page.evaluate(() => (window as { __history?: number }).__history ?? 0);
  await page.getByText("Go to…").click();
  await page.getByRole("button", { name: "First message" }).click();
  await page.locator('li.msg[data-seq="1"]').waitFor();
  expect(await page.evaluate(() => (window as { __history?: number }).__history)).toBe(before + 1);
  expect(await page.locator("li.msg[data-seq]").first().getAttribute("data-seq")).toBe("1");
  expect(await page.getByText("Beginning of your channel.").isVisible()).toBe(true);

  // Scrolling down moves the window; the page never holds more than a few pages.
  for (let i = 0; i < 8; i++) {
    await page.locator(".timeline").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForTimeout(150);
  }
  expect(await page.locator("li.msg[data-seq]").count()).toBeLessThanOrEqual(200);
  const seqs = await page.locator("li.msg[data-seq]").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-seq"))));
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
  expect(seqs.at(-1)).toBeGreaterThan(200);

  // And back to the latest in one step.
  await page.getByTestId("jump-latest").click();
  await item(page, "long 1000").waitFor();
  await page.locator('li.msg[data-seq="1"]').waitFor({ state: "detached" });

  // A day: every message here is from today, so today starts at seq 1.
  await page.getByText("Go to…").click();
  const today = await page.evaluate(() => new Date().toLocaleDateString("sv")); // YYYY-MM-DD
  await page.getByLabel("Day").fill(today);
  await page.getByRole("button", { name: "Go", exact: true }).click();
  await page.locator('li.msg[data-seq="1"]').waitFor();
  expect(await page.locator("*").count()).toBeLessThan(4000);
  await context.close();
}, SLOW);

/** An init script: counts the `history` requests the page sends. */
function countHistoryRequests() {
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: string) {
    const w = window as { __history?: number };
    if (String(data).includes('"type":"history"')) w.__history = (w.__history ?? 0) + 1;
    return send.call(this, data);
  } as typeof send;
}

test("right-to-left text is laid out right to left, in the message and in the composer; left-to-right stays", async () => {
  const { context } = await newContext(browser);
  const page = await signedInPage(server, context, "dave@example.com");
  await box(page).fill("שלום, מה שלומך?");
  expect(await box(page).evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
  await box(page).press("Enter");
  await send(page, "plain English");
  const direction = (text: string) => item(page, text).locator(".body").evaluate((el) => getComputedStyle(el.querySelector("p") ?? el).direction);
  await item(page, "שלום, מה שלומך?").and(page.locator("[data-seq]")).waitFor();
  expect(await direction("שלום, מה שלומך?")).toBe("rtl");
  expect(await direction("plain English")).toBe("ltr");
  await context.close();
}, SLOW);

test("a page opened while the server can't be reached tries again by itself and opens the chat once it answers", async () => {
  const { context } = await newContext(browser);
  const page = await signedInPage(server, context, "bob@example.com");
  await page.route("**/auth/me", (route) => route.abort("connectionrefused"));
  await page.reload();
  await page.getByText("Can't reach the Roomz server.").waitFor();
  await page.unroute("**/auth/me");
  await waitConnected(page, 20_000); // no click: the first try again is 2 s later
  await context.close();
}, SLOW);

test("offline, the devices panel says its list is unknown instead of counting devices it can't see", async () => {
  const { context } = await newContext(browser);
  const page = await context.newPage();
  const ws = await switchableWebSocket(page, false);
  await (await signedInPage(server, context, "carol@example.com")).close(); // sets the cookie
  await page.goto(server.url);
  await waitConnected(page);
  const count = page.locator(".devices .count");
  await count.getByText(/\(\d+ connected\)/).waitFor();
  ws.blocked = true;
  await ws.drop();
  await count.getByText("(unknown while offline)").waitFor();
  ws.blocked = false;
  await waitConnected(page, 30_000);
  await count.getByText(/\(\d+ connected\)/).waitFor();
  await context.close();
}, SLOW);
