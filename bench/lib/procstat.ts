/** Reads a process's CPU time and resident memory from /proc (Linux only). */
import { readFileSync } from "node:fs";

const TICK_US = 1e6 / 100; // USER_HZ is 100 on every Linux we run on

/** utime + stime of `pid` in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

/** VmRSS of `pid` in KiB. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = status.match(/VmRSS:\s+(\d+)\s+kB/);
  return m ? Number(m[1]) : NaN;
}

/** Sums over processes; one that has exited counts 0. */
const sum = (pids: number[], f: (pid: number) => number) =>
  pids.reduce((s, p) => {
    try {
      return s + f(p);
    } catch {
      return s;
    }
  }, 0);
export const sumCpu = (pids: number[]) => sum(pids, cpuMicros);
export const sumRss = (pids: number[]) => sum(pids, rssKiB);

/**
 * Asks every process for a full GC (SIGUSR2: bench/probe/gc-on-signal.ts, preloaded into
 * every Bun server of the bench), waits `waitMs`, and sums their RSS in KiB.
 */
export async function rssAfterGc(pids: number[], waitMs: number): Promise<number> {
  for (const pid of pids) process.kill(pid, "SIGUSR2");
  await Bun.sleep(waitMs);
  return sumRss(pids);
}

/** Time all cores spent in user, nice and system mode, in microseconds (from /proc/stat). */
export function busyMicros(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2]) * TICK_US;
}
