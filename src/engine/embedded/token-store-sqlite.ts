/** Access tokens in the embedded SQLite database (migration 3), hashed. */
import type { Database } from "bun:sqlite";
import type { TokenScope } from "../../protocol";
import type { TokenRecord, TokenStore } from "../token-store";

interface Row {
  id: string;
  email: string;
  name: string;
  scope: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

const COLUMNS = "id, email, name, scope, created_at, expires_at, last_used_at";
const LIVE = "(expires_at IS NULL OR expires_at > ?)";

function recordOf(row: Row): TokenRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    scope: row.scope as TokenScope,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}

export class SqliteTokenStore implements TokenStore {
  private q;

  constructor(private db: Database) {
    this.q = {
      count: db.query<{ n: number }, [string, number]>(`SELECT count(*) AS n FROM tokens WHERE email = ? AND ${LIVE}`),
      insert: db.query(
        "INSERT INTO tokens (id, token_hash, email, name, scope, created_at, expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
      ),
      list: db.query<Row, [string, number]>(`SELECT ${COLUMNS} FROM tokens WHERE email = ? AND ${LIVE} ORDER BY created_at DESC, id DESC`),
      byHash: db.query<Row, [string, number]>(`SELECT ${COLUMNS} FROM tokens WHERE token_hash = ? AND ${LIVE}`),
      live: db.query<{ one: number }, [string, string, number]>(`SELECT 1 AS one FROM tokens WHERE id = ? AND email = ? AND ${LIVE}`),
      revoke: db.query<{ id: string }, [string, string]>("DELETE FROM tokens WHERE id = ? AND email = ? RETURNING id"),
      remember: db.query("INSERT OR IGNORE INTO revoked_tokens (id) VALUES (?)"),
      touch: db.query("UPDATE tokens SET last_used_at = ? WHERE id = ? AND email = ?"),
      prune: db.query("DELETE FROM tokens WHERE expires_at <= ?"),
    };
  }

  async create(record: TokenRecord, hash: string, maxLive: number, now: number): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.q.count.get(record.email, now)!.n >= maxLive) return false;
      this.q.insert.run(record.id, hash, record.email, record.name, record.scope, record.createdAt, record.expiresAt);
      return true;
    }).immediate();
  }

  async list(email: string, now: number) {
    return this.q.list.all(email, now).map(recordOf);
  }

  async find(hash: string, now: number) {
    const row = this.q.byHash.get(hash, now);
    return row ? recordOf(row) : null;
  }

  async isLive(email: string, id: string, now: number) {
    return this.q.live.get(id, email, now) !== null;
  }

  async revoke(email: string, id: string) {
    return this.db.transaction(() => {
      const revoked = this.q.revoke.get(id, email) !== null;
      if (revoked) this.q.remember.run(id);
      return revoked;
    })();
  }

  async touch(email: string, id: string, at: number) {
    this.q.touch.run(at, id, email);
  }

  /** Forgets tokens that have expired. */
  prune(now: number) {
    this.q.prune.run(now);
  }
}
