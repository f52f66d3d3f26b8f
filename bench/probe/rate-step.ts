/**
 * One S1 step at a fixed rate, for looking into a target's limit without the whole search:
 * starts the target, connects S1's 4,000 sockets, warms up, then sends at each given rate
 * for `ms` and prints what S1 would judge (p99, loss, server and generator CPU).
 *   bun bench/probe/rate-step.ts <target> <rate,rate,...> [ms=4000]
 * With BENCH_PRELOAD=bench/probe/loop-lag.ts the server also lists its event-loop stalls.
 */
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Generator } from "../lib/driver";
import { startTarget, type TargetName } from "../lib/targets";

const [name = "roomz", rates = "10000", ms = "4000"] = process.argv.slice(2);
const t = await startTarget(name as TargetName, join(tmpdir(), "roomz-bench-probe"));
const g = new Generator(t);
try {
  await g.cmd("init", { kind: t.kind, urls: t.urls, secret: t.secret });
  console.log(`connected ${(await g.cmd("connect", { users: 1000, concurrency: 128 })).total} sockets`);
  await g.cmd("send", { rate: 2000, ms: 1000, senders: 200, drainMs: 1000 });
  for (const rate of rates.split(",").map(Number)) {
    const r = await g.measured("send", { rate, ms: Number(ms), senders: 200, drainMs: 2000 });
    const l = r.latencyMs;
    console.log(`${name} ${rate} msg/s: p50 ${l.p50} p99 ${l.p99} p99.9 ${l.p999} max ${l.max} ms; lost ${r.lost}, achieved ${r.achievedRate}, server ${r.serverCpuPct}%, gen ${r.genCpuPct}%, foreign ${r.otherCpuPct}%`);
  }
} finally {
  await g.close();
  await t.stop();
}
