/**
 * What one WebSocket connect costs: 500 sequential connects (each closed before the next)
 * against Roomz (with `?since=` beyond the last seq: an empty replay) and raw Bun; prints
 * connect→first-frame latency and the server's CPU time per connect.
 *   bun bench/probe/upgrade-cost.ts
 */
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Generator } from "../lib/driver";
import { startTarget, type TargetName } from "../lib/targets";

for (const name of ["roomz", "bun"] as TargetName[]) {
  const t = await startTarget(name, join(tmpdir(), "roomz-bench-probe"));
  const g = new Generator(t);
  await g.cmd("init", { kind: t.kind, urls: t.urls, secret: t.secret });
  await g.cmd("connect", { users: 1 });
  await g.cmd("since", { n: 100, since: [1e9] }); // warm-up
  const n = 500;
  const r = await g.measured("since", { n, since: [1e9] });
  console.log(`${name}: connect→authenticated p50 ${r.connectToAuthenticatedMs.p50} p99 ${r.connectToAuthenticatedMs.p99} ms; server CPU ${(r.serverCpuUs / n).toFixed(0)} µs per connect (+close); generator CPU ${r.genProcCpuPct}%, foreign ${r.otherCpuPct}%`);
  await g.close();
  await t.stop();
}
process.exit(0);
