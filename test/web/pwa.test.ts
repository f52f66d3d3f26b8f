/**
 * The installable app (issue 17): the manifest, the icons and the service worker as the
 * server serves them, Chromium's own installability verdict (DevTools Protocol), the app
 * shell offline after a first visit, and the service worker's `push` handler showing a
 * notification for a push delivered through the DevTools Protocol
 * (`ServiceWorker.deliverPushMessage`), as a push service would deliver it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { BrowserContext, CDPSession, Page } from "playwright-core";
import { ROOT, tempDir, type TestServer } from "../helpers/server";
import { until } from "../helpers/wait";
import { SLOW, launchPersistent, startWebServer } from "./browser";

let server: TestServer;
let context: BrowserContext;

beforeAll(async () => {
  server = await startWebServer();
  context = await launchPersistent(tempDir("roomz-chromium-profile-"));
  await context.grantPermissions(["notifications"], { origin: server.url });
});

afterAll(async () => {
  await context?.close();
  await server?.stop();
});

/** Opens the app and waits until the service worker controls the page. */
async function controlledPage(): Promise<Page> {
  const page = await context.newPage();
  await page.goto(server.url);
  await page.evaluate(() => navigator.serviceWorker.ready);
  if (!(await page.evaluate(() => navigator.serviceWorker.controller !== null))) await page.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${server.url}/sw.js`);
  return page;
}

async function cdpCall<T>(session: CDPSession, method: string, params: object = {}): Promise<T> {
  return (await session.send(method as never, params as never)) as T;
}

function distFiles(dir = join(ROOT, "web/dist")): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? distFiles(join(dir, name)) : [`/${relative(join(ROOT, "web/dist"), join(dir, name))}`]));
}

test("the server serves the manifest, the icons and sw.js with their types; sw.js is never cached for long", async () => {
  const manifest = await fetch(`${server.url}/manifest.webmanifest`);
  expect(manifest.headers.get("content-type")).toBe("application/manifest+json");
  const members = await manifest.json();
  for (const icon of members.icons) {
    const res = await fetch(`${server.url}${icon.src}`);
    expect(`${icon.src} ${res.status} ${res.headers.get("content-type")}`).toBe(`${icon.src} 200 ${icon.type}`);
  }
  const worker = await fetch(`${server.url}/sw.js`);
  expect(worker.headers.get("content-type")).toMatch(/^text\/javascript/);
  expect(worker.headers.get("cache-control")).toBe("no-cache");
  // The precache list is the build's own file list (made by the Vite plugin).
  const shell = JSON.parse(/const SHELL = (\[[^\]]*\]);/.exec(await worker.text())![1]) as string[];
  const expected = ["/", ...distFiles().filter((f) => f !== "/index.html" && f !== "/sw.js" && !/^\/icons\/.*\.svg$/.test(f))].sort();
  expect(shell).toEqual(expected);
});

test("installable: a manifest with the required members, a service worker controlling the page, no installability errors", async () => {
  const page = await controlledPage();
  const cdp = await context.newCDPSession(page);
  const app = await cdpCall<{ url: string; errors: unknown[]; data: string }>(cdp, "Page.getAppManifest");
  expect(app.url).toBe(`${server.url}/manifest.webmanifest`);
  expect(app.errors).toEqual([]);
  const manifest = JSON.parse(app.data);
  expect(manifest).toMatchObject({ name: "Roomz", short_name: "Roomz", start_url: "/", display: "standalone" });
  expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/);
  expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/);
  const icons = manifest.icons.map((i: { sizes: string; purpose: string }) => `${i.sizes} ${i.purpose}`);
  expect(icons).toEqual(expect.arrayContaining(["192x192 any", "512x512 any", "512x512 maskable"]));
  expect(await page.locator('meta[name="theme-color"]').getAttribute("content")).toBe(manifest.theme_color);
  expect(await cdpCall(cdp, "Page.getInstallabilityErrors")).toEqual({ installabilityErrors: [] });
  await page.close();
}, SLOW);

test("after a first visit the app shell loads offline; nothing of /api or /auth is in its cache", async () => {
  const first = await controlledPage();
  await first.getByLabel("Email address").waitFor();
  await context.setOffline(true);
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/some/app/route`);
    // The app ran from the cache: it says it can't reach the server, in its own words.
    await page.getByText("Can't reach the Roomz server").waitFor();
    const cached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(new URL(r.url).pathname);
      return urls;
    });
    expect(cached).toContain("/");
    expect(cached.filter((path) => /^\/(api|auth|ws|files)(\/|$)/.test(path))).toEqual([]);
    await page.close();
  } finally {
    await context.setOffline(false);
    await first.close();
  }
}, SLOW);

test("a push delivered to the service worker shows a notification: the sender or Roomz, the preview or the file names, one tag per message", async () => {
  const page = await controlledPage();
  // No Roomz window in front while the pushes arrive (a tab in front already shows messages).
  const blank = await context.newPage();
  await page.close();
  const cdp = await context.newCDPSession(blank);
  const registrations: Array<{ registrationId: string; scopeURL: string }> = [];
  cdp.on("ServiceWorker.workerRegistrationUpdated" as never, (event: { registrations: typeof registrations }) => registrations.push(...event.registrations));
  await cdpCall(cdp, "ServiceWorker.enable");
  const { registrationId } = await until(() => registrations.find((r) => r.scopeURL === `${server.url}/`) ?? false, "the service worker's registration", { timeoutMs: 10_000, everyMs: 50 });
  for (const payload of [
    { seq: 41, sender: "Laptop", preview: "Lunch at one?", files: [] },
    { seq: 42, sender: null, preview: "", files: ["plan.pdf", "photo.jpg"] },
  ])
    await cdpCall(cdp, "ServiceWorker.deliverPushMessage", { origin: `${server.url}/`, registrationId, data: JSON.stringify(payload) });
  const viewer = await context.newPage();
  await viewer.goto(server.url);
  const shown = await viewer.waitForFunction(async () => {
    const list = await (await navigator.serviceWorker.ready).getNotifications();
    return list.length >= 2 ? list.map((n) => ({ title: n.title, body: n.body, tag: n.tag })) : false;
  });
  expect(((await shown.jsonValue()) as Array<{ title: string; body: string; tag: string }>).sort((a, b) => a.tag.localeCompare(b.tag))).toEqual([
    { title: "Laptop", body: "Lunch at one?", tag: "roomz-41" },
    { title: "Roomz", body: "plan.pdf, photo.jpg", tag: "roomz-42" },
  ]);
  await viewer.close();
  await blank.close();
}, SLOW);

test("a new service worker takes over at once and leaves only its own shell cache", async () => {
  const page = await controlledPage();
  // An older build's shell, and this worker gone, as after a deploy of a new build.
  await page.evaluate(async () => {
    await (await caches.open("roomz-shell-0000000000000000")).put("/", new Response("old shell"));
    await (await navigator.serviceWorker.ready).unregister();
  });
  await page.reload();
  // Activated: the new worker's activate step (which drops other shells) has finished.
  await page.waitForFunction(async () => (await navigator.serviceWorker.ready).active?.state === "activated");
  await page.reload();
  const version = /const VERSION = "([0-9a-f]+)";/.exec(await (await fetch(`${server.url}/sw.js`)).text())![1];
  expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${server.url}/sw.js`);
  expect(await page.evaluate(() => caches.keys())).toEqual([`roomz-shell-${version}`]);
  await page.close();
}, SLOW);
