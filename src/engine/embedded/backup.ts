/**
 * Backups of the embedded store (PROTOCOL.md section 5). A backup is one SQLite file: a
 * consistent copy of the database (`VACUUM INTO`, safe while the server writes) with the
 * data directory's other files (the generated keys) in a `backup_files` table. `sqlite3`
 * opens it; nothing else is needed to read it.
 *
 * A restore puts the copy in place with a new epoch, so clients that saw later messages
 * reset instead of skipping the new ones, and keeps every logout made since the backup:
 * revoked sessions and session versions of the directory being replaced are carried over.
 */
import { Database } from "bun:sqlite";
import { chmodSync, copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { DATABASE_FILE, DatabaseUnusable, MIGRATIONS_KNOWN, REVOKED_TOKENS_TABLE, claimDataDir } from "./database";

/** Files of the data directory that travel with the database. */
const KEY_FILES = ["jwt-secret.key", "vapid.key"];

export class BackupError extends Error {}

export interface BackupSummary {
  messages: number;
  channels: number;
  files: number;
  /** What `extra` copied in or out (the uploaded files' contents). */
  extras: number;
  bytes: number;
}

/**
 * What else travels in a backup, added by the caller (the engine knows nothing of it):
 * `add` writes into the copy before it is put in place, `take` reads it back out (and
 * drops its tables) during a restore. Each returns how many items it moved.
 */
export interface BackupExtra {
  add(copy: Database, dataDir: string): number;
  take(db: Database, dataDir: string): number;
}

/** Writes a consistent copy of `dataDir`'s store to `target` (mode 0600), replacing it atomically. */
export function backupStore(dataDir: string, target: string, extra: BackupExtra | null = null): BackupSummary {
  const source = join(dataDir, DATABASE_FILE);
  if (!existsSync(source)) throw new BackupError(`ROOMZ_DATA_DIR: no Roomz database in ${dataDir}; point ROOMZ_DATA_DIR at the server's data directory`);
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(source, { readonly: true });
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    db.query("VACUUM INTO ?").run(partial);
  } catch (error) {
    rmSync(partial, { force: true });
    throw new BackupError(`could not copy the database: ${(error as Error).message}`);
  } finally {
    db.close();
  }
  chmodSync(partial, 0o600);
  const copy = new Database(partial, { strict: true });
  let summary: BackupSummary;
  try {
    copy.exec("CREATE TABLE backup_files (name TEXT PRIMARY KEY, content BLOB NOT NULL)");
    let files = 0;
    for (const name of KEY_FILES) {
      const path = join(dataDir, name);
      if (!existsSync(path)) continue;
      copy.query("INSERT INTO backup_files (name, content) VALUES (?, ?)").run(name, readFileSync(path));
      files++;
    }
    const extras = extra ? extra.add(copy, dataDir) : 0;
    copy.query("INSERT OR REPLACE INTO meta (key, value) VALUES ('backup_at', ?)").run(new Date().toISOString());
    summary = { ...counts(copy), files, extras, bytes: 0 };
  } finally {
    copy.close();
  }
  renameSync(partial, target);
  summary.bytes = Bun.file(target).size;
  return summary;
}

/**
 * Replaces `dataDir`'s store with the backup in `source`. The server must be stopped: the
 * data directory's lock is taken for the whole restore.
 */
export function restoreStore(dataDir: string, source: string, extra: BackupExtra | null = null): BackupSummary & { epoch: string; backupAt: string | null } {
  if (!existsSync(source)) throw new BackupError(`${source}: no such file`);
  let lock: Database;
  try {
    lock = claimDataDir(dataDir);
  } catch (error) {
    if (error instanceof DatabaseUnusable && /locked/.test(error.message))
      throw new BackupError(`ROOMZ_DATA_DIR: a Roomz server is running on ${dataDir}; stop it, then restore`);
    throw error;
  }
  try {
    const staged = join(dataDir, `${DATABASE_FILE}.restoring`);
    rmSync(staged, { force: true });
    copyFileSync(source, staged); // not read into memory: a backup holds the uploaded files too
    chmodSync(staged, 0o600);
    const db = openBackup(staged, source);
    try {
      const current = join(dataDir, DATABASE_FILE);
      if (existsSync(current)) keepLogouts(db, current);
      const files = restoreFiles(db, dataDir);
      const extras = extra ? extra.take(db, dataDir) : 0;
      const epoch = crypto.randomUUID();
      db.query("UPDATE meta SET value = ? WHERE key = 'epoch'").run(epoch);
      const backupAt = (db.query("SELECT value FROM meta WHERE key = 'backup_at'").get() as { value: string } | null)?.value ?? null;
      db.exec("DELETE FROM meta WHERE key = 'backup_at'");
      db.exec("PRAGMA journal_mode = DELETE");
      const summary = { ...counts(db), files, extras, bytes: Bun.file(source).size, epoch, backupAt };
      db.close();
      for (const suffix of ["-wal", "-shm"]) rmSync(current + suffix, { force: true });
      renameSync(staged, current);
      return summary;
    } catch (error) {
      db.close();
      rmSync(staged, { force: true });
      throw error;
    }
  } finally {
    lock.close();
  }
}

