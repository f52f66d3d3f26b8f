/** Turns one run's summary records into bench/results/latest.md. */
import { cpus } from "node:os";
import { readFileSync } from "node:fs";

type Rec = Record<string, any>;
const ok = (b: boolean | null) => (b === null ? "n/a" : b ? "✅ pass" : "❌ miss");
const x = (a: number, b: number) => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}×` : "n/a");
const v = (n: any, unit = "") => (n === undefined || n === null || Number.isNaN(n) ? "—" : `${n}${unit}`);

export function machine() {
  const info = readFileSync("/proc/cpuinfo", "utf8");
  const model = info.match(/model name\s*:\s*(.+)/)?.[1] ?? cpus()[0]?.model ?? "unknown";
  const node = Bun.spawnSync(["node", "--version"]).stdout.toString().trim();
  const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  return { nproc: cpus().length, cpu: model, kernel, bun: Bun.version, node };
}

export function report(date: string, args: string, recs: Rec[]): string {
  const m = machine();
  const get = (s: string, t: string) => recs.find((r) => r.scenario === s && r.target === t && r.kind === "summary");
  const L: string[] = [];
  L.push(`# Roomz bench — ${date}`, "");
  L.push(`Machine: ${m.nproc} cores, ${m.cpu}, Linux ${m.kernel}, Bun ${m.bun}, Node ${m.node}.`);
  L.push(`Servers pinned to core 0, the generator (one Bun process, Bun's WebSocket client) to core 1; loopback only. Command: \`bun bench/run.ts ${args}\`.`, "");
  L.push("| Scenario | Metric | Roomz | raw Bun | Socket.IO | Target | Ratios | Result |", "|---|---|---|---|---|---|---|---|");

  const r1 = get("S1", "roomz"), b1 = get("S1", "bun"), i1 = get("S1", "socketio");
  if (r1 || b1 || i1) {
    const pass = r1 && b1 && i1 ? r1.maxRate >= 0.5 * b1.maxRate && r1.maxRate >= 2 * i1.maxRate : null;
    const cell = (s: Rec | undefined) => (s ? `${s.maxRate} msg/s (${s.maxRate * 4} deliv/s)${s.generatorBound ? " ‡" : ""}` : "—");
    L.push(`| S1 max rate, 4,000 sockets, 200 senders, no loss, p99 < 50 ms | msg/s | ${cell(r1)} | ${cell(b1)} | ${cell(i1)} | ≥ 0.5× Bun, ≥ 2× Socket.IO | ${r1 && b1 ? x(r1.maxRate, b1.maxRate) : "n/a"} Bun, ${r1 && i1 ? x(r1.maxRate, i1.maxRate) : "n/a"} SIO | ${ok(pass)} |`);
  }
  const r2 = get("S2", "roomz"), b2 = get("S2", "bun"), i2 = get("S2", "socketio");
  if (r2 || b2 || i2) {
    // Judged after a full GC in each server (the connections' own memory, not the connect
    // burst's garbage); the as-is numbers stand beside it.
    const judged = (s: Rec) => s.kbPerAddedConnAfterGc ?? s.kbPerAddedConn;
    const cell = (s: Rec | undefined) =>
      s ? `${judged(s)} KB after GC (${s.kbPerAddedConn} KB as is, ${s.kbPerConnFromEmpty ?? "—"} KB/conn from empty; ${s.sockets2} sockets, RSS ${Math.round(s.rss19900KiB / 1024)} MiB)` : "—";
    const pass = r2 && b2 ? judged(r2) <= 2.5 * judged(b2) : null;
    const ratios = r2 && b2 ? `${x(judged(r2), judged(b2))} after GC, ${x(r2.kbPerAddedConn, b2.kbPerAddedConn)} as is, ${x(r2.kbPerConnFromEmpty, b2.kbPerConnFromEmpty)} from empty` : "n/a";
    L.push(`| S2 memory, 10,000 → 19,900 idle sockets | KB per added connection | ${cell(r2)} | ${cell(b2)} | ${cell(i2)} | ≤ 2.5× Bun | ${ratios} | ${ok(pass)} |`);
  }
  const r3 = get("S3", "roomz"), b3 = get("S3", "bun"), i3 = get("S3", "socketio");
  if (r3 || b3 || i3) {
    const cell = (s: Rec | undefined) => (s ? `p50 ${s.latencyMs.p50} / p99 ${s.latencyMs.p99} / p99.9 ${s.latencyMs.p999} / max ${s.latencyMs.max}${s.lost ? `, lost ${s.lost}` : ""}` : "—");
    const cell0 = cell;
    const cellRuns = (s: Rec | undefined) => (s ? `${cell0(s)}; runs' p99: ${(s.runsP99 ?? []).join(", ")} (foreign load ${(s.runsOtherCpuPct ?? []).join("/")} %)` : "—");
    const pass = r3 && b3 ? r3.latencyMs.p99 <= 1 && r3.latencyMs.p99 <= 3 * b3.latencyMs.p99 && r3.lost === 0 : null;
    L.push(`| S3 latency at 500 msg/s, 4,000 sockets (median-p99 run) | ms | ${cellRuns(r3)} | ${cellRuns(b3)} | ${cellRuns(i3)} | p99 ≤ 1 ms and ≤ 3× Bun | ${r3 && b3 ? x(r3.latencyMs.p99, b3.latencyMs.p99) : "n/a"} | ${ok(pass)} |`);
  }
  const r4 = get("S4", "roomz"), b4 = get("S4", "bun"), i4 = get("S4", "socketio");
  if (r4 || b4 || i4) {
    const cell = (s: Rec | undefined) => (s ? `${s.usPerDelivery} µs (achieved ${s.achievedRate} msg/s${s.achievedRate < 0.98 * s.offeredRate ? " ‡" : ""}, server ${s.serverCpuPct}%${s.lost ? `, lost ${s.lost}` : ""}; runs ${(s.runsUsPerDelivery ?? []).join(", ")} µs, foreign load ${(s.runsOtherCpuPct ?? []).join("/")} %)` : "—");
    const pass = r4 && b4 ? r4.usPerDelivery <= 1.25 * b4.usPerDelivery : null;
    L.push(`| S4 server CPU per delivery, 16,000 msg/s offered (median run) | µs/delivery | ${cell(r4)} | ${cell(b4)} | ${cell(i4)} | ≤ 1.25× Bun | ${r4 && b4 ? x(r4.usPerDelivery, b4.usPerDelivery) : "n/a"} | ${ok(pass)} |`);
  }
  const r5 = get("S5", "roomz");
  if (r5) {
    const pass = r5.allResumed && r5.resumeFromSpawnMs <= 5000 && r5.lostSeqs === 0;
    L.push(`| S5 reconnect storm, 4,000 sockets, SIGTERM + restart | time to all resumed | ${r5.resumedCount}/${r5.conns} in ${r5.resumeFromSpawnMs} ms from new process (${r5.resumeFromReadyMs} ms from /healthz); lost ${r5.lostSeqs}, dup ${r5.dupSeqs}; ${r5.sent} sent at 1,000 msg/s throughout, ${r5.unacked} unacked (sent ${(r5.unackedSentFromSignalMs ?? []).join("…")} ms after SIGTERM; sockets closed ${r5.firstCloseFromSignalMs}…${r5.allClosedFromSignalMs} ms after it; ${r5.seenBeyondAcked} of them stored anyway; a real client resends them); shutdown ${r5.shutdownMs} ms | — | — | all within 5 s, none lost | | ${ok(pass)} |`);
  }
  const r6 = get("S6", "roomz");
  if (r6) {
    const historyOk = Math.max(r6.historyNewest50.p99, r6.historyRandom50.p99, r6.historyRandom200.p99) < 5;
    const sinceOk = Math.max(r6.sinceRecent.p99, r6.sinceOld.p99) < 5;
    const verdict = `history ${historyOk ? "✅" : "❌"}, since ${sinceOk ? "✅" : "❌"}`;
    const h = (s: Rec) => `p50 ${s.p50} / p99 ${s.p99}`;
    L.push(`| S6 1,000,000 messages in one channel | ms | history newest 50: ${h(r6.historyNewest50)}; random 50: ${h(r6.historyRandom50)}; random 200: ${h(r6.historyRandom200)}; since (recent, ~${r6.sinceRecent.avgMessages} msgs) connect→history: ${h(r6.sinceRecent)} (of which authenticated→history ${r6.sinceRecent.replayMs ? h(r6.sinceRecent.replayMs) : "—"}); since (old, 500 msgs) connect→history: ${h(r6.sinceOld)} (authenticated→history ${r6.sinceOld.replayMs ? h(r6.sinceOld.replayMs) : "—"}) | — | ${r6.bunConnectMs ? `connect→first frame: ${h(r6.bunConnectMs)}` : "—"} | — | p99 < 5 ms | | ${verdict} |`);
  }
  const r7 = get("S7", "roomz");
  if (r7)
    L.push(`| S7 HTTP API: server CPU per message, POST /api/messages (token) vs a WebSocket message; memory per open /api/stream | µs/message; KB/stream | POST ${r7.httpUsPerMessage}, WebSocket ${r7.wsUsPerMessage} (${r7.ratio}×); ${r7.kbPerStream} KB per stream (${r7.streams} open) | — | — | measured | | — |`);
  for (const [target, what] of [["roomz-redis", "Redis"], ["roomz-cluster", "a Redis Cluster of three primaries"]]) {
    const rr1 = get("S1", target), rr4 = get("S4", target);
    if (rr1 || rr4)
      L.push("", `Two Roomz instances + ${what}: S1 ${rr1 ? `${rr1.maxRate} msg/s` : "—"}; S4 ${rr4 ? `${rr4.usPerDelivery} µs/delivery at ${rr4.offeredRate} msg/s (CPU of both instances and every redis-server${rr4.lost ? `; overloaded at ${rr4.offeredRate} msg/s: ${rr4.lost} deliveries lost` : ""})` : "—"}.`);
  }
  L.push("", "‡ limited by the generator (its process at ≥ 80 % of its core at the first failing step, or it could not offer the rate): the server's own limit is higher than the number shown.", "");
  const notes = recs.filter((r) => r.kind === "summary" && (r.scenario === "S1" || r.scenario === "S4"));
  if (notes.length) {
    L.push("Generator load at the reported points:", "");
    for (const r of notes) {
      if (r.scenario === "S1") L.push(`- S1 ${r.target}: max ${r.maxRate} msg/s (p99 ${r.atMax?.p99} ms, server ${r.atMax?.serverCpuPct}%, generator ${r.atMax?.genCpuPct}%, foreign ${r.atMax?.otherCpuPct}%); first failing rate ${v(r.firstFailRate)}: ${v(r.failReason)}`);
      else L.push(`- S4 ${r.target}: generator ${r.genCpuPct}% of its core while offering ${r.achievedRate} msg/s; p99 ${r.latencyMs.p99} ms`);
    }
  }
  return L.join("\n") + "\n";
}
