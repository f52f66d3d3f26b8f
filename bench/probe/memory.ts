/**
 * Where does a Roomz (or baseline) connection's memory go? Starts the server with the heap
 * probe preloaded, connects 10,000 then 19,900 sockets, and prints the growth per added
 * connection of RSS, the JS heap, and each JS object type.
 *   bun bench/probe/memory.ts [roomz|bun]
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Generator } from "../lib/driver";
import { rssKiB } from "../lib/procstat";
import { BENCH, startTarget } from "../lib/targets";

const name = (process.argv[2] ?? "roomz") as "roomz" | "bun";
const out = join(tmpdir(), `heap-probe-${Date.now()}`);
process.env.BENCH_PRELOAD = join(BENCH, "probe", "heap-probe.ts");
process.env.HEAP_PROBE_OUT = out;
const t = await startTarget(name, join(tmpdir(), "roomz-bench-probe"));
const g = new Generator(t);
await g.cmd("init", { kind: t.kind, urls: t.urls, secret: t.secret });
const pid = t.pids()[0];
const snap = async (i: number) => {
  await Bun.sleep(1500);
  process.kill(pid, "SIGUSR2");
  const file = `${out}.${i}.json`;
  for (let k = 0; k < 100 && !existsSync(file); k++) await Bun.sleep(100);
  await Bun.sleep(200);
  return { rss: rssKiB(pid), ...JSON.parse(readFileSync(file, "utf8")) };
};
const a0 = await snap(1);
const c1 = await g.cmd("connect", { users: 2500 });
const a = await snap(2);
const c2 = await g.cmd("connect", { users: 4975 });
const b = await snap(3);
const added = c2.total - c1.total;
const per = (x: number, y: number) => ((y - x) / added).toFixed(0);
console.log(`${name}: ${c1.total} → ${c2.total} sockets; per added connection: RSS ${(((b.rss - a.rss) * 1024) / added).toFixed(0)} B, JS heap ${per(a.heap.heapSize, b.heap.heapSize)} B, JS objects ${per(a.heap.objectCount, b.heap.objectCount)}; memoryUsage heapUsed ${per(a.memory.heapUsed, b.memory.heapUsed)} B, external ${per(a.memory.external, b.memory.external)} B, arrayBuffers ${per(a.memory.arrayBuffers, b.memory.arrayBuffers)} B`);
console.log(`(empty server: RSS ${a0.rss} KiB, heap ${Math.round(a0.heap.heapSize / 1024)} KiB)`);
const types = new Set([...Object.keys(a.heap.objectTypeCounts), ...Object.keys(b.heap.objectTypeCounts)]);
const rows = [...types].map((k) => [k, ((b.heap.objectTypeCounts[k] ?? 0) - (a.heap.objectTypeCounts[k] ?? 0)) / added] as const).filter(([, d]) => Math.abs(d) >= 0.05);
for (const [k, d] of rows.sort((x, y) => y[1] - x[1]).slice(0, 30)) console.log(`  ${d.toFixed(2).padStart(6)} × ${k}`);
await g.close();
await t.stop();
process.exit(0);
