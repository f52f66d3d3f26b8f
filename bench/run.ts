/**
 * The Roomz bench suite: `bun bench/run.ts [--quick] [--only S1,S3] [--targets roomz,bun,socketio] [--redis] [--profile]`.
 * Starts every server fresh, pinned to core 0, drives the generator on core 1, appends raw
 * JSON lines to bench/results/<date>.jsonl and writes bench/results/latest.md.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { s1All, s2, s3, s4, s5, s6, type Ctx } from "./scenarios";
import { s7 } from "./http-api";
import { machine, report } from "./lib/report";
import { BENCH, ROOT, type TargetName } from "./lib/targets";

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(name + "="))?.split("=")[1];
};
const only = new Set((opt("--only") ?? "S1,S2,S3,S4,S5,S6,S7").toUpperCase().split(","));
const haveRoomz = existsSync(join(ROOT, "src/main.ts"));
let targets = (opt("--targets") ?? "roomz,bun,socketio").split(",") as TargetName[];
if (!haveRoomz && targets.includes("roomz")) {
  console.error("src/main.ts is missing: skipping the Roomz target (S5 and S6 need it).");
  targets = targets.filter((t) => t !== "roomz");
}
if (flag("--profile")) process.env.BENCH_PROFILE = "1";
const withRedis = flag("--redis") || !!process.env.BENCH_REDIS;

const started = new Date();
const date = started.toISOString().replace(/\.\d+Z$/, "Z");
const resultsDir = join(BENCH, "results");
mkdirSync(resultsDir, { recursive: true });
const jsonl = join(resultsDir, `${date.slice(0, 10)}.jsonl`);
const logDir = join(tmpdir(), `roomz-bench-logs-${date.replace(/[:]/g, "")}`);
const runId = date;
const recs: any[] = [];
const ctx: Ctx = {
  quick: flag("--quick"),
  logDir,
  record: (r) => appendFileSync(jsonl, JSON.stringify({ run: runId, ...r }) + "\n"),
};
const keep = (r: any) => {
  if (!r) return;
  recs.push(r);
  ctx.record(r);
};

console.log(`Roomz bench ${date}${ctx.quick ? " (quick)" : ""}: ${[...only].join(",")} on ${targets.join(",")}${withRedis ? "+roomz-redis,roomz-cluster" : ""}; logs in ${logDir}`);
const preload = process.env.BENCH_PRELOAD ?? null;
ctx.record({ kind: "machine", ...machine(), args: argv.join(" "), preload });
const deadline = Date.now() + 25 * 60_000;
const phase = async (name: string, body: () => Promise<void>) => {
  if (!only.has(name)) return;
  if (Date.now() > deadline) return console.log(`${name}: skipped (suite over its time budget)`);
  const t0 = Date.now();
  console.log(`${name}`);
  await body();
  console.log(`${name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
};

await phase("S1", async () => {
  for (const r of await s1All(ctx, withRedis ? [...targets, "roomz-redis", "roomz-cluster"] : targets)) keep(r);
});
await phase("S2", async () => {
  for (const t of targets) keep(await s2(ctx, t));
});
/** The highest rate S1 found for a target in this run, if it ran. */
const s1Max = (target: string): number | undefined => recs.find((r) => r.scenario === "S1" && r.kind === "summary" && r.target === target)?.maxRate || undefined;

/** Interleaved rounds of S3 and S4 in a whole run; each target's median run is reported. */
const ROUNDS = 5;

await phase("S3", async () => {
  // Other sessions share this machine and their load comes and goes: run the targets in
  // interleaved rounds and keep each target's median-p99 run, listing every run's p99.
  // Five rounds: one run's p99 at 500 msg/s moved between 0.7 and 3.7 ms for either server.
  const rounds = ctx.quick ? 1 : ROUNDS;
  const runs = new Map<TargetName, any[]>();
  for (let i = 0; i < rounds; i++)
    for (const t of targets) {
      const r = await s3(ctx, t);
      if (r) runs.set(t, [...(runs.get(t) ?? []), r]);
    }
  for (const [t, list] of runs) {
    list.sort((a, b) => a.latencyMs.p99 - b.latencyMs.p99);
    const median = list[Math.floor((list.length - 1) / 2)];
    keep({ ...median, kind: "summary", runsP99: list.map((r) => r.latencyMs.p99), runsOtherCpuPct: list.map((r) => r.otherCpuPct) });
  }
});
await phase("S4", async () => {
  // Interleaved rounds, like S3; each target's median CPU-per-delivery run is kept. The
  // Redis targets, reported beside the others, run in the first three rounds only.
  const rounds = ctx.quick ? 1 : ROUNDS;
  const runs = new Map<TargetName, any[]>();
  for (let i = 0; i < rounds; i++)
    for (const t of withRedis && i < 3 ? [...targets, "roomz-redis" as TargetName, "roomz-cluster" as TargetName] : targets) {
      const r = await s4(ctx, t, t.startsWith("roomz-") ? (s1Max(t) ?? 16000) : 16000);
      if (r) runs.set(t, [...(runs.get(t) ?? []), r]);
    }
  for (const [t, list] of runs) {
    list.sort((a, b) => a.usPerDelivery - b.usPerDelivery);
    const median = list[Math.floor((list.length - 1) / 2)];
    keep({ ...median, kind: "summary", runsUsPerDelivery: list.map((r) => r.usPerDelivery), runsOtherCpuPct: list.map((r) => r.otherCpuPct) });
  }
});
await phase("S5", async () => {
  if (targets.includes("roomz")) keep(await s5(ctx));
});
await phase("S6", async () => {
  if (targets.includes("roomz")) keep(await s6(ctx));
});
await phase("S7", async () => {
  if (targets.includes("roomz")) keep(await s7(ctx));
});

const md = report(date, argv.join(" ") + (preload ? ` (Roomz with --preload ${preload})` : ""), recs);
// Only a whole, unmodified suite replaces latest.md; partial runs and experiments go to partial.md.
const partial = opt("--only") || opt("--targets") || preload;
writeFileSync(join(resultsDir, partial ? "partial.md" : "latest.md"), md);
if (!partial) showInReadme(md);
console.log("\n" + md);
console.log(`raw: ${jsonl}; total ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`);
process.exit(0);

/** Puts the table of a whole run into the README's performance section, between its markers. */
function showInReadme(md: string) {
  const readme = join(ROOT, "README.md");
  const text = readFileSync(readme, "utf8");
  const start = "<!-- bench:latest -->", end = "<!-- /bench:latest -->";
  const from = text.indexOf(start), to = text.indexOf(end);
  if (from < 0 || to < from) return console.log("README.md has no bench markers; table not copied");
  const body = md.replace(/^# Roomz bench — (.+)$/m, "Latest run: $1.");
  writeFileSync(readme, text.slice(0, from + start.length) + "\n" + body.trim() + "\n" + text.slice(to));
}
