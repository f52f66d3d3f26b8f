/**
 * What checking a session costs an HTTP request: sequential keep-alive GETs of /auth/me
 * (a Bearer JWT: verify, then revocation, session version, allow-list) against /healthz
 * (no session) on one Roomz, in alternating rounds; prints the server's CPU time per
 * request for each and their difference. With upgrade-cost.ts, this is how the JWT
 * verifier was chosen (src/server/jwt.ts).
 *   bun bench/probe/auth-cost.ts [requests per round, default 4000] [rounds, default 5]
 */
import { join } from "node:path";
import { tmpdir } from "node:os";
import { benchEmail, mintSession } from "../lib/jwt";
import { cpuMicros } from "../lib/procstat";
import { startTarget } from "../lib/targets";

const n = Number(process.argv[2] ?? 4000);
const rounds = Number(process.argv[3] ?? 5);
const t = await startTarget("roomz", join(tmpdir(), "roomz-bench-probe"));
const pid = t.pids()[0];
const base = t.urls[0].replace("ws://", "http://").replace(/\/ws$/, "");
const headers = { authorization: `Bearer ${mintSession(t.secret, benchEmail(1))}` };

async function round(path: string, count: number): Promise<number> {
  const before = cpuMicros(pid);
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${base}${path}`, { headers });
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    await res.arrayBuffer();
  }
  return (cpuMicros(pid) - before) / count;
}

await round("/auth/me", 1000); // warm-up
await round("/healthz", 1000);
const me: number[] = [];
const health: number[] = [];
for (let r = 0; r < rounds; r++) {
  me.push(await round("/auth/me", n));
  health.push(await round("/healthz", n));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} µs (${xs.map((x) => x.toFixed(0)).join(", ")})`;
console.log(`server CPU per request: /auth/me ${fmt(me)}; /healthz ${fmt(health)}; session check ≈ ${(median(me) - median(health)).toFixed(1)} µs`);
await t.stop();
process.exit(0);
