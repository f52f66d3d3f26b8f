/**
 * Every page, on a 390 px phone and a desktop, light and dark: axe-core finds no
 * violation, and a screenshot of each goes to test/artifacts for a person to look at.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, type TestServer } from "../helpers/server";
import { axeViolations } from "./axe";
import { DESKTOP, PHONE_390, SLOW, libraryClient, newContext, screenshot, signedInPage, startServerAndBrowser, stopServerAndBrowser } from "./browser";

let server: TestServer;
let browser: Browser;

const VARIANTS = [
  { name: "390-light", viewport: PHONE_390, colorScheme: "light" as const, isMobile: true, hasTouch: true },
  { name: "390-dark", viewport: PHONE_390, colorScheme: "dark" as const, isMobile: true, hasTouch: true },
  { name: "desktop-light", viewport: DESKTOP, colorScheme: "light" as const },
  { name: "desktop-dark", viewport: DESKTOP, colorScheme: "dark" as const },
];

const CONVERSATION = [
  "Shopping list for **Saturday**:\n- oat milk\n- _ripe_ avocados\n- coffee beans",
  "The deploy command, for next time:\n```sh\nrsync -av dist/ host:/srv/roomz/\nssh host systemctl restart roomz\n```",
  "> Simplicity is prerequisite for reliability.\n\n— Dijkstra",
  "Article to read: www.example.com/long-read and mail mailto:me@example.com",
  "Use `git rebase main` before landing",
];

beforeAll(async () => {
  ({ server, browser } = await startServerAndBrowser());
  const phone = await libraryClient(server, "alice@example.com");
  await phone.setDisplayName("Phone");
  for (const text of CONVERSATION.slice(0, 3)) await phone.send(text);
  await phone.sendFile(readFileSync(join(ROOT, "web/public/icons/icon-192.png")), { name: "roomz-icon.png", type: "image/png", caption: "The new icon" });
  await phone.sendFile(new TextEncoder().encode("a,b\n1,2\n"), { name: "budget.csv", type: "text/csv" });
  phone.close();
}, SLOW);
afterAll(() => stopServerAndBrowser(server, browser), SLOW);

async function expectNoViolations(page: Page, where: string) {
  const violations = await axeViolations(page);
  expect({ where, violations }).toEqual({ where, violations: [] });
}

for (const v of VARIANTS) {
  test(`sign-in page, ${v.name}: no axe violations`, async () => {
    const { context } = await newContext(browser, v);
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByLabel("Email address").waitFor();
    await expectNoViolations(page, `sign-in ${v.name}`);
    await screenshot(page, `signin-${v.name}`);
    await page.getByRole("button", { name: "Send sign-in link" }).click();
    await page.locator("#signin-error").waitFor();
    await expectNoViolations(page, `sign-in error ${v.name}`);
    await context.close();
  }, SLOW);

  test(`chat page, ${v.name}: no axe violations`, async () => {
    const { context } = await newContext(browser, v);
    const page = await signedInPage(server, context, "alice@example.com");
    for (const text of CONVERSATION.slice(3)) {
      const box = page.getByRole("textbox", { name: "Message" });
      await box.fill(text);
      await page.getByRole("button", { name: "Send" }).click();
    }
    await page.locator("li.msg[data-seq]").nth(CONVERSATION.length + 1).waitFor();
    await page.waitForTimeout(200);
    await expectNoViolations(page, `chat ${v.name}`);
    await screenshot(page, `chat-${v.name}`);
    if (v.viewport === PHONE_390) {
      await page.locator("details.side > summary").click();
      await expectNoViolations(page, `devices panel ${v.name}`);
      await screenshot(page, `chat-devices-${v.name}`);
      await page.locator("details.side > summary").click();
    }
    // Attachments waiting in the composer (issue 16's part of the page).
    await page.getByLabel("Attach files").setInputFiles([
      { name: "roomz-icon.png", mimeType: "image/png", buffer: readFileSync(join(ROOT, "web/public/icons/icon-192.png")) },
      { name: "budget.csv", mimeType: "text/csv", buffer: Buffer.from("a,b\n1,2\n") },
    ]);
    await page.locator(".composer").getByText("budget.csv").waitFor();
    await page.waitForTimeout(300);
    await expectNoViolations(page, `attachments in the composer ${v.name}`);
    await screenshot(page, `chat-attaching-${v.name}`);
    // The Tokens page (issue 15), from the side panel.
    await page.locator("details.side").evaluate((d) => ((d as HTMLDetailsElement).open = true));
    await page.getByRole("button", { name: "Access tokens" }).click();
    const tokens = page.getByRole("dialog", { name: "Access tokens" });
    await tokens.waitFor();
    await expectNoViolations(page, `tokens page ${v.name}`);
    await screenshot(page, `tokens-${v.name}`);
    await page.keyboard.press("Escape");
    await tokens.waitFor({ state: "hidden" });
    await page.getByText("Go to…").click();
    await expectNoViolations(page, `jump menu ${v.name}`);
    await page.keyboard.press("Escape");
    await page.locator("details.side").evaluate((d) => ((d as HTMLDetailsElement).open = true));
    await page.getByRole("button", { name: "Log out everywhere" }).click();
    await page.getByRole("dialog").waitFor();
    await expectNoViolations(page, `confirm dialog ${v.name}`);
    await screenshot(page, `chat-confirm-${v.name}`);
    await context.close();
  }, SLOW);
}
