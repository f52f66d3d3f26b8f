/**
 * The single executable: built with `bun build --compile` exactly as `npm run build` does
 * (the command is read from package.json), copied alone into an empty directory, run from
 * there. It must serve the embedded UI and nothing else of what it embeds, sign-in and
 * chat with SQLite in ./roomz-data, be its own client (`roomz send`, `roomz listen`), and
 * exit on SIGTERM once it has served all that.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT, freePort, tempDir } from "../helpers/server";

/** `npm run build`'s compile step, writing to `outfile` instead of dist/roomz. */
function buildCommand(outfile: string): string[] {
  const script: string = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.build;
  const compile = script.split("&&").map((s) => s.trim()).find((s) => s.startsWith("bun build "));
  if (!compile || /["'$`]/.test(compile)) throw new Error(`can't read the compile step of "build": ${script}`);
  const args = compile.split(/\s+/).slice(1);
  const out = args.indexOf("--outfile");
  if (out < 0 || args[out + 1] !== "dist/roomz") throw new Error(`"build" does not write dist/roomz: ${script}`);
  args[out + 1] = outfile;
  return [process.execPath, ...args];
}

const buildDir = tempDir("roomz-build-");
const runDir = tempDir("roomz-run-");
const home = tempDir("roomz-home-");
let port = 0;
let proc: ReturnType<typeof Bun.spawn>;
let output = "";
let startupMs = 0;

async function pump(stream: ReadableStream<Uint8Array>) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, "src/server/web-assets.generated.ts"))) {
    const web = Bun.spawnSync(["bun", "run", "build:web"], { cwd: ROOT, env: { ...process.env, PATH: `${ROOT}/node_modules/.bin:${process.env.PATH}` } });
    expect(web.exitCode).toBe(0);
  }
  const build = Bun.spawnSync(buildCommand(join(buildDir, "roomz")), { cwd: ROOT });
  if (build.exitCode !== 0) throw new Error(build.stderr.toString());
  copyFileSync(join(buildDir, "roomz"), join(runDir, "roomz"));
  Bun.spawnSync(["chmod", "+x", join(runDir, "roomz")]);
  port = await freePort();
  const started = performance.now();
  // A minimal environment: no PATH to bun or the checkout.
  proc = Bun.spawn(["./roomz"], {
    cwd: runDir,
    env: { PORT: String(port), HOST: "127.0.0.1", ALLOWED_EMAILS: "exe@example.com", HOME: home, PATH: "/usr/bin:/bin" },
    stdout: "pipe",
    stderr: "pipe",
  });
  pump(proc.stdout as ReadableStream<Uint8Array>);
  pump(proc.stderr as ReadableStream<Uint8Array>);
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {}
    if (performance.now() - started > 15000) throw new Error(`no start:\n${output}`);
    await Bun.sleep(20);
  }
  startupMs = performance.now() - started;
  console.log(`executable: ${(statSync(join(runDir, "roomz")).size / 1048576).toFixed(1)} MiB, ready in ${startupMs.toFixed(0)} ms`);
}, 120_000);

afterAll(async () => {
  proc?.kill("SIGTERM");
  await Promise.race([proc?.exited, Bun.sleep(5000)]);
  proc?.kill("SIGKILL");
  await proc?.exited;
});

const url = () => `http://127.0.0.1:${port}`;

function runClient(args: string[], stdin?: string) {
  return Bun.spawnSync([join(runDir, "roomz"), ...args, "--server", url()], {
    cwd: runDir,
    env: { HOME: home, PATH: "/usr/bin:/bin" },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
  });
}

test("serves the embedded UI with its security headers, and keeps its data in ./roomz-data", async () => {
  const page = await fetch(`${url()}/some/app/route`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  const html = await page.text();
  const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
  expect(script).toBeDefined();
  const asset = await fetch(`${url()}${script}`);
  expect(asset.status).toBe(200);
  expect(asset.headers.get("content-type")).toContain("javascript");
  expect(existsSync(join(runDir, "roomz-data", "roomz.sqlite"))).toBe(true);
});

test("signs in through the console link and sends through its own client side", async () => {
  const res = await fetch(`${url()}/auth/request-magic-link`, { method: "POST", body: JSON.stringify({ email: "exe@example.com" }) });
  expect(res.status).toBe(200);
  let token: string | undefined;
  for (let i = 0; i < 100 && !token; i++) {
    token = /magic-link exe@example\.com \S+token=([\w-]+)/.exec(output)?.[1];
    if (!token) await Bun.sleep(50);
  }
  expect(token).toBeDefined();

  // Not signed in yet: send exits 3.
  expect(runClient(["send", "too early"]).exitCode).toBe(3);

  const verify = await fetch(`${url()}/auth/verify`, { method: "POST", body: JSON.stringify({ token }) });
  expect(verify.status).toBe(200);
  const { session } = (await verify.json()) as { session: string };
  // Put the session where the CLI caches it, as `/token` in `roomz cli` would.
  const cacheDir = join(home, ".roomz");
  Bun.spawnSync(["mkdir", "-p", cacheDir]);
  await Bun.write(join(cacheDir, "session.json"), JSON.stringify({ [url()]: { session, email: "exe@example.com", expires_at: new Date(Date.now() + 86400e3).toISOString() } }));

  const sent = runClient(["send", "hello", "from", "the", "executable"]);
  expect(sent.stderr.toString()).toBe("");
  expect(sent.exitCode).toBe(0);

  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?since=0`, { headers: { authorization: `Bearer ${session}` } } as never);
  const replay = await new Promise<{ messages: Array<{ content: string; seq: number }> }>((resolve, reject) => {
    ws.onmessage = (event) => {
      const frame = JSON.parse(String(event.data));
      if (frame.type === "history") resolve(frame.data);
    };
    ws.onerror = () => reject(new Error("socket failed"));
  });
  ws.close();
  expect(replay.messages.map((m) => m.content)).toEqual(["hello from the executable"]);
  expect(replay.messages[0].seq).toBe(1);
}, 30_000);

test("serves nothing it embeds but the UI: the bundled server and other paths are the app or a 404, never source", async () => {
  const html = await (await fetch(`${url()}/`)).text();
  const paths = ["/main.js", "/src/main.ts", "/src/main.js", "/roomz", "/server.js", "/web-assets.generated.js", "/%2e%2e/src/main.ts", "/..%2fsrc%2fmain.ts", "/$bunfs/root/main.js", "/assets/..%2f..%2fsrc%2fmain.ts"];
  for (const path of paths) {
    const res = await fetch(`${url()}${path}`);
    const body = await res.text();
    if (res.status === 200) expect(`${path}: ${body}`).toBe(`${path}: ${html}`);
    else expect(`${path}: ${res.status} ${res.headers.get("content-type")}`).toBe(`${path}: 404 application/problem+json`);
    expect(body).not.toContain("startServer");
  }
});

test("SIGTERM once it has served the UI and its assets: exit 0 within 5 s", async () => {
  const html = await (await fetch(`${url()}/`)).text();
  for (const [, src] of html.matchAll(/(?:src|href)="(\/[^"]+)"/g)) expect((await fetch(`${url()}${src}`)).status).toBe(200);
  const head = await fetch(`${url()}/`, { method: "HEAD" });
  expect(head.status).toBe(200);
  expect(head.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  proc.kill("SIGTERM");
  const exited = await Promise.race([proc.exited, Bun.sleep(5000).then(() => "still running 5 s after SIGTERM")]);
  expect(exited).toBe(0);
});
