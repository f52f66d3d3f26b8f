/**
 * The single executable: built with `bun build --compile`, copied alone into an empty
 * directory, run from there. It must serve the embedded UI, sign-in and chat with SQLite
 * in ./roomz-data, and be its own client (`roomz send`, `roomz listen`).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT, freePort, tempDir } from "../helpers/server";

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
  const build = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "src/main.ts", "--outfile", join(buildDir, "roomz")], { cwd: ROOT });
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
