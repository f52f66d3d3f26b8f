/**
 * Attachments in Chromium (PROTOCOL.md section 7, issue 16): an uploaded HTML or SVG file
 * opened from its link runs no script in Roomz's origin; the web app attaches by button,
 * paste and drag-and-drop with a progress bar, shows an image inline (sized before it
 * loads) and other files as cards whose link downloads them. Screenshots: phone and desktop.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { signIn, type TestServer } from "../helpers/server";
import { auth, png, sha256, uploaded } from "../files/support";
import { PHONE_390, SLOW, newContext, screenshot, signedInPage, startServerAndBrowser, stopServerAndBrowser } from "./browser";

let server: TestServer;
let browser: Browser;
beforeAll(async () => ({ server, browser } = await startServerAndBrowser()), SLOW);
afterAll(() => stopServerAndBrowser(server, browser), SLOW);

/** A script that, if it ever ran in Roomz's origin, would leave marks the test looks for. */
const ATTACK = `fetch("/api/messages",{method:"POST",headers:{"content-type":"text/plain"},body:"pwned"});try{localStorage.setItem("pwned","1")}catch(e){};document.title="pwned";`;

test("an uploaded HTML page and SVG image opened from their links run no script in Roomz's origin", async () => {
  const jwt = await signIn(server, "dave@example.com");
  const html = await uploaded(server, jwt, `<!doctype html><title>x</title><script>${ATTACK}</script><h1>hi</h1>`, "page.html", "text/html");
  const svg = await uploaded(server, jwt, `<svg xmlns="http://www.w3.org/2000/svg"><script>${ATTACK}</script></svg>`, "evil.svg", "image/svg+xml");
  const disguised = await uploaded(server, jwt, `<html><script>${ATTACK}</script></html>`, "fake.png", "image/png");
  const { context } = await newContext(browser, { acceptDownloads: true });
  const page = await signedInPage(server, context, "dave@example.com");
  for (const file of [html, svg, disguised]) {
    const url = `${server.url}/files/${file.id}/${file.name}`;
    // As a top-level page (a click on its link): a download, or an inert document.
    const tab = await context.newPage();
    await tab.goto(url).catch(() => {}); // "Download is starting" for attachments
    await tab.waitForTimeout(300);
    expect(await tab.title()).not.toBe("pwned");
    await tab.close();
    // Framed by the app itself: sandboxed, so no script runs there either.
    await page.evaluate((src) => {
      const frame = document.createElement("iframe");
      frame.src = src;
      document.body.append(frame);
    }, url);
  }
  await page.waitForTimeout(500);
  expect(await page.evaluate(() => localStorage.getItem("pwned"))).toBeNull();
  const history = await (await fetch(`${server.url}/api/messages?limit=50`, { headers: auth(jwt) })).json();
  expect(history.messages.map((m: { content: string }) => m.content)).not.toContain("pwned");
  await context.close();
}, SLOW);

/** A File made in the page from bytes, for paste and drop events. */
async function dispatchFiles(page: Page, selector: string, kind: "paste" | "drop", name: string, type: string, bytes: number[]) {
  await page.evaluate(
    ({ selector, kind, name, type, bytes }) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], name, { type }));
      const target = document.querySelector(selector)!;
      if (kind === "paste") target.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
      else {
        target.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
        target.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
      }
    },
    { selector, kind, name, type, bytes },
  );
}

test("over ten files at once: ten are attached and a note says how many were left out", async () => {
  const { context } = await newContext(browser);
  const page = await signedInPage(server, context, "bob@example.com");
  const files = Array.from({ length: 12 }, (_, i) => ({ name: `f${i + 1}.txt`, mimeType: "text/plain", buffer: Buffer.from(`file ${i + 1}`) }));
  await page.getByLabel("Attach files").setInputFiles(files);
  await page.getByRole("status").getByText("A message takes at most 10 files; 2 were left out.").waitFor();
  expect(await page.locator(".upload").count()).toBe(10);
  await page.getByRole("button", { name: "Remove f1.txt" }).click();
  await page.locator(".upload-note").waitFor({ state: "detached" });
  await context.close();
}, SLOW);

test("attach, paste and drop files with a progress bar; an inline image and a download card; phone and desktop", async () => {
  const { context, errors } = await newContext(browser, { acceptDownloads: true });
  const page = await signedInPage(server, context, "alice@example.com");
  // A slow uplink, so the progress bar is seen moving.
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 400 * 1024 });
  const big = new Uint8Array(1_200_000).map((_, i) => i % 253);
  await page.getByLabel("Attach files").setInputFiles({ name: "report.bin", mimeType: "application/octet-stream", buffer: Buffer.from(big) });
  const bar = page.getByRole("progressbar", { name: "Uploading report.bin" });
  await bar.waitFor();
  await page.waitForFunction(() => Number(document.querySelector("progress")?.getAttribute("value") ?? 0) > 0);
  await expect(page.getByRole("button", { name: "Send" }).isDisabled()).resolves.toBe(true);
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.locator('.upload[data-status="done"]').first().waitFor();

  await dispatchFiles(page, "#composer-input", "paste", "pasted.png", "image/png", [...png(64, 48)]);
  // Dropped on the timeline, not the composer: anywhere on the page attaches (the browser would open it otherwise).
  await dispatchFiles(page, ".timeline", "drop", "notes.txt", "text/plain", [...new TextEncoder().encode("dropped text\n")]);
  await page.waitForFunction(() => document.querySelectorAll('.upload[data-status="done"]').length === 3);
  await page.getByLabel("Message").fill("three files");
  await page.getByRole("button", { name: "Send" }).click();

  const message = page.locator("li.msg[data-seq]", { hasText: "three files" });
  await message.waitFor();
  const image = message.locator("img.file-image");
  await image.waitFor();
  expect(await image.getAttribute("width")).toBe("64");
  expect(await image.getAttribute("height")).toBe("48");
  expect(await image.getAttribute("loading")).toBe("lazy");
  await page.waitForFunction(() => (document.querySelector("img.file-image") as HTMLImageElement | null)?.naturalWidth === 64);
  const cards = message.locator("a.file");
  expect(await cards.count()).toBe(2);
  expect(await cards.first().textContent()).toContain("report.bin");
  const [download] = await Promise.all([page.waitForEvent("download"), cards.first().click()]);
  expect(download.suggestedFilename()).toBe("report.bin");
  expect(sha256(new Uint8Array(readFileSync((await download.path())!)))).toBe(sha256(big));

  await screenshot(page, "attachments-desktop");
  await page.setViewportSize(PHONE_390);
  await page.getByLabel("Attach files").setInputFiles({ name: "holiday photo with a long name.png", mimeType: "image/png", buffer: Buffer.from(png(300, 200)) });
  await page.locator('.upload[data-status="done"]').waitFor();
  await message.scrollIntoViewIfNeeded();
  await screenshot(page, "attachments-phone");
  expect(errors).toEqual([]);
  await context.close();
}, SLOW);