function openBackup(staged: string, source: string): Database {
  let db: Database | null = null;
  try {
    db = new Database(staged, { strict: true });
    const check = (db.query("PRAGMA quick_check").get() as { quick_check: string }).quick_check;
    if (check !== "ok") throw new Error(`damaged (${check})`);
    const version = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    if (version > MIGRATIONS_KNOWN) throw new Error(`from a newer Roomz (schema ${version}); restore it with that version`);
    const tables = new Set((db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name));
    const hasMessages = tables.has("log") || tables.has("messages"); // schema 2, or 1 (migrated at start)
    if (!tables.has("meta") || !hasMessages || !tables.has("backup_files")) throw new Error("not a Roomz backup (made by `roomz backup`)");
    return db;
  } catch (error) {
    db?.close();
    rmSync(staged, { force: true });
    throw new BackupError(`${basename(source)}: ${(error as Error).message}`);
  }
}

/**
 * What was taken away after the backup stays taken away: session revocations are joined
 * and versions take the higher; tokens revoked since stay revoked; push subscriptions are
 * only those both copies have (a device that logged out since gets no pushes; a device
 * still subscribed registers again when it signs in); no sign-in link from before the
 * restore works (one used since would otherwise work again).
 */
function keepLogouts(db: Database, current: string) {
  db.query("ATTACH DATABASE ? AS replaced").run(current);
  try {
    const has = (schema: string, table: string) => db.query(`SELECT 1 FROM ${schema}.sqlite_master WHERE name = ?`).get(table) !== null;
    db.exec(`INSERT OR IGNORE INTO revoked_sessions SELECT jti, expires_at FROM replaced.revoked_sessions`);
    db.exec(`INSERT INTO session_versions SELECT email, version FROM replaced.session_versions WHERE true
             ON CONFLICT (email) DO UPDATE SET version = max(version, excluded.version)`);
    if (has("replaced", "revoked_tokens")) {
      db.exec(REVOKED_TOKENS_TABLE);
      db.exec(`INSERT OR IGNORE INTO revoked_tokens SELECT id FROM replaced.revoked_tokens`);
      if (has("main", "tokens")) db.exec(`DELETE FROM tokens WHERE id IN (SELECT id FROM revoked_tokens)`);
    }
    if (has("main", "push_subscriptions") && has("replaced", "push_subscriptions"))
      db.exec(`DELETE FROM push_subscriptions WHERE (email, endpoint) NOT IN (SELECT email, endpoint FROM replaced.push_subscriptions)`);
    db.query("UPDATE magic_links SET used_at = ? WHERE used_at IS NULL").run(Date.now());
  } finally {
    db.exec("DETACH DATABASE replaced");
  }
}

function restoreFiles(db: Database, dataDir: string): number {
  const rows = db.query("SELECT name, content FROM backup_files").all() as Array<{ name: string; content: Uint8Array }>;
  for (const { name, content } of rows) {
    if (!KEY_FILES.includes(name)) continue; // only names this version writes; never a path
    const path = join(dataDir, name);
    writeFileSync(`${path}.restoring`, content, { mode: 0o600 });
    renameSync(`${path}.restoring`, path);
  }
  db.exec("DROP TABLE backup_files");
  return rows.length;
}

function counts(db: Database): { messages: number; channels: number } {
  const schema2 = db.query("SELECT 1 FROM sqlite_master WHERE name = 'log'").get() !== null;
  const sql = schema2
    ? "SELECT count(*) AS messages, count(DISTINCT channel_id) AS channels FROM log"
    : "SELECT count(*) AS messages, count(DISTINCT channel) AS channels FROM messages";
  const row = db.query(sql).get() as { messages: number; channels: number };
  return { messages: row.messages, channels: row.channels };
}
