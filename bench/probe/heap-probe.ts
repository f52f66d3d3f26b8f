/**
 * Preloaded into a server (`bun --preload bench/probe/heap-probe.ts ...`): on SIGUSR2 it
 * runs a full GC and writes JSC's heap statistics (object counts per type) and the
 * process's memory usage to $HEAP_PROBE_OUT.<n>.json. The server's code is untouched.
 */
import { heapStats } from "bun:jsc";
import { writeFileSync } from "node:fs";

let n = 0;
process.on("SIGUSR2", () => {
  Bun.gc(true);
  const out = `${process.env.HEAP_PROBE_OUT ?? "/tmp/heap-probe"}.${++n}.json`;
  writeFileSync(out, JSON.stringify({ at: Date.now(), memory: process.memoryUsage(), heap: heapStats() }));
});
