/**
 * Two accounts on one browser, one after the other: nothing typed by the first reaches
 * the second's channel or screen. A message queued offline is sent only for the user who
 * typed it; logging out leaves neither the draft nor the device's name behind.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { signIn, type TestServer } from "../helpers/server";
import { SLOW, libraryClient, newContext, queuedOffline, signedInPage, startServerAndBrowser, stopServerAndBrowser, waitConnected } from "./browser";

let server: TestServer;
let browser: Browser;

beforeAll(async () => ({ server, browser } = await startServerAndBrowser()), SLOW);
afterAll(() => stopServerAndBrowser(server, browser), SLOW);

const box = (page: Page) => page.getByRole("textbox", { name: "Message" });

async function contents(email: string): Promise<string[]> {
  const lib = await libraryClient(server, email);
  const page = await lib.history({ limit: 200 });
  lib.close();
  return page.messages.map((m) => m.content);
}

test("a message queued offline whose session then ended is sent for its own user only, never for the next one", async () => {
  const { context } = await newContext(browser);
  const page = await signedInPage(server, context, "alice@example.com");
  const ws = await queuedOffline(page, "alice's offline secret");
  await page.close();

  // Alice's session ends while the message waits; Bob signs in on the same browser.
  await context.clearCookies();
  ws.blocked = false;
  const bob = await signedInPage(server, context, "bob@example.com");
  await box(bob).fill("bob's own");
  await box(bob).press("Enter");
  await bob.getByTestId("messages").locator("li.msg[data-seq]", { hasText: "bob's own" }).waitFor();
  expect(await bob.locator("li.outgoing").count()).toBe(0);
  expect(await contents("bob@example.com")).toEqual(["bob's own"]);
  expect(await bob.getByTestId("messages").textContent()).not.toContain("alice's offline secret");
  await bob.close();

  // Alice comes back: her message goes out, once, in her channel.
  await context.clearCookies();
  const alice = await signedInPage(server, context, "alice@example.com");
  await alice.getByTestId("messages").locator("li.msg[data-seq]", { hasText: "alice's offline secret" }).waitFor();
  expect(await contents("alice@example.com")).toEqual(["alice's offline secret"]);
  expect(await alice.evaluate(() => localStorage.getItem("roomz.outbox"))).toBeNull();
  await context.close();
}, SLOW);

test("logging out leaves neither the draft nor the device's name to whoever signs in next", async () => {
  const { context } = await newContext(browser);
  const carol = await signedInPage(server, context, "carol@example.com");
  await carol.getByLabel("Name for this device").fill("Carol's work laptop");
  await carol.getByRole("button", { name: "Save" }).click();
  await carol.getByRole("button", { name: "Clear" }).waitFor();
  await box(carol).fill("carol's half-typed note");
  const ids = (page: Page) => page.evaluate(() => JSON.parse(sessionStorage.getItem("roomz.connection_ids") ?? "[]") as string[]);
  const carolsIds = await ids(carol);
  expect(carolsIds).toHaveLength(1);
  await carol.getByRole("button", { name: "Log out", exact: true }).click();
  await carol.getByLabel("Email address").waitFor();

  // Dave signs in in the same tab (its sessionStorage holds the device's name and ids).
  await context.addCookies([{ name: "session_token", value: await signIn(server, "dave@example.com"), url: server.url, httpOnly: true, sameSite: "Strict" }]);
  await carol.reload();
  await waitConnected(carol);
  expect(await box(carol).inputValue()).toBe("");
  expect(await carol.getByLabel("Name for this device").inputValue()).toBe("");
  expect(await carol.evaluate(() => sessionStorage.getItem("roomz.display_name"))).toBeNull();
  expect((await ids(carol)).filter((id) => carolsIds.includes(id))).toEqual([]);
  await context.close();
}, SLOW);
