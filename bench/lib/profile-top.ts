/**
 * Prints the top self-time functions of a .cpuprofile (as written by `bun --cpu-prof`):
 *   bun bench/lib/profile-top.ts FILE [N] [--window FUNCTION] [--inclusive]
 * --window keeps only the samples between the first and last sample whose stack contains
 * FUNCTION (e.g. the message handler, to leave out start-up and connection set-up).
 * --inclusive ranks by total (self + callees) time instead.
 */
export {};
const args = process.argv.slice(2);
const file = args[0];
const n = Number(args[1] && !args[1].startsWith("--") ? args[1] : 30);
const wi = args.indexOf("--window");
const windowFn = wi >= 0 ? args[wi + 1] : null;
const inclusive = args.includes("--inclusive");
const prof = JSON.parse(await Bun.file(file).text());
const byId = new Map<number, any>(prof.nodes.map((x: any) => [x.id, x]));
const parent = new Map<number, number>();
for (const node of prof.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
const name = (id: number) => {
  const cf = byId.get(id).callFrame;
  return `${cf.functionName || "(anonymous)"} ${cf.url.split("/").slice(-2).join("/")}:${cf.lineNumber + 1}`;
};
const stack = (id: number) => {
  const out: number[] = [];
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) out.push(x);
  return out;
};
const samples: number[] = prof.samples;
const dts: number[] = prof.timeDeltas;
let from = 0, to = samples.length - 1;
if (windowFn) {
  const hit = (i: number) => stack(samples[i]).some((id) => byId.get(id).callFrame.functionName === windowFn);
  while (from < samples.length && !hit(from)) from++;
  while (to > from && !hit(to)) to--;
}
const agg = new Map<string, number>();
let total = 0, idle = 0;
for (let i = from; i <= to; i++) {
  const us = dts[i + 1] ?? dts[i] ?? 0; // a sample's time runs until the next sample
  const id = samples[i];
  const fn = byId.get(id).callFrame.functionName;
  if (fn === "(idle)" || fn === "(program)" && false) idle += us;
  total += us;
  const keys = inclusive ? [...new Set(stack(id).map(name))] : [name(id)];
  for (const k of keys) agg.set(k, (agg.get(k) ?? 0) + us);
}
console.log(`window ${windowFn ?? "(all)"}: ${((to - from + 1))} samples, ${(total / 1e3).toFixed(0)} ms sampled${idle ? `, ${(idle / 1e3).toFixed(0)} ms idle` : ""}`);
for (const [k, us] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${k}`);
