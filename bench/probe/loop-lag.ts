/**
 * Experiment, preloaded into a server (BENCH_PRELOAD=bench/probe/loop-lag.ts): a 1 ms timer
 * that notes every event-loop stall longer than LAG_MS (default 5), with the process's
 * CPU time and JS heap size around it, in $LOOP_LAG_FILE (default /tmp/loop-lag-<pid>.txt).
 * Tells a tail caused by the server's own pauses (GC, a long synchronous step) from one
 * caused by queueing under load.
 */
import { appendFileSync } from "node:fs";
import { heapSize } from "bun:jsc";

const threshold = Number(process.env.LAG_MS ?? 5);
const file = process.env.LOOP_LAG_FILE ?? `/tmp/loop-lag-${process.pid}.txt`;
let last = performance.now();
let lastCpu = process.cpuUsage();
let lastHeap = heapSize();
const timer = setInterval(() => {
  const now = performance.now();
  const lag = now - last - 1;
  if (lag > threshold) {
    const cpu = process.cpuUsage(lastCpu);
    const heap = heapSize();
    appendFileSync(file, `${new Date().toISOString()} pid ${process.pid} lag ${lag.toFixed(1)} ms, cpu ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms, heap ${(lastHeap / 1048576).toFixed(1)} -> ${(heap / 1048576).toFixed(1)} MiB\n`);
  }
  last = now;
  lastCpu = process.cpuUsage();
  lastHeap = heapSize();
}, 1);
timer.unref();
