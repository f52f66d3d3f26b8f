/**
 * What issue 17 adds next to the defects: Markdown that can't become HTML, a readable
 * timeline (days, groups, per-message menu and state), and notifications while hidden.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, signIn, type TestServer } from "../helpers/server";
import { SLOW, libraryClient, newContext, signedInPage, startServerAndBrowser, stopServerAndBrowser } from "./browser";

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];

beforeAll(async () => {
  ({ server, browser } = await startServerAndBrowser());
  ({ context, errors } = await newContext(browser));
  await context.grantPermissions(["clipboard-read", "clipboard-write", "notifications"], { origin: server.url });
  await context.addInitScript(watchNotifications);
  page = await signedInPage(server, context, "alice@example.com");
}, SLOW);
afterAll(() => stopServerAndBrowser(server, browser), SLOW);

const item = (text: string) => page.getByTestId("messages").locator("li.msg[data-seq]", { hasText: text });

async function send(text: string) {
  await page.getByRole("textbox", { name: "Message" }).fill(text);
  await page.getByRole("button", { name: "Send" }).click();
}

test("Markdown: bold, italics, code, code blocks with Copy, quotes, links; never HTML", async () => {
  await send("**bold** _italic_ `x < y` see www.example.com or mailto:me@example.com, not [this](javascript:alert(1)) <b onclick=alert(1)>raw</b>");
  const m = item("bold");
  await m.waitFor();
  expect(await m.locator("strong").textContent()).toBe("bold");
  expect(await m.locator("em").textContent()).toBe("italic");
  expect(await m.locator("code").textContent()).toBe("x < y");
  expect(await m.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")))).toEqual(["http://www.example.com/", "mailto:me@example.com"]);
  expect(await m.locator("a").first().getAttribute("rel")).toBe("noopener noreferrer");
  expect(await m.locator("b").count()).toBe(0);
  expect(await m.locator(".body").textContent()).toContain("<b onclick=alert(1)>raw</b>");
  expect(await m.locator(".body").textContent()).toContain("this");

  await send("> quoted line\n\n```js\nconst a = 1 < 2;\n```");
  const block = item("quoted line");
  await block.waitFor();
  expect(await block.locator("blockquote").textContent()).toBe("quoted line");
  expect(await block.locator("pre code").textContent()).toBe("const a = 1 < 2;");
  await block.getByRole("button", { name: "Copy" }).click();
  await block.getByRole("button", { name: "Copied" }).waitFor();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("const a = 1 < 2;");

  // A task list keeps each box on its item's line; a table (not drawn) keeps its lines as typed.
  await send("- [ ] buy milk\n- [x] call mum\n\n| a | b |\n|---|---|\n| 1 | 2 |");
  const tasks = item("buy milk");
  await tasks.waitFor();
  expect(await tasks.locator("li").allInnerTexts()).toEqual(["buy milk", "call mum"]);
  expect(await tasks.locator("li input[type=checkbox]").evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).checked))).toEqual([false, true]);
  expect(await tasks.locator(".as-typed").innerText()).toBe("| a | b |\n|---|---|\n| 1 | 2 |");
  expect(errors).toEqual([]);
}, SLOW);

test("the timeline: a day separator, one device's messages grouped, a menu to copy, a stored state", async () => {
  await send("group one");
  await send("group two");
  await item("group two").waitFor();
  expect(await page.getByTestId("day").first().textContent()).toBe("Today");
  // The second of a group doesn't repeat the device (screen readers still hear it).
  expect(await item("group one").evaluate((el) => el.classList.contains("group-start"))).toBe(false);
  expect(await item("group two").locator(".meta").getAttribute("class")).toContain("sr-only");
  expect(await item("group two").locator('[data-state="stored"]').count()).toBe(1);

  await item("group two").getByRole("button", { name: "Message actions" }).click();
  await page.getByRole("menuitem", { name: "Copy text" }).click();
  await item("group two").getByRole("status").getByText("Copied").waitFor();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("group two");

  // A script's burst over HTTP (each post a connection of its own) is one group under its token's name.
  const session = await signIn(server, "alice@example.com");
  const made = await fetch(`${server.url}/auth/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${session}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "bulk-bot", scope: "send" }),
  });
  const { token } = (await made.json()) as { token: string };
  for (const text of ["bot one", "bot two", "bot three"]) {
    const posted = await fetch(`${server.url}/api/messages`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: text });
    expect(posted.status).toBe(201);
  }
  await item("bot three").waitFor();
  const starts = await Promise.all(["bot one", "bot two", "bot three"].map((t) => item(t).evaluate((el) => el.classList.contains("group-start"))));
  expect(starts).toEqual([true, false, false]);
}, SLOW);

test("a message's files: an image as a picture, anything else as a download with its size", async () => {
  const lib = await libraryClient(server, "alice@example.com");
  const png = readFileSync(join(ROOT, "web/public/icons/icon-192.png"));
  await lib.sendFile(png, { name: "icon.png", type: "image/png", caption: "the icon" });
  await lib.sendFile(new TextEncoder().encode("hello file"), { name: "notes.txt", type: "text/plain" });
  lib.close();
  const image = item("the icon").getByRole("img", { name: "icon.png" });
  await image.waitFor();
  await page.waitForFunction(() => (document.querySelector('img[alt="icon.png"]') as HTMLImageElement | null)?.naturalWidth === 192);
  const download = page.locator("li.msg[data-seq] a.file", { hasText: "notes.txt" });
  await download.waitFor();
  expect(await download.textContent()).toBe("notes.txt 10 B");
  const body = await page.evaluate(async (href) => (await fetch(href)).text(), (await download.getAttribute("href"))!);
  expect(body).toBe("hello file");
}, SLOW);

test("notifications: switched on from a click, shown while hidden for other devices only, counted in the title", async () => {
  await page.getByRole("switch", { name: "Notify me on this device" }).check();
  expect(await page.evaluate(() => localStorage.getItem("roomz.notifications"))).toBe("on");
  // Headless Chromium has no push service: the switch stays on, and its help says what works and what doesn't.
  await page.locator("#notifications-help").getByText(/^Shown while Roomz is open in a tab, even in the background\. Not while it is closed: this browser could not subscribe to pushes \(.+\)\.$/).waitFor();
  await setHidden(page, true);

  await send("from this device while hidden");
  await item("from this device while hidden").waitFor();
  const lib = await libraryClient(server, "alice@example.com");
  await lib.setDisplayName("Phone");
  await lib.send("from the phone");
  lib.close();
  await item("from the phone").waitFor();
  await page.waitForFunction(() => document.title === "(1) Roomz");
  const shown: { title: string; body: string }[] = await page.evaluate(() => (window as any).__notifications);
  expect(shown).toEqual([{ title: "Phone", body: "from the phone" }]);
  expect(await page.locator('link[rel="icon"]').getAttribute("href")).toBe("/favicon-unread.svg");

  await setHidden(page, false);
  await page.waitForFunction(() => document.title === "Roomz");
  expect(await page.locator('link[rel="icon"]').getAttribute("href")).toBe("/favicon.svg");

  // Switched off: nothing more is shown.
  await page.getByRole("switch", { name: "Notify me on this device" }).uncheck();
  await setHidden(page, true);
  const again = await libraryClient(server, "alice@example.com");
  await again.send("while switched off");
  again.close();
  await item("while switched off").waitFor();
  expect(await page.evaluate(() => (window as any).__notifications.length)).toBe(1);
  await setHidden(page, false);
}, SLOW);

/** Headless Chromium pages are always visible: the test says when this one is hidden. */
async function setHidden(page: Page, hidden: boolean) {
  await page.evaluate((h) => {
    (window as any).__hidden = h;
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

/** An init script: records the notifications the page shows, and lets the test hide the page. */
function watchNotifications() {
  const w = window as any;
  w.__notifications = [];
  w.__hidden = false;
  Object.defineProperty(document, "hidden", { get: () => w.__hidden });
  Object.defineProperty(document, "visibilityState", { get: () => (w.__hidden ? "hidden" : "visible") });
  const Real = window.Notification;
  class Watched extends Real {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options);
      w.__notifications.push({ title, body: options?.body ?? "" });
    }
  }
  w.Notification = Watched;
}
