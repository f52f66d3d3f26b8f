/**
 * The embedded store's append path through its real code (SqliteMessageLog on a database
 * opened and migrated by openDatabase): N messages over C busy channels, in transactions
 * of B (one event-loop turn's batch), each with a random client_msg_id, a PASSIVE
 * checkpoint every 60 batches; CPU µs per message (this process: user + system).
 *   bun bench/micro/store-append.ts            # N=100000 C=200 B=250
 * Target (issue 14): at most 6 µs per message at 200 busy channels. Also prints the JS heap
 * the store still holds per message after a full GC (what its de-dup memory costs the
 * collector).
 */
import { heapSize } from "bun:jsc";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/engine/embedded/database";
import { SqliteMessageLog } from "../../src/engine/embedded/message-log-sqlite";

const N = Number(process.env.N ?? 100_000);
const CHANNELS = Number(process.env.C ?? 200);
const BATCH = Number(process.env.B ?? 250);

const dir = mkdtempSync(join(tmpdir(), "roomz-store-micro-"));
const db = openDatabase(dir);
const store = new SqliteMessageLog(db);
const channel = (i: number) => `user:u${String((i * 7919) % CHANNELS).padStart(4, "0")}@bench.test`;
const message = (i: number) => ({
  channel: channel(i),
  email: channel(i).slice(5),
  connectionId: crypto.randomUUID(),
  displayName: null,
  content: `B|1|${performance.now()}|${i}`,
  clientMsgId: crypto.randomUUID(),
  files: [],
});

// Warm-up: every channel exists, so the run measures steady appends. The messages are
// made before the clock starts: the store alone is measured.
Bun.gc(true);
const heapBefore = heapSize();
let batches: Array<ReturnType<typeof message>[]> = [];
for (let done = 0; done < N; done += BATCH) batches.push(Array.from({ length: Math.min(BATCH, N - done) }, (_, k) => message(done + k)));
store.appendBatch(Array.from({ length: CHANNELS }, (_, i) => message(i)), Date.now());
Bun.gc(true);
const before = process.cpuUsage();
const started = performance.now();
batches.forEach((batch, i) => {
  store.appendBatch(batch, Date.now());
  if (i % 60 === 59) db.exec("PRAGMA wal_checkpoint(PASSIVE)");
});
const cpu = process.cpuUsage(before);
const wall = performance.now() - started;
const perMessage = (cpu.user + cpu.system) / N;
batches = [];
Bun.gc(true);
const retained = (heapSize() - heapBefore) / N;
console.log(`${N} messages, ${CHANNELS} channels, batches of ${BATCH}: ${perMessage.toFixed(2)} µs CPU per message (user ${(cpu.user / N).toFixed(2)}, system ${(cpu.system / N).toFixed(2)}), ${(N / (wall / 1000)).toFixed(0)} messages/s; JS heap held after a full GC: ${retained.toFixed(0)} B per message`);
db.close();
