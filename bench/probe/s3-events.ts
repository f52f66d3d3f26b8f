/**
 * Where S3's tail comes from: S3's load (500 msg/s, 4,000 sockets, 200 senders) for
 * `windows` windows of 10 s per target, the targets interleaved over `rounds`. Each window
 * prints its p99 and its slow deliveries (over 1 ms) grouped by message and into events
 * (lib/stats.ts slowEvents): a tail made of whole messages delayed a few times a second,
 * at random times, in raw Bun as in Roomz, is the machine's, not the server's.
 *   bun bench/probe/s3-events.ts [targets=roomz,bun] [rounds=2] [windows=3]
 */
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Generator } from "../lib/driver";
import { startTarget, type TargetName } from "../lib/targets";

const [targets = "roomz,bun", rounds = "2", windows = "3"] = process.argv.slice(2);
const p99s: Record<string, number[]> = {};
for (let round = 0; round < Number(rounds); round++) {
  for (const name of targets.split(",") as TargetName[]) {
    const t = await startTarget(name, join(tmpdir(), "roomz-bench-probe"));
    const g = new Generator(t);
    try {
      await g.cmd("init", { kind: t.kind, urls: t.urls, secret: t.secret });
      await g.cmd("connect", { users: 1000, concurrency: 128 });
      await g.cmd("send", { rate: 500, ms: 1000, senders: 200, drainMs: 500 });
      for (let w = 0; w < Number(windows); w++) {
        const r = await g.measured("send", { rate: 500, ms: 10_000, senders: 200, drainMs: 2000, events: true });
        const l = r.latencyMs;
        const s = r.slow;
        (p99s[name] ??= []).push(l.p99);
        console.log(
          `${name} round ${round} window ${w}: p50 ${l.p50} p99 ${l.p99} max ${l.max} ms; ${s.slowDeliveries} deliveries over 1 ms in ${s.slowMessages} messages ` +
            `(${s.wholeMessagesPct} % with every delivery slow), ${s.events} events (${s.eventsPerSec}/s, largest ${s.largestEventMessages} messages); ` +
            `server ${r.serverCpuPct}%, generator ${r.genCpuPct}%, foreign ${r.otherCpuPct}%`,
        );
      }
    } finally {
      await g.close();
      await t.stop();
    }
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [name, values] of Object.entries(p99s)) console.log(`${name}: median p99 ${median(values)} ms of ${values.join(", ")}`);
