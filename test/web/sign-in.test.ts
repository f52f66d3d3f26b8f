/** The sign-in page in a real browser: the magic-link flow, its errors, and the CSP. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import type { TestServer } from "../helpers/server";
import { PHONE, confirm, magicLink, newContext, screenshot, waitConnected, SLOW, startServerAndBrowser, stopServerAndBrowser } from "./browser";

let server: TestServer;
let browser: Browser;

beforeAll(async () => ({ server, browser } = await startServerAndBrowser()), SLOW);
afterAll(() => stopServerAndBrowser(server, browser), SLOW);

test("the app is served with a strict CSP and runs under it", async () => {
  const { context, errors } = await newContext(browser);
  const page = await context.newPage();
  const response = await page.goto(server.url);
  expect(response!.headers()["content-security-policy"]).toContain("script-src 'self'");
  await page.getByLabel("Email address").waitFor();
  const html = await (await fetch(server.url)).text();
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  expect(html).not.toMatch(/<style|\sstyle=/);
  expect(errors).toEqual([]);
  await context.close();
}, SLOW);

test("signing in through the console magic link and the confirm page opens the chat", async () => {
  const { context, errors } = await newContext(browser);
  const page = await context.newPage();
  await page.goto(server.url);
  await screenshot(page, "signin-desktop");
  await page.getByLabel("Email address").fill("  Alice@Example.com ");
  const from = server.output.length;
  await page.getByLabel("Email address").press("Enter");
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  expect(await page.getByTestId("check-email").textContent()).toContain("Alice@Example.com");
  await screenshot(page, "signin-sent-desktop");

  const link = await magicLink(server, "alice@example.com", from);
  expect(link.startsWith(`${server.url}/auth/verify?token=`)).toBe(true);
  await page.goto(link);
  expect(await page.textContent("body")).toContain("alice@example.com");
  await confirm(page, server);
  await waitConnected(page);
  expect(await page.locator(".account").textContent()).toContain("alice@example.com");
  expect(await page.getByRole("textbox", { name: "Message" }).count()).toBe(1);

  // The session is a cookie: a new tab of the same context is signed in at once.
  const second = await context.newPage();
  await second.goto(server.url);
  await waitConnected(second);
  expect(errors).toEqual([]);
  await context.close();
}, SLOW);

test("from 'check your email' a new link can be sent, or another address used", async () => {
  const { context } = await newContext(browser);
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByLabel("Email address").fill("carol@example.com");
  await page.getByRole("button", { name: "Send sign-in link" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  const from = server.output.length;
  await page.getByRole("button", { name: "Send a new link" }).click();
  await magicLink(server, "carol@example.com", from);
  await page.getByRole("button", { name: "Send a new link" }).waitFor();
  await page.getByRole("button", { name: "Use a different address" }).click();
  expect(await page.getByLabel("Email address").inputValue()).toBe("carol@example.com");
  await context.close();
}, SLOW);

test("?error= codes are explained, the address bar is cleaned, and the form is offered again", async () => {
  const { context } = await newContext(browser);
  const page = await context.newPage();
  const expected: Record<string, RegExp> = {
    invalid_token: /not valid or was already used/,
    expired_token: /expired/,
    not_allowed: /not allowed on this Roomz server/,
  };
  for (const [code, sentence] of Object.entries(expected)) {
    await page.goto(`${server.url}/?error=${code}`);
    const notice = page.getByTestId("signin-notice");
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(sentence);
    expect(page.url()).toBe(`${server.url}/`);
    expect(await page.getByRole("button", { name: "Send sign-in link" }).count()).toBe(1);
    if (code === "expired_token") await screenshot(page, "signin-error-desktop");
  }
  await page.setViewportSize(PHONE);
  await screenshot(page, "signin-error-375");
  await context.close();
}, SLOW);

test("a used link lands back on the sign-in page with its explanation", async () => {
  const { context } = await newContext(browser);
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByLabel("Email address").fill("bob@example.com");
  const from = server.output.length;
  await page.getByRole("button", { name: "Send sign-in link" }).click();
  const link = await magicLink(server, "bob@example.com", from);
  const token = new URL(link).searchParams.get("token")!;
  // Someone (or something) used the token first.
  const used = await fetch(`${server.url}/auth/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  expect(used.status).toBe(200);
  await page.goto(link);
  // The confirm page already knows the link can't be used, and links back to the form.
  await page.getByRole("link").click();
  await page.getByLabel("Email address").waitFor();
  await context.close();
}, SLOW);

test("a refused address and rate limiting are shown with what to do", async () => {
  const { context } = await newContext(browser, { viewport: PHONE });
  const page = await context.newPage();
  await page.goto(server.url);
  await screenshot(page, "signin-375");
  await page.getByLabel("Email address").fill("not an address");
  await page.getByRole("button", { name: "Send sign-in link" }).click();
  expect(await page.getByRole("alert").first().textContent()).toMatch(/doesn't look like an email address/);

  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${server.url}/auth/request-magic-link`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "dave@example.com" }),
    });
    expect(res.status).toBe(200);
  }
  await page.getByLabel("Email address").fill("dave@example.com");
  await page.getByRole("button", { name: "Send sign-in link" }).click();
  const alert = page.locator("#signin-error");
  await alert.waitFor();
  expect(await alert.textContent()).toMatch(/Too many sign-in links were requested\. Try again in \d+ (s|min|h)\./);
  await screenshot(page, "signin-rate-limited-375");
  await context.close();
}, SLOW);
