/**
 * Two browser tabs of one user (separate contexts, so separate sessions) and a library
 * client share one channel: messages, joins, leaves and names reach everyone; content is
 * only ever text; a reload keeps the history.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { RoomzClient } from "../../src/client/client";
import type { ChatMessage } from "../../src/protocol";
import type { TestServer } from "../helpers/server";
import { PHONE, libraryClient, newContext, screenshot, shownMessages, signedInPage, waitConnected, SLOW, startServerAndBrowser, stopServerAndBrowser } from "./browser";

let server: TestServer;
let browser: Browser;
let ctxA: BrowserContext;
let ctxB: BrowserContext;
let pageA: Page;
let pageB: Page;
let errors: string[] = [];
let errorsB: string[] = [];

beforeAll(async () => {
  // Not the default 4000: the composer must learn the server's limit (GET /api/limits).
  ({ server, browser } = await startServerAndBrowser({ MAX_MESSAGE_LENGTH: "4100" }));
  const a = await newContext(browser);
  const b = await newContext(browser, { viewport: PHONE, colorScheme: "dark" });
  ctxA = a.context;
  ctxB = b.context;
  pageA = await signedInPage(server, ctxA, "alice@example.com");
  pageB = await signedInPage(server, ctxB, "alice@example.com");
  errors = a.errors;
  errorsB = b.errors;
}, SLOW);

afterAll(() => stopServerAndBrowser(server, browser), SLOW);

const messagesOf = (page: Page) => page.getByTestId("messages");
const waitText = (page: Page, text: string) => messagesOf(page).getByText(text, { exact: true }).first().waitFor();
const devices = (page: Page) => page.getByTestId("devices").locator("li");

async function send(page: Page, text: string) {
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
}

test("both tabs list each other as devices, and names travel", async () => {
  await devices(pageA).nth(1).waitFor();
  expect(await devices(pageA).count()).toBe(2);
  await pageA.getByLabel("Name for this device").fill("Laptop");
  await pageA.getByRole("button", { name: "Save" }).click();
  await pageB.locator("details.side > summary").click();
  await pageB.getByTestId("devices").getByText("Laptop").waitFor();
  await pageA.getByTestId("devices").getByText("this device").waitFor();
}, SLOW);

test("messages reach the other tab and the library client, labelled by connection", async () => {
  const lib = await libraryClient(server, "alice@example.com");
  const seen: ChatMessage[] = [];
  lib.on("message", (m) => seen.push(m));
  await messagesOf(pageA).getByText(/ connected$/).first().waitFor();

  await send(pageA, "hello from the laptop");
  await waitText(pageB, "hello from the laptop");
  // Screen readers hear it through the live region.
  await pageB.waitForFunction(() => document.querySelector('[data-testid="live"]')?.textContent === "Laptop: hello from the laptop");
  const fromA = messagesOf(pageB).locator("li.msg", { hasText: "hello from the laptop" });
  expect(await fromA.locator(".who").textContent()).toBe("Laptop");
  expect(await fromA.locator("time").getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);

  await send(pageB, "reply from the phone");
  await waitText(pageA, "reply from the phone");
  const own = messagesOf(pageB).locator("li.msg", { hasText: "reply from the phone" });
  expect(await own.locator(".who").textContent()).toBe("this device");
  expect(await messagesOf(pageA).locator("li.msg", { hasText: "reply from the phone" }).locator(".who").textContent()).toMatch(/^device /);

  await lib.setDisplayName("Bot");
  await pageA.getByTestId("devices").getByText("Bot").waitFor();
  await lib.send("beep from the bot");
  await waitText(pageA, "beep from the bot");
  await waitText(pageB, "beep from the bot");
  expect(await messagesOf(pageA).locator("li.msg", { hasText: "beep from the bot" }).locator(".who").textContent()).toBe("Bot");
  expect(seen.map((m) => m.content)).toEqual(["hello from the laptop", "reply from the phone", "beep from the bot"]);

  lib.close();
  // The leave line names the device as its join line did (its short label), and its name.
  const botLabel = (await messagesOf(pageA).locator("li.msg", { hasText: "beep from the bot" }).locator(".who").textContent())!;
  await messagesOf(pageA).getByText(/^Bot \(device \w{4}\) disconnected$/).waitFor();
  await messagesOf(pageB).getByText(/^Bot \(device \w{4}\) disconnected$/).waitFor();
  expect(botLabel).toBe("Bot");
  await devices(pageA).nth(2).waitFor({ state: "detached" });
  await screenshot(pageA, "chat-desktop");
  await screenshot(pageB, "chat-375-dark");
}, SLOW);

test("an HTML and script payload is shown as literal text and runs nothing", async () => {
  const payload = `<img src=x onerror=alert(1)><script>window.__x=1</script>`;
  await send(pageA, payload);
  await waitText(pageA, payload);
  await waitText(pageB, payload);
  for (const page of [pageA, pageB]) {
    expect(await messagesOf(page).locator("img, script").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __x?: number }).__x)).toBeUndefined();
  }
  await send(pageA, "see https://example.com/a?b=1, and javascript:alert(1)");
  const item = messagesOf(pageB).locator("li.msg", { hasText: "see https://example.com" });
  await item.waitFor();
  const link = item.locator("a");
  expect(await link.count()).toBe(1);
  expect(await link.getAttribute("href")).toBe("https://example.com/a?b=1");
  expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
  expect(await link.getAttribute("target")).toBe("_blank");
  expect([...errors, ...errorsB]).toEqual([]);
}, SLOW);

test("Shift+Enter makes a new line, and the counter counts code points up to the server's MAX_MESSAGE_LENGTH", async () => {
  const box = pageA.getByRole("textbox", { name: "Message" });
  await box.fill("line one");
  await box.press("Shift+Enter");
  await box.type("line two");
  expect(await box.inputValue()).toBe("line one\nline two");
  await box.press("Enter");
  const twoLines = messagesOf(pageB).locator("li.msg", { hasText: "line two" }).locator(".body");
  await twoLines.waitFor();
  expect(await twoLines.innerText()).toBe("line one\nline two");

  await box.fill("😀".repeat(4090));
  expect(await pageA.getByTestId("counter").textContent()).toBe("10 left");
  await box.fill("😀".repeat(4101));
  expect(await pageA.getByTestId("counter").textContent()).toBe("1 over the limit");
  expect(await pageA.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
  await box.fill("");
}, SLOW);

test("a reload keeps the history, in order, each message once", async () => {
  const before = await shownMessages(pageA);
  await pageA.reload();
  await waitConnected(pageA);
  await waitText(pageA, "hello from the laptop");
  expect(await shownMessages(pageA)).toEqual(before);
  // The name is this tab's, so it comes back after the reload.
  await pageA.getByTestId("devices").getByText("Laptop").waitFor();
  await pageB.getByTestId("devices").getByText("Laptop").waitFor();
}, SLOW);

test("clearing the name goes back to a connection label everywhere", async () => {
  await pageA.getByRole("button", { name: "Clear" }).click();
  await pageB.getByTestId("devices").getByText("Laptop").waitFor({ state: "detached" });
  // Tab A learns of the clear from its ack, which may land after tab B's notice.
  await pageA.getByRole("button", { name: "Clear" }).waitFor({ state: "detached" });
  expect(await pageA.getByLabel("Name for this device").inputValue()).toBe("");
  await send(pageA, "nameless now");
  await waitText(pageB, "nameless now");
  const who = await messagesOf(pageB).locator("li.msg", { hasText: "nameless now" }).locator(".who").textContent();
  expect(who).toMatch(/^device \w{4}$/);
  // Messages keep the name they were sent with.
  expect(await messagesOf(pageB).locator("li.msg", { hasText: "hello from the laptop" }).locator(".who").textContent()).toBe("Laptop");
}, SLOW);

test("a refused send shows as failed, and Retry sends it once", async () => {
  // MESSAGE_RATE_LIMIT (50 per 10 s per connection): the 51st is refused.
  const box = pageB.getByRole("textbox", { name: "Message" });
  for (let i = 1; i <= 51; i++) {
    await box.fill(`burst ${i}`);
    await box.press("Enter");
  }
  // Earlier tests' messages from this tab count too, so one or a few are refused.
  const failed = pageB.locator('li.outgoing[data-status="failed"]');
  await failed.first().waitFor();
  expect(await failed.first().textContent()).toMatch(/Not sent\. Sending too fast/);
  await pageB.getByText("burst 51", { exact: true }).waitFor();
  await screenshot(pageB, "chat-failed-375-dark");
  await pageB.waitForTimeout(10_500);
  while ((await failed.count()) > 0) {
    await failed.first().getByRole("button", { name: "Retry" }).click();
    await pageB.waitForTimeout(100);
  }
  await pageB.locator("li.outgoing").first().waitFor({ state: "detached" });
  await waitText(pageA, "burst 51");
  const texts = await shownMessages(pageA);
  expect(texts.filter((t) => t.startsWith("burst ")).length).toBe(51);
}, SLOW);

test("log out ends only this session", async () => {
  const { context } = await newContext(browser);
  const page = await signedInPage(server, context, "alice@example.com");
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  expect(await page.getByTestId("signin-notice").textContent()).toBe("You are logged out.");
  await page.reload();
  await page.getByLabel("Email address").waitFor();
  await send(pageA, "still here");
  await waitText(pageB, "still here");
  await context.close();
}, SLOW);

test("log out everywhere asks first, then ends the other tab's session too", async () => {
  await pageB.locator("details.side").evaluate((d) => ((d as HTMLDetailsElement).open = true));
  await pageB.getByRole("button", { name: "Log out everywhere" }).click();
  const dialog = pageB.getByRole("dialog", { name: "Log out everywhere?" });
  await dialog.waitFor();
  // Cancel is the default: Escape (or Cancel) keeps every session.
  expect(await pageB.evaluate(() => document.activeElement?.textContent?.trim())).toBe("Cancel");
  await pageB.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  await waitConnected(pageA);
  await pageB.getByRole("button", { name: "Log out everywhere" }).click();
  await dialog.getByRole("button", { name: "Log out everywhere" }).click();
  await pageB.getByLabel("Email address").waitFor();
  await pageA.getByLabel("Email address").waitFor();
  expect(await pageA.getByTestId("signin-notice").textContent()).toMatch(/session ended/i);
  await pageA.reload();
  await pageA.getByLabel("Email address").waitFor();
}, SLOW);
