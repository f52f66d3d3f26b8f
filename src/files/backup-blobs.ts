/**
 * The local blob store's part of `roomz backup` and `roomz restore` (PROTOCOL.md section
 * 5): the bytes of every file the copied database names, in a `backup_blobs` table of
 * 1 MiB pieces, so a backup stays one SQLite file and neither side ever holds a whole file
 * in memory. Files kept in an S3 bucket (S3_URL) are not in the data directory and not in
 * the backup: the bucket is backed up by its own means (docs/deployment.md).
 */
import type { Database } from "bun:sqlite";
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

const PIECE = 1024 * 1024;
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function blobPath(dataDir: string, sha256: string): string {
  return join(dataDir, "files", sha256.slice(0, 2), sha256);
}

/** Copies the blobs of the backup's `files` rows into it; returns how many were found. */
export function addBlobsToBackup(copy: Database, dataDir: string): number {
  const hasFiles = copy.query("SELECT 1 FROM sqlite_master WHERE name = 'files'").get() !== null;
  copy.exec("CREATE TABLE backup_blobs (sha256 TEXT NOT NULL, piece INTEGER NOT NULL, content BLOB NOT NULL, PRIMARY KEY (sha256, piece)) WITHOUT ROWID");
  if (!hasFiles) return 0;
  const insert = copy.query("INSERT INTO backup_blobs (sha256, piece, content) VALUES (?, ?, ?)");
  let count = 0;
  const buffer = Buffer.alloc(PIECE);
  for (const { sha256 } of copy.query("SELECT DISTINCT sha256 FROM files").all() as Array<{ sha256: string }>) {
    const path = blobPath(dataDir, sha256);
    if (!/^[0-9a-f]{64}$/.test(sha256) || !existsSync(path)) continue; // on S3, or an upload still arriving
    const fd = openSync(path, "r");
    try {
      copy.transaction(() => {
        let piece = 0;
        for (let read; (read = readSync(fd, buffer, 0, PIECE, null)) > 0; piece++) insert.run(sha256, piece, buffer.subarray(0, read));
        if (piece === 0) insert.run(sha256, 0, new Uint8Array(0)); // an empty file is one empty piece, not none
      })();
    } finally {
      closeSync(fd);
    }
    count++;
  }
  return count;
}

/** Replaces the data directory's blobs with the backup's (a backup without any leaves none). */
export function restoreBlobsFromBackup(db: Database, dataDir: string): number {
  const root = join(dataDir, "files");
  rmSync(root, { recursive: true, force: true });
  if (db.query("SELECT 1 FROM sqlite_master WHERE name = 'backup_blobs'").get() === null) return 0;
  let count = 0;
  let fd: number | null = null;
  let current = "";
  const finish = () => {
    if (fd === null) return;
    closeSync(fd);
    renameSync(`${blobPath(dataDir, current)}.restoring`, blobPath(dataDir, current));
    fd = null;
    count++;
  };
  for (const row of db.query("SELECT sha256, content FROM backup_blobs ORDER BY sha256, piece").iterate() as Iterable<{ sha256: string; content: Uint8Array }>) {
    if (!/^[0-9a-f]{64}$/.test(row.sha256)) continue; // never a path
    if (row.sha256 !== current) {
      finish();
      current = row.sha256;
      mkdirSync(join(root, current.slice(0, 2)), { recursive: true, mode: 0o700 });
      fd = openSync(`${blobPath(dataDir, current)}.restoring`, "w", 0o600);
    }
    writeSync(fd!, row.content);
  }
  finish();
  db.exec("DROP TABLE backup_blobs");
  return count + restoreEmptyBlob(db, dataDir);
}

/** Backups made before empty files had a piece hold none for them; their bytes are known. */
function restoreEmptyBlob(db: Database, dataDir: string): number {
  const path = blobPath(dataDir, EMPTY_SHA256);
  if (existsSync(path) || db.query("SELECT 1 FROM sqlite_master WHERE name = 'files'").get() === null) return 0;
  if (db.query("SELECT 1 FROM files WHERE sha256 = ?").get(EMPTY_SHA256) === null) return 0;
  mkdirSync(join(dataDir, "files", EMPTY_SHA256.slice(0, 2)), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, "w", 0o600));
  return 1;
}
