/**
 * The process and runtime metrics a Prometheus user expects (the names of the official
 * clients' process collector), the JavaScript heap, the event loop's lag and the build.
 * Everything is read at scrape time; nothing runs between scrapes.
 */
import { readdirSync, readFileSync } from "node:fs";
import pkg from "../../package.json" with { type: "json" };

/** One metric family: HELP, TYPE and its samples (`suffix` is `{labels}` or empty). */
export function family(name: string, type: "counter" | "gauge" | "histogram", help: string, samples: Array<[string, number]>): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([suffix, value]) => `${name}${suffix} ${number(value)}`)];
}

function number(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Open file descriptors (Linux only): the listing's own descriptor is not counted. */
function openFds(): number | null {
  try {
    return readdirSync("/proc/self/fd").length - 1;
  } catch {
    return null;
  }
}

/** The soft limit on open files (Linux only); null when unknown or unlimited. */
function maxFds(): number | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").match(/^Max open files\s+(\d+)/m);
    return line ? Number(line[1]) : null;
  } catch {
    return null;
  }
}

/** How long a callback queued now waits for the event loop (what the Node.js clients report). */
function eventLoopLag(): Promise<number> {
  const start = performance.now();
  return new Promise((resolve) => setImmediate(() => resolve((performance.now() - start) / 1000)));
}

export async function processMetrics(): Promise<string[]> {
  const lag = await eventLoopLag();
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  const fds = openFds();
  const limit = maxFds();
  return [
    ...family("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.", [["", (cpu.user + cpu.system) / 1e6]]),
    ...family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", [["", memory.rss]]),
    ...family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.", [
      ["", Math.round(performance.timeOrigin) / 1000],
    ]),
    ...(fds === null ? [] : family("process_open_fds", "gauge", "Open file descriptors.", [["", fds]])),
    ...(limit === null ? [] : family("process_max_fds", "gauge", "The limit on open file descriptors.", [["", limit]])),
    ...family("roomz_js_heap_used_bytes", "gauge", "JavaScript heap in use, in bytes.", [["", memory.heapUsed]]),
    ...family("roomz_js_heap_total_bytes", "gauge", "JavaScript heap size, in bytes.", [["", memory.heapTotal]]),
    ...family("roomz_js_external_memory_bytes", "gauge", "Memory held outside the JavaScript heap by JavaScript objects (buffers), in bytes.", [
      ["", memory.external],
    ]),
    ...family("roomz_event_loop_lag_seconds", "gauge", "How long a callback queued at scrape time waited for the event loop, in seconds.", [["", lag]]),
    ...family("roomz_build_info", "gauge", "The running build: Roomz and Bun versions.", [[`{version="${pkg.version}",bun="${Bun.version}"}`, 1]]),
  ];
}
