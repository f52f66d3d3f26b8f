/**
 * Experiment, preloaded into Roomz (BENCH_PRELOAD=bench/probe/no-autocheckpoint.ts): turns
 * SQLite's WAL auto-checkpoint off right after Roomz switches to WAL, so no checkpoint (and
 * no fsync) runs inside a commit. The WAL then grows for the whole run: for short
 * measurements only. Shows how much of Roomz's tail latency the checkpoints cause.
 */
import { Database } from "bun:sqlite";

const exec = Database.prototype.exec;
Database.prototype.exec = function (this: Database, sql: string, ...rest: any[]) {
  const result = (exec as any).call(this, sql, ...rest);
  if (/journal_mode\s*=\s*WAL/i.test(sql)) (exec as any).call(this, "PRAGMA wal_autocheckpoint = 0");
  return result;
} as any;
