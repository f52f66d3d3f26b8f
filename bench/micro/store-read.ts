/**
 * The embedded store's read path through its real code: history pages and `since`
 * replays on one channel of N messages (default 1,000,000, as S6), written through
 * appendBatch with C-1 other channels interleaved (default 1: the channel alone).
 * Wall µs per call, p50 and p99 of R calls each.
 *   bun bench/micro/store-read.ts               # N=1000000 C=1 R=300
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/engine/embedded/database";
import { SqliteMessageLog } from "../../src/engine/embedded/message-log-sqlite";

const N = Number(process.env.N ?? 1_000_000);
const CHANNELS = Number(process.env.C ?? 1);
const R = Number(process.env.R ?? 300);
const dir = mkdtempSync(join(tmpdir(), "roomz-store-read-"));
const db = openDatabase(dir);
if (process.env.PRAGMAS) for (const p of process.env.PRAGMAS.split(";")) db.exec(`PRAGMA ${p}`);
const store = new SqliteMessageLog(db);
const target = "user:reader@bench.test";
const other = (i: number) => `user:o${i % Math.max(1, CHANNELS - 1)}@bench.test`;
const message = (channel: string, i: number) => ({
  channel, email: channel.slice(5), connectionId: "c0", displayName: null,
  content: `message ${i} ${"x".repeat(40)}`, clientMsgId: null, files: [],
});

const t0 = performance.now();
for (let done = 0; done < N; done += 1000) {
  const batch = [];
  for (let k = 0; k < 1000; k++) {
    batch.push(message(target, done + k));
    for (let o = 1; o < CHANNELS; o++) batch.push(message(other(done + k + o), done + k));
  }
  store.appendBatch(batch, Date.now());
}
console.log(`seeded ${N} (x${CHANNELS} channels) in ${Math.round(performance.now() - t0)} ms`);

function time(name: string, call: (i: number) => unknown) {
  for (let i = 0; i < 20; i++) call(i);
  const samples: number[] = [];
  for (let i = 0; i < R; i++) {
    const s = performance.now();
    call(i);
    samples.push((performance.now() - s) * 1000);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => Math.round(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]);
  console.log(`${name.padEnd(28)} p50 ${at(0.5)} µs  p99 ${at(0.99)} µs`);
}
const random = (i: number) => 1 + ((i * 2654435761) % (N - 500));
time("history newest 50", () => store.history(target, null, 50));
time("history random 50", (i) => store.history(target, random(i), 50));
time("history random 200", (i) => store.history(target, random(i), 200));
time("since recent (~200)", (i) => store.since(target, N - 10 - (i % 3) * 95, 500));
time("since old (500)", (i) => store.since(target, random(i), 500));
const page = store.since(target, 0, 500).messages;
time("stringify 500", () => JSON.stringify({ type: "ack", ref: "r", data: { messages: page, has_more: true } }));
const page50 = store.history(target, null, 50).messages;
time("stringify 50", () => JSON.stringify({ type: "ack", ref: "r", data: { messages: page50, has_more: true } }));
db.close();
rmSync(dir, { recursive: true, force: true });
