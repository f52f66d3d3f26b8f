/**
 * Micro-benchmark of the embedded store's append path: the Roomz `messages` schema in WAL
 * mode with synchronous=NORMAL, inserting N messages in transactions of B messages each
 * (Roomz commits once per event-loop turn, so B is how many messages one turn gathers).
 *   bun bench/micro/sqlite-append.ts
 */
import { Database } from "bun:sqlite";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const N = Number(process.env.N ?? 40_000);
// VARIANT: "default" (the Roomz pragmas), "cache64m" (+ cache_size 64 MiB), "noindex"
// (without the client_msg_id index), "nouuid" (client ids that grow, like a counter),
// "ckpt10k" (wal_autocheckpoint 10,000 pages), "oneuser" (every message in one channel),
// "page1k" (page_size 1024: fewer bytes per dirty page written to the WAL).
const variant = process.env.VARIANT ?? "default";
for (const batch of (process.env.BATCHES ?? "1,4,16,64").split(",").map(Number)) {
  const dir = mkdtempSync(join(tmpdir(), "roomz-micro-"));
  const db = new Database(join(dir, "m.sqlite"), { create: true, strict: true });
  if (variant === "page1k") db.exec("PRAGMA page_size = 1024");
  db.exec("PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  if (variant === "cache64m") db.exec("PRAGMA cache_size = -65536");
  if (variant === "ckpt10k") db.exec("PRAGMA wal_autocheckpoint = 10000");
  db.exec(`CREATE TABLE messages (channel TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, client_msg_id TEXT,
    connection_id TEXT NOT NULL, display_name TEXT, content TEXT NOT NULL, created_at INTEGER NOT NULL,
    PRIMARY KEY (channel, seq)) WITHOUT ROWID;
    ${variant === "noindex" ? "" : "CREATE UNIQUE INDEX messages_by_client_msg_id ON messages (channel, client_msg_id) WHERE client_msg_id IS NOT NULL;"}`);
  const insert = db.query("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  const lookup = db.query("SELECT seq FROM messages WHERE channel = ? AND client_msg_id = ?");
  const seqs = new Map<string, number>();
  const tx = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const users = variant === "oneuser" ? 1 : 1000;
      const channel = `user:u${String((i * 7919) % users).padStart(4, "0")}@bench.test`;
      const cid = variant === "nouuid" ? `c${String(i).padStart(12, "0")}` : crypto.randomUUID();
      lookup.get(channel, cid);
      const seq = (seqs.get(channel) ?? 0) + 1;
      seqs.set(channel, seq);
      insert.run(channel, seq, Bun.randomUUIDv7(), cid, crypto.randomUUID(), null, `B|1|${performance.now()}|${i}|${seq}`, Date.now());
    }
  });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i += batch) tx(i, Math.min(N, i + batch));
  const c = process.cpuUsage(c0);
  const us = ((performance.now() - t0) * 1000) / N;
  // CPU time, not wall time: on a shared machine the wall clock includes waiting for a core.
  console.log(`${variant} batch ${String(batch).padStart(3)}: ${((c.user + c.system) / N).toFixed(2)} µs CPU per message (user ${(c.user / N).toFixed(2)}, system ${(c.system / N).toFixed(2)}; wall ${us.toFixed(2)})`);
  db.close();
}
