/** Prints the top self-time functions of a .cpuprofile: `bun bench/lib/profile-top.ts FILE [N]`. */
const prof = JSON.parse(await Bun.file(process.argv[2]).text());
const n = Number(process.argv[3] ?? 30);
const byId = new Map<number, any>(prof.nodes.map((x: any) => [x.id, x]));
const self = new Map<number, number>();
const dts: number[] = prof.timeDeltas;
prof.samples.forEach((id: number, i: number) => self.set(id, (self.get(id) ?? 0) + (dts[i] ?? 0)));
const agg = new Map<string, number>();
let total = 0;
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const key = `${cf.functionName || "(anonymous)"} ${cf.url.split("/").slice(-2).join("/")}:${cf.lineNumber + 1}`;
  agg.set(key, (agg.get(key) ?? 0) + us);
  total += us;
}
console.log(`total sampled ${(total / 1e3).toFixed(0)} ms`);
for (const [k, us] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${k}`);
