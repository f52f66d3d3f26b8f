/** File metadata in the embedded store (schema 3): one row per upload. */
import type { Database } from "bun:sqlite";
import type { FileInfo } from "../../protocol";
import type { AddFileResult, FileRecord, FileStore, RemovedFile } from "../file-store";

/** The wire shape plus who owns it and when it came. */
interface FileRow extends FileInfo {
  email: string;
  created_at: number;
}

const COLUMNS = "id, email, name, type, size, sha256, width, height, created_at";

export function fileInfo(row: FileInfo): FileInfo {
  const { id, name, type, size, sha256, width, height } = row;
  return { id, name, type, size, sha256, width, height };
}

function toRecord(row: FileRow): FileRecord {
  return { ...fileInfo(row), email: row.email, createdAt: row.created_at };
}

export class SqliteFileStore implements FileStore {
  private q;

  constructor(private db: Database) {
    this.q = {
      usage: db.query<{ total: number | null }, [string]>("SELECT sum(size) AS total FROM files WHERE email = ?"),
      insert: db.query<never, [string, string, string, string, number, string, number | null, number | null, number]>(
        `INSERT INTO files (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      get: db.query<FileRow, [string, string]>(`SELECT ${COLUMNS} FROM files WHERE id = ? AND email = ?`),
      reference: db.query<never, [string]>("UPDATE files SET referenced = 1 WHERE id = ?"),
      orphans: db.query<{ id: string; email: string }, [number, number]>(
        "SELECT id, email FROM files WHERE referenced = 0 AND created_at < ? ORDER BY created_at LIMIT ?",
      ),
      removeOrphan: db.query<{ sha256: string }, [string, string]>("DELETE FROM files WHERE id = ? AND email = ? AND referenced = 0 RETURNING sha256"),
      blobInUse: db.query<{ one: number }, [string]>("SELECT 1 AS one FROM files WHERE sha256 = ? LIMIT 1"),
    };
  }

  async add(record: FileRecord, quotaBytes: number): Promise<AddFileResult> {
    // One thread, one transaction: nothing can come between the check and the insert.
    return this.db.transaction((): AddFileResult => {
      if ((this.q.usage.get(record.email)?.total ?? 0) + record.size > quotaBytes) return "quota_exceeded";
      const r = record;
      this.q.insert.run(r.id, r.email, r.name, r.type, r.size, r.sha256, r.width, r.height, r.createdAt);
      return "ok";
    })();
  }

  async usage(email: string) {
    return this.q.usage.get(email)?.total ?? 0;
  }

  async get(email: string, id: string) {
    const row = this.q.get.get(id, email);
    return row ? toRecord(row) : null;
  }

  async claim(email: string, ids: string[]): Promise<FileInfo[] | null> {
    return this.db.transaction(() => {
      const rows = ids.map((id) => this.q.get.get(id, email));
      if (rows.some((row) => row === null)) return null;
      for (const id of ids) this.q.reference.run(id);
      return rows.map((row) => fileInfo(row!));
    })();
  }

  async orphans(before: number, limit: number) {
    return this.q.orphans.all(before, limit);
  }

  async removeOrphan(email: string, id: string): Promise<RemovedFile | null> {
    return this.db.transaction(() => {
      const removed = this.q.removeOrphan.get(id, email);
      if (!removed) return null;
      return { sha256: removed.sha256, lastOfBlob: this.q.blobInUse.get(removed.sha256) === null };
    })();
  }

  async blobInUse(sha256: string) {
    return this.q.blobInUse.get(sha256) !== null;
  }
}
