/**
 * The web app's Tokens page (PROTOCOL.md section 6, issue 15): create a token (shown once,
 * with Copy and a ready curl line), use it from a script, see its last use, revoke it; in
 * a modal dialog with labels, reachable by keyboard, with no axe violations.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { TestServer } from "../helpers/server";
import { axeViolations } from "./axe";
import { PHONE_390, SLOW, newContext, signedInPage, startServerAndBrowser, stopServerAndBrowser } from "./browser";

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];

beforeAll(async () => {
  ({ server, browser } = await startServerAndBrowser());
  ({ context, errors } = await newContext(browser));
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  page = await signedInPage(server, context, "alice@example.com");
}, SLOW);
afterAll(() => stopServerAndBrowser(server, browser), SLOW);

const post = (token: string, text: string) =>
  fetch(`${server.url}/api/messages`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: text });

test("create (shown once, Copy, a curl line that works), last use, revoke; accessible", async () => {
  await page.getByRole("button", { name: "Access tokens" }).click();
  const dialog = page.getByRole("dialog", { name: "Access tokens" });
  await dialog.waitFor();
  await dialog.getByText("No tokens yet.").waitFor();
  await dialog.getByLabel("Name").fill("backup script");
  await dialog.getByLabel("May").selectOption("send");
  await dialog.getByRole("button", { name: "Create token" }).click();
  const secretBox = dialog.getByRole("textbox", { name: "The new token" });
  await secretBox.waitFor();
  const token = await secretBox.inputValue();
  expect(token).toMatch(/^rz_[A-Za-z0-9_-]{43}$/);
  await dialog.getByRole("button", { name: "Copy token" }).click();
  await dialog.getByRole("button", { name: "token copied" }).waitFor();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  const curl = await dialog.getByTestId("curl-line").textContent();
  expect(curl).toBe(`curl -H "Authorization: Bearer ${token}" -d "hello from a script" ${server.url.replace("127.0.0.1", new URL(page.url()).hostname)}/api/messages`);
  expect(await axeViolations(page)).toEqual([]);

  // The token works from a script; its message shows in the timeline.
  expect((await post(token, "hello from a script")).status).toBe(201);
  await page.getByTestId("messages").locator("li.msg", { hasText: "hello from a script" }).waitFor();

  // Shown once: after Done (or closing), the secret is gone; the list shows its last use.
  await dialog.getByRole("button", { name: "Done" }).click();
  expect(await dialog.getByRole("textbox", { name: "The new token" }).count()).toBe(0);
  await page.keyboard.press("Escape");
  await page.getByRole("button", { name: "Access tokens" }).click();
  const row = dialog.getByTestId("token-row");
  await row.waitFor();
  expect(await row.getByRole("rowheader").textContent()).toBe("backup script");
  expect(await row.locator("td").nth(1).textContent()).not.toBe("never");
  expect(await page.content()).not.toContain(token);

  await row.getByRole("button", { name: "Revoke backup script" }).click();
  await page.getByRole("dialog", { name: "Revoke this token?" }).getByRole("button", { name: "Revoke" }).click();
  await dialog.getByText("No tokens yet.").waitFor();
  expect((await post(token, "after revoke")).status).toBe(401);
  expect(errors).toEqual([]);
}, SLOW);

test("on a phone (390 px) the token list fits inside its dialog", async () => {
  const { context: phone } = await newContext(browser, { viewport: PHONE_390 });
  const small = await signedInPage(server, phone, "bob@example.com");
  for (const name of ["nightly backup of the notes", "ci"]) {
    const made = await fetch(`${server.url}/auth/tokens`, {
      method: "POST",
      headers: { cookie: (await phone.cookies()).map((c) => `${c.name}=${c.value}`).join("; "), "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ name, scope: "send", expires_in_days: 30 }),
    });
    expect(made.status).toBe(201);
  }
  await small.locator("details.side > summary").click();
  await small.getByRole("button", { name: "Access tokens" }).click();
  const dialog = small.getByRole("dialog", { name: "Access tokens" });
  await dialog.getByTestId("token-row").nth(1).waitFor();
  const edges = await dialog.evaluate((el) => {
    const table = el.querySelector("table")!.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    return { tableRight: Math.round(table.right), dialogRight: Math.round(box.right), scrolls: el.scrollWidth > el.clientWidth };
  });
  expect(edges.tableRight).toBeLessThanOrEqual(edges.dialogRight);
  expect(edges.scrolls).toBe(false);
  await phone.close();
}, SLOW);
