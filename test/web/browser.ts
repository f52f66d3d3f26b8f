/**
 * Browser-test helpers: a headless Chromium (Debian's, driven by playwright-core), a
 * server whose PUBLIC_URL is the address the browser uses (so the magic link, the cookie
 * and the Origin check all agree), and the sign-in flow done the way a person does it.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page, type WebSocketRoute } from "playwright-core";
import { RoomzClient } from "../../src/client/client";
import { ROOT, freePort, signIn, startServer, type TestServer } from "../helpers/server";

export const ARTIFACTS = join(ROOT, "test/artifacts");
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };
/** The phone of issue 17's report. */
export const PHONE_390 = { width: 390, height: 844 };

/** The suite runs `bun run build:web` first; when run alone, build what is missing. */
export function ensureWebBuilt() {
  const index = join(ROOT, "web/dist/index.html");
  const generated = join(ROOT, "src/server/web-assets.generated.ts");
  const run = (cmd: string[]) => {
    const r = Bun.spawnSync(cmd, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  };
  if (!existsSync(index)) run([process.execPath, "run", "build:web"]);
  if (!existsSync(generated) || statSync(generated).mtimeMs < statSync(index).mtimeMs) run([process.execPath, join(ROOT, "web/embed.ts")]);
}

export async function startWebServer(env: Record<string, string> = {}): Promise<TestServer> {
  ensureWebBuilt();
  const port = await freePort();
  return startServer({ port, env: { PUBLIC_URL: `http://127.0.0.1:${port}`, ...env } });
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/**
 * A browser with a profile on disk (a persistent context): not incognito, so Chromium
 * judges installability as for a person's browser (PWA tests).
 */
export function launchPersistent(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    viewport: DESKTOP,
  });
}

/** A context whose pages report every console error and page error into `errors`. */
export async function newContext(browser: Browser, options: BrowserContextOptions = {}) {
  const context = await browser.newContext({ viewport: DESKTOP, ...options });
  const errors: string[] = [];
  context.on("page", (page) => watch(page, errors));
  return { context, errors };
}

/** Per-test time limit for browser tests (a sign-in alone takes a few seconds). */
export const SLOW = 60_000;

/** A web server and a browser for one test file (stopped by `stopServerAndBrowser`). */
export async function startServerAndBrowser(env: Record<string, string> = {}): Promise<{ server: TestServer; browser: Browser }> {
  return { server: await startWebServer(env), browser: await launch() };
}

export async function stopServerAndBrowser(server: TestServer | undefined, browser: Browser | undefined) {
  await browser?.close();
  await server?.stop();
}

/** Expected answers (401 from /auth/me when signed out) are logged by Chromium as errors. */
const EXPECTED = /^Failed to load resource: the server responded with a status of 401/;

function watch(page: Page, errors: string[]) {
  page.on("console", (m) => m.type() === "error" && !EXPECTED.test(m.text()) && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("dialog", (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
}

/** The newest magic-link URL printed for `email` after output index `from`. */
export async function magicLink(server: TestServer, email: string, from: number): Promise<string> {
  const escaped = email.replace(/[.+]/g, "\\$&");
  const match = await server.waitForOutput(new RegExp(`magic-link ${escaped} (\\S+)`), 10000, from);
  return match[1];
}

/** Signs `email` in through the UI: form, console link, confirm page; ends in the chat. */
export async function signInThroughUi(server: TestServer, context: BrowserContext, email: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByLabel("Email address").fill(email);
  const from = server.output.length;
  await page.getByRole("button", { name: "Send sign-in link" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  await page.goto(await magicLink(server, email, from));
  await confirm(page, server);
  await waitConnected(page);
  return page;
}

/** Presses "Sign in" on the confirm page and waits to land on the app. */
export async function confirm(page: Page, server: TestServer) {
  const answer = page.waitForResponse((r) => r.url() === `${server.url}/auth/verify` && r.request().method() === "POST");
  await page.getByRole("button", { name: "Sign in" }).click();
  const res = await answer;
  if (res.status() !== 303) {
    const origin = (await res.request().allHeaders())["origin"];
    throw new Error(`POST /auth/verify from the confirm page answered ${res.status()} (Origin: ${origin}): ${await res.text()}`);
  }
  await page.waitForURL(`${server.url}/`);
}

/** A page signed in by the session cookie of a real sign-in (JSON verify), for tests about the chat. */
export async function signedInPage(server: TestServer, context: BrowserContext, email: string): Promise<Page> {
  const session = await signIn(server, email);
  await context.addCookies([{ name: "session_token", value: session, url: server.url, httpOnly: true, sameSite: "Strict" }]);
  const page = await context.newPage();
  await page.goto(server.url);
  await waitConnected(page);
  return page;
}

export async function waitConnected(page: Page, timeout = 15000) {
  await page.locator('[data-testid="connection"][data-status="connected"]').waitFor({ timeout });
}

/** A library client (the same core the UI uses) signed in through the real flow. */
export async function libraryClient(server: TestServer, email: string): Promise<RoomzClient> {
  const client = new RoomzClient({ server: server.url, session: await signIn(server, email) });
  await client.connect();
  return client;
}

export async function screenshot(page: Page, name: string) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** The text of every confirmed message shown on `page`, in order. */
export function shownMessages(page: Page): Promise<string[]> {
  return page.locator('[data-testid="messages"] li.msg[data-seq] .body').allTextContents();
}

/**
 * Stores `count` messages "<prefix> 1".."<prefix> count" in `email`'s channel through the
 * server's own WebSocket API (the server must run with a MESSAGE_RATE_LIMIT above count),
 * a few hundred in flight at a time.
 */
export async function seedMessages(server: TestServer, email: string, count: number, prefix = "msg") {
  const client = await libraryClient(server, email);
  for (let from = 1; from <= count; from += 500) {
    const batch = Array.from({ length: Math.min(500, count - from + 1) }, (_, i) => client.send(`${prefix} ${from + i}`));
    await Promise.all(batch);
  }
  client.close();
}

/**
 * Puts every WebSocket of `page` behind a switch: while `blocked`, an opened socket is
 * closed at once (the page sees a server that drops it); otherwise it reaches the server.
 * `drop()` closes the sockets that got through.
 */
/** Reloads `page` with its WebSocket blocked and sends `text`: it waits, shown as sending. Returns the switch. */
export async function queuedOffline(page: Page, text: string) {
  const ws = await switchableWebSocket(page);
  await page.reload();
  await page.locator('[data-testid="connection"]:not([data-status="connected"])').waitFor();
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
  await page.locator('li.outgoing[data-status="sending"]', { hasText: text }).waitFor();
  return ws;
}

export async function switchableWebSocket(page: Page, blocked = true) {
  const open: WebSocketRoute[] = [];
  const state = {
    blocked,
    drop: () => Promise.all(open.splice(0).map((ws) => ws.close({ code: 1011, reason: "dropped by the test" }))),
  };
  await page.routeWebSocket(/\/ws/, (ws) => {
    if (state.blocked) return ws.close({ code: 1011, reason: "blocked by the test" });
    ws.connectToServer();
    open.push(ws);
  });
  return state;
}
