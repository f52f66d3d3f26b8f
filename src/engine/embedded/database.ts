/**
 * The embedded store: one SQLite database in the data directory, in WAL mode, with
 * numbered migrations tracked by `PRAGMA user_version`. A shipped migration never
 * changes; a later version adds one, so it opens every older database.
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";

/** Migration 6, also run by a restore on a backup made before it (backup.ts). */
export const REVOKED_TOKENS_TABLE = "CREATE TABLE IF NOT EXISTS revoked_tokens (id TEXT PRIMARY KEY) WITHOUT ROWID;";

const MIGRATIONS: string[] = [
  // 1: messages, sign-in and sessions
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE messages (
     channel TEXT NOT NULL,
     seq INTEGER NOT NULL,
     id TEXT NOT NULL,
     client_msg_id TEXT,
     connection_id TEXT NOT NULL,
     display_name TEXT,
     content TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (channel, seq)
   ) WITHOUT ROWID;
   CREATE UNIQUE INDEX messages_by_client_msg_id ON messages (channel, client_msg_id) WHERE client_msg_id IS NOT NULL;
   CREATE TABLE magic_links (
     token_hash TEXT PRIMARY KEY,
     email TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     used_at INTEGER,
     disabled INTEGER NOT NULL DEFAULT 0
   ) WITHOUT ROWID;
   CREATE TABLE rate_hits (key TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX rate_hits_by_key ON rate_hits (key, at);
   CREATE TABLE revoked_sessions (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE session_versions (email TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;`,
  // 2: messages in one append-only log (issue 14). An append writes the log's tail page,
  // its channel's row in `channels`, and one mark in 64: no per-channel index page, no
  // random-key index. A channel's messages are found from its last row (`channels`) or
  // the nearest mark, following `prev`; recent client_msg_ids are held in memory, rebuilt
  // from the log at start (message-log-sqlite.ts).
  `CREATE TABLE channels (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, last_seq INTEGER NOT NULL DEFAULT 0, last_row INTEGER);
   CREATE TABLE log (
     channel_id INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     prev INTEGER,
     id TEXT NOT NULL,
     client_msg_id TEXT,
     connection_id TEXT NOT NULL,
     display_name TEXT,
     content TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE marks (channel_id INTEGER NOT NULL, seq INTEGER NOT NULL, row INTEGER NOT NULL, PRIMARY KEY (channel_id, seq)) WITHOUT ROWID;
   INSERT INTO channels (name) SELECT DISTINCT channel FROM messages ORDER BY channel;
   INSERT INTO log (channel_id, seq, id, client_msg_id, connection_id, display_name, content, created_at)
     SELECT c.id, m.seq, m.id, m.client_msg_id, m.connection_id, m.display_name, m.content, m.created_at
     FROM messages m JOIN channels c ON c.name = m.channel ORDER BY m.created_at, c.id, m.seq;
   CREATE INDEX migrating ON log (channel_id, seq);
   UPDATE log SET prev = p.prev
     FROM (SELECT rowid AS row, lag(rowid) OVER (PARTITION BY channel_id ORDER BY seq) AS prev FROM log) AS p
     WHERE log.rowid = p.row;
   INSERT INTO marks SELECT channel_id, seq, rowid FROM log WHERE seq % 64 = 0;
   UPDATE channels SET last_seq = t.seq, last_row = (SELECT rowid FROM log WHERE channel_id = t.channel_id AND seq = t.seq)
     FROM (SELECT channel_id, max(seq) AS seq FROM log GROUP BY channel_id) AS t
     WHERE channels.id = t.channel_id;
   DROP INDEX migrating;
   DROP TABLE messages;`,
  // 3: attachments (issue 16). `files` holds each upload's metadata (the bytes are in the
  // blob store, by sha256); a message keeps the JSON of its files as they were sent.
  `CREATE TABLE files (
     id TEXT PRIMARY KEY,
     email TEXT NOT NULL,
     name TEXT NOT NULL,
     type TEXT NOT NULL,
     size INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     width INTEGER,
     height INTEGER,
     created_at INTEGER NOT NULL,
     referenced INTEGER NOT NULL DEFAULT 0
   ) WITHOUT ROWID;
   CREATE INDEX files_by_email ON files (email);
   CREATE INDEX files_by_sha256 ON files (sha256);
   CREATE INDEX files_unreferenced ON files (created_at) WHERE referenced = 0;
   ALTER TABLE log ADD COLUMN files TEXT;`,
  // 4: Web Push subscriptions (issue 17), one row per user and endpoint.
  `CREATE TABLE push_subscriptions (
     email TEXT NOT NULL,
     endpoint TEXT NOT NULL,
     p256dh TEXT NOT NULL,
     auth TEXT NOT NULL,
     device TEXT NOT NULL,
     jti TEXT NOT NULL,
     session_version INTEGER NOT NULL,
     session_expires_at INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (email, endpoint)
   ) WITHOUT ROWID;`,
  // 5: access tokens (issue 15), stored only as the SHA-256 of the secret. A revoked
  // token's row is deleted; expired rows are pruned.
  `CREATE TABLE tokens (
     id TEXT PRIMARY KEY,
     token_hash TEXT NOT NULL UNIQUE,
     email TEXT NOT NULL,
     name TEXT NOT NULL,
     scope TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER,
     last_used_at INTEGER
   ) WITHOUT ROWID;
   CREATE INDEX tokens_by_email ON tokens (email, created_at);`,
  // 6: revoked access tokens' ids, so that a restore of a backup made before a revocation
  // keeps it in force (backup.ts). IF NOT EXISTS: a restore may add it to an older backup.
  REVOKED_TOKENS_TABLE,
];

export const DATABASE_FILE = "roomz.sqlite";
/** The schema version this Roomz writes; a database above it is from a newer Roomz. */
export const MIGRATIONS_KNOWN = MIGRATIONS.length;

/** The database can't be opened; the message names the directory and what to do. */
export class DatabaseUnusable extends Error {}

/**
 * Makes this process the data directory's only owner (the seq counters live in its
 * memory) for as long as it runs: an exclusive lock on a small lock database, which the
 * operating system releases when the process ends, however it ends.
 */
export function claimDataDir(dataDir: string): Database {
  try {
    const lock = new Database(join(dataDir, "roomz.lock"), { create: true });
    lock.exec("PRAGMA busy_timeout = 0");
    lock.exec("PRAGMA locking_mode = EXCLUSIVE");
    lock.exec("BEGIN EXCLUSIVE");
    return lock;
  } catch (error) {
    throw unusable(dataDir, error);
  }
}

/** Opens (creating if needed) and migrates the database in `dataDir`. */
export function openDatabase(dataDir: string): Database {
  let db: Database;
  try {
    db = new Database(join(dataDir, DATABASE_FILE), { create: true, strict: true });
  } catch (error) {
    throw unusable(dataDir, error);
  }
  try {
    db.exec("PRAGMA busy_timeout = 2000");
    db.exec("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode: a committed transaction survives a crash of the process
    // (kill -9); only an OS crash or power loss can lose the last commits.
    db.exec("PRAGMA synchronous = NORMAL");
    // Checkpoints (the only fsyncs in this mode) run on a worker (checkpointer.ts), not
    // inside whichever commit fills the WAL.
    db.exec("PRAGMA wal_autocheckpoint = 0");
    db.exec("PRAGMA foreign_keys = ON");
    migrate(db);
  } catch (error) {
    db.close();
    throw unusable(dataDir, error);
  }
  return db;
}

function unusable(dataDir: string, error: unknown): DatabaseUnusable {
  const reason = (error as Error).message ?? String(error);
  if (/locked|busy/i.test(reason))
    return new DatabaseUnusable(`ROOMZ_DATA_DIR: the database in ${dataDir} is locked by another process; stop it or use another directory`);
  if (/newer Roomz/.test(reason)) return new DatabaseUnusable(`ROOMZ_DATA_DIR: ${reason}; run that version, or point ROOMZ_DATA_DIR elsewhere`);
  return new DatabaseUnusable(`ROOMZ_DATA_DIR: cannot open the database in ${dataDir} (${reason}); check free space, permissions and that the file is a Roomz database`);
}

function migrate(db: Database): void {
  const current = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  if (current > MIGRATIONS.length)
    throw new Error(`the database is from a newer Roomz (schema ${current}, this one knows ${MIGRATIONS.length})`);
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]);
      db.exec(`PRAGMA user_version = ${version + 1}`);
    }).immediate();
  }
  db.query("INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?)").run(crypto.randomUUID());
  db.query("INSERT OR REPLACE INTO meta (key, value) VALUES ('opened_at', ?)").run(new Date().toISOString());
}

export function storeEpoch(db: Database): string {
  return (db.query("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string }).value;
}
