/**
 * The server restarts mid-session: the tab says it is reconnecting, then catches up with
 * what was sent meanwhile, and shows every message exactly once, in order.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import type { TestServer } from "../helpers/server";
import { PHONE, libraryClient, newContext, screenshot, shownMessages, signedInPage, waitConnected, SLOW, startServerAndBrowser, stopServerAndBrowser } from "./browser";

let server: TestServer;
let browser: Browser;

beforeAll(async () => ({ server, browser } = await startServerAndBrowser()), SLOW);
afterAll(() => stopServerAndBrowser(server, browser), SLOW);

test("a restart shows reconnecting, then recovers with nothing lost or doubled", async () => {
  const { context, errors } = await newContext(browser, { viewport: PHONE });
  const page = await signedInPage(server, context, "alice@example.com");
  await page.locator("details.side > summary").click();
  await page.getByLabel("Name for this device").fill("Phone");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("button", { name: "Clear" }).waitFor();
  await page.locator("details.side > summary").click();
  const box = page.getByRole("textbox", { name: "Message" });
  for (const text of ["before 1", "before 2"]) {
    await box.fill(text);
    await box.press("Enter");
    await page.getByTestId("messages").getByText(text, { exact: true }).waitFor();
  }
  const indicator = page.getByTestId("connection");

  await server.stop();
  await page.locator('[data-testid="connection"]:not([data-status="connected"])').waitFor();
  expect(await indicator.textContent()).toMatch(/Reconnecting|Offline/);
  // Typed while the server is away: shown as pending, sent once it is back.
  await box.fill("while down");
  await box.press("Enter");
  await page.locator('li.outgoing[data-status="sending"]').waitFor();
  await screenshot(page, "chat-reconnecting-375");

  await server.start();
  const lib = await libraryClient(server, "alice@example.com");
  await lib.send("after restart");
  lib.close();

  await waitConnected(page, 40000);
  await page.getByTestId("messages").getByText("after restart", { exact: true }).waitFor({ timeout: 20000 });
  await page.locator("li.outgoing").waitFor({ state: "detached" });
  const shown = await shownMessages(page);
  expect(shown.filter((t) => t === "while down")).toHaveLength(1);
  expect(shown).toEqual(["before 1", "before 2", ...orderOf(shown, ["while down", "after restart"])]);
  const seqs = await page.locator("li.msg[data-seq]").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-seq"))));
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
  // The name belongs to the connection; the new connection got it back before sending.
  expect(await page.locator("li.msg", { hasText: "while down" }).locator(".who").textContent()).toBe("Phone");
  // The tab's messages from before the restart (an earlier connection) are still its own.
  expect(await page.locator("li.msg", { hasText: "before 1" }).locator(".who").textContent()).toBe("Phone");
  expect(await page.locator("li.msg", { hasText: "before 1" }).locator(".tag").textContent()).toBe("this device");

  // After a reload, the server's history says the same.
  await page.reload();
  await waitConnected(page);
  await page.getByTestId("messages").getByText("after restart", { exact: true }).waitFor();
  expect(await shownMessages(page)).toEqual(shown);
  expect(errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e))).toEqual([]);
  await context.close();
}, SLOW);

/** The two late messages may be stored in either order; keep the order the page shows. */
function orderOf(shown: string[], late: string[]): string[] {
  return shown.filter((t) => late.includes(t));
}
