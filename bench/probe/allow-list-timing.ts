/**
 * Can the allow-list be probed by timing `POST /auth/request-magic-link`? Sends N requests
 * in a shuffled order, half for allowed and half for unknown addresses, one at a time on
 * one keep-alive connection, and compares the two latency distributions: medians,
 * percentiles, and a Mann-Whitney U test (|z| < 3: no difference this many samples can
 * tell apart). Writes bench/results/allow-list-timing.md.
 *   bun bench/probe/allow-list-timing.ts [N=4000]
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServer } from "../../test/helpers/server";
import { BENCH } from "../lib/targets";

const N = Number(process.argv[2] ?? 4000);
const ADDRESSES = 200;
const allowed = Array.from({ length: ADDRESSES }, (_, i) => `member${i}@timing.test`);
const unknown = Array.from({ length: ADDRESSES }, (_, i) => `stranger${i}@timing.test`);
const server = await startServer({
  env: {
    ALLOWED_EMAILS: allowed.join(","),
    MAGIC_LINK_RATE_LIMIT: "1000000",
    MAGIC_LINK_IP_RATE_LIMIT: "1000000",
  },
});

let seed = 0x7117;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const order = Array.from({ length: N }, (_, i) => i % 2 === 0);
for (let i = order.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [order[i], order[j]] = [order[j], order[i]];
}

const times = { allowed: [] as number[], unknown: [] as number[] };
const url = `${server.url}/auth/request-magic-link`;
const once = async (email: string) => {
  const started = performance.now();
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email }) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${email}: ${res.status}`);
  return (performance.now() - started) * 1000;
};
for (let i = 0; i < 200; i++) await once(unknown[i % ADDRESSES]); // warm-up, not counted
for (let i = 0; i < N; i++) {
  const isAllowed = order[i];
  const list = isAllowed ? allowed : unknown;
  (isAllowed ? times.allowed : times.unknown).push(await once(list[i % ADDRESSES]));
}
await server.stop();

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const a = sorted(times.allowed), u = sorted(times.unknown);
const z = mannWhitneyZ(a, u);
const row = (name: string, xs: number[]) =>
  `| ${name} | ${xs.length} | ${pct(xs, 0.1).toFixed(0)} | ${pct(xs, 0.5).toFixed(0)} | ${pct(xs, 0.9).toFixed(0)} | ${pct(xs, 0.99).toFixed(0)} |`;
const verdict = Math.abs(z) < 3 ? "no difference these samples can tell apart" : "a difference: the allow-list may be probed by timing";
const md = `# Allow-list timing probe — ${new Date().toISOString()}

\`bun bench/probe/allow-list-timing.ts ${N}\`: ${N} requests to \`POST /auth/request-magic-link\` in a
shuffled order, half for allowed and half for unknown addresses (console sender), one at a
time on one keep-alive connection. Latency in µs, client side.

| addresses | requests | p10 | p50 | p90 | p99 |
|---|---|---|---|---|---|
${row("allowed", a)}
${row("unknown", u)}

Median difference (allowed − unknown): ${(pct(a, 0.5) - pct(u, 0.5)).toFixed(0)} µs. Mann-Whitney U: z = ${z.toFixed(2)}: ${verdict}.
`;
writeFileSync(join(BENCH, "results", "allow-list-timing.md"), md);
console.log(md);
process.exit(0);

/** The normal approximation of the Mann-Whitney U statistic of `a` against `b`. */
function mannWhitneyZ(a: number[], b: number[]): number {
  const all = [...a.map((v) => ({ v, fromA: true })), ...b.map((v) => ({ v, fromA: false }))].sort((x, y) => x.v - y.v);
  let rankSumA = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j].v === all[i].v) j++;
    const rank = (i + j + 1) / 2; // ties share their mean rank (1-based)
    for (let k = i; k < j; k++) if (all[k].fromA) rankSumA += rank;
    i = j;
  }
  const n1 = a.length, n2 = b.length;
  const U = rankSumA - (n1 * (n1 + 1)) / 2;
  return (U - (n1 * n2) / 2) / Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
}
