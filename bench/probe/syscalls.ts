/**
 * Which syscalls does a server make per message, and which stall its event loop? Starts
 * Roomz (or TARGET=bun, the raw Bun baseline), connects 4,000 sockets, and runs
 * `perf trace -s` on the server during a send step: each syscall's count and time, next
 * to the step's latency and the messages sent.
 *   bun bench/probe/syscalls.ts [rate=2000] [seconds=5]
 *   TARGET=bun TRACE=sendto,recvfrom bun bench/probe/syscalls.ts 8000 3
 */
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Generator } from "../lib/driver";
import { startTarget } from "../lib/targets";

const rate = Number(process.argv[2] ?? 2000);
const secs = Number(process.argv[3] ?? 5);
const t = await startTarget((process.env.TARGET ?? "roomz") as "roomz" | "bun", join(tmpdir(), "roomz-bench-probe"));
const g = new Generator(t);
await g.cmd("init", { kind: t.kind, urls: t.urls, secret: t.secret });
await g.cmd("connect", { users: 1000 });
await g.cmd("send", { rate, ms: 1000, senders: 200, drainMs: 500 });
const out = join(tmpdir(), `perf-trace-${Date.now()}.txt`);
const perf = Bun.spawn(["perf", "trace", "-s", "-e", process.env.TRACE ?? "fsync,fdatasync,pwrite64,pread64,write,sendto,sendmsg,writev", "-p", String(t.pids()[0]), "-o", out], { stderr: "inherit" });
await Bun.sleep(500);
const r = await g.measured("send", { rate, ms: secs * 1000, senders: 200, drainMs: 1000 });
perf.kill("SIGINT");
await perf.exited;
console.log(`step ${rate} msg/s (${r.sent} sent): p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} max ${r.latencyMs.max} ms; server ${r.serverCpuPct}%, foreign ${r.otherCpuPct}%`);
console.log(await Bun.file(out).text());
await g.close();
await t.stop();
process.exit(0);
