/**
 * A client that sends `ping` frames as fast as it can and never reads (issue 12, defect
 * 3): prints the server's RSS every second for 30 s, or until the server closes the
 * socket (4008 when replies count toward SEND_BUFFER_BYTES). Before v2 the replies piled
 * up without limit (64 MB to 317 MB in 29 s).
 *   bun bench/probe/ping-flood.ts
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintSession, randomSecret } from "../lib/jwt";
import { rssKiB } from "../lib/procstat";

const ROOT = join(import.meta.dir, "../..");
const secret = randomSecret();
const port = 20000 + Math.floor(Math.random() * 20000);
const server = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "serve"], {
  env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", JWT_SECRET_KEY: secret, ALLOWED_EMAILS: "flood@example.com", ROOMZ_DATA_DIR: mkdtempSync(join(tmpdir(), "roomz-flood-")) },
  stdout: "ignore",
  stderr: "inherit",
});
for (let i = 0; i < 100; i++) {
  if ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok) break;
  await Bun.sleep(100);
}

const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${mintSession(secret, "flood@example.com")}` } } as any);
await new Promise((resolve) => (ws.onopen = resolve));
(ws as any).pause(); // never read again
const ping = JSON.stringify({ type: "ping", ref: "p".repeat(64) });
let sent = 0;
const flood = setInterval(() => {
  if (ws.readyState !== WebSocket.OPEN) return;
  for (let i = 0; i < 5000; i++) ws.send(ping);
  sent += 5000;
}, 5);
const healthz = async () => {
  const t = performance.now();
  await fetch(`http://127.0.0.1:${port}/healthz`);
  return performance.now() - t;
};
for (let second = 0; second <= 30; second++) {
  const ms = await healthz();
  console.log(`t=${second}s server RSS ${(rssKiB(server.pid) / 1024).toFixed(1)} MiB, pings sent ${sent}, /healthz ${ms.toFixed(1)} ms, socket ${["connecting", "open", "closing", "closed"][ws.readyState]}`);
  await Bun.sleep(1000);
}
clearInterval(flood);
(ws as any).resume();
const code = await new Promise<number>((resolve) => {
  if (ws.readyState === WebSocket.CLOSED) return resolve(-1);
  ws.onclose = (e) => resolve(e.code);
  setTimeout(() => resolve(0), 5000);
});
console.log(`close code ${code}`);
server.kill();
await server.exited;
