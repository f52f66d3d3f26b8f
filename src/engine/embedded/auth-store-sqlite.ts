/** Sign-in and session state in the embedded SQLite database. */
import type { Database } from "bun:sqlite";
import type { AuthStore, ConsumeResult, LinkInfo, RateDecision } from "../auth-store";

export class SqliteAuthStore implements AuthStore {
  private q;

  constructor(private db: Database) {
    this.q = {
      saveLink: db.query("INSERT INTO magic_links (token_hash, email, expires_at, disabled) VALUES (?, ?, ?, ?)"),
      getLink: db.query<{ email: string; expires_at: number; used_at: number | null; disabled: number }, [string]>(
        "SELECT email, expires_at, used_at, disabled FROM magic_links WHERE token_hash = ?",
      ),
      useLink: db.query<{ email: string; expires_at: number }, [number, string]>(
        "UPDATE magic_links SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL AND disabled = 0 AND expires_at > ?1 RETURNING email, expires_at",
      ),
      disableLink: db.query("UPDATE magic_links SET disabled = 1 WHERE token_hash = ?"),
      countHits: db.query<{ n: number; oldest: number | null }, [string, number]>(
        "SELECT count(*) AS n, min(at) AS oldest FROM rate_hits WHERE key = ? AND at > ?",
      ),
      addHit: db.query("INSERT INTO rate_hits (key, at) VALUES (?, ?)"),
      revoke: db.query("INSERT OR REPLACE INTO revoked_sessions (jti, expires_at) VALUES (?, ?)"),
      isRevoked: db.query<{ one: number }, [string]>("SELECT 1 AS one FROM revoked_sessions WHERE jti = ?"),
      version: db.query<{ version: number }, [string]>("SELECT version FROM session_versions WHERE email = ?"),
      bump: db.query<{ version: number }, [string]>(
        "INSERT INTO session_versions (email, version) VALUES (?, 1) ON CONFLICT (email) DO UPDATE SET version = version + 1 RETURNING version",
      ),
      pruneHits: db.query("DELETE FROM rate_hits WHERE at < ?"),
      pruneLinks: db.query("DELETE FROM magic_links WHERE expires_at < ?"),
      pruneRevoked: db.query("DELETE FROM revoked_sessions WHERE expires_at < ?"),
    };
  }

  async saveMagicLink(tokenHash: string, email: string, expiresAt: number, usable: boolean) {
    this.q.saveLink.run(tokenHash, email, expiresAt, usable ? 0 : 1);
  }

  async peekMagicLink(tokenHash: string): Promise<LinkInfo | null> {
    const row = this.q.getLink.get(tokenHash);
    if (!row) return null;
    return { email: row.email, expiresAt: row.expires_at, usable: row.used_at === null && row.disabled === 0 };
  }

  async consumeMagicLink(tokenHash: string, now: number): Promise<ConsumeResult> {
    // One UPDATE ... RETURNING: SQLite runs it atomically, so only one caller wins.
    const used = this.q.useLink.get(now, tokenHash);
    if (used) return { status: "ok", email: used.email };
    const link = this.q.getLink.get(tokenHash);
    if (link && link.used_at === null && link.disabled === 0) return { status: "expired", email: link.email };
    return { status: "invalid" };
  }

  async disableMagicLink(tokenHash: string) {
    this.q.disableLink.run(tokenHash);
  }

  async hitRateLimits(limits: Array<{ key: string; limit: number }>, windowMs: number, now: number): Promise<RateDecision> {
    return this.db.transaction((): RateDecision => {
      let retryAfterMs = 0;
      for (const { key, limit } of limits) {
        const { n, oldest } = this.q.countHits.get(key, now - windowMs)!;
        if (n >= limit) retryAfterMs = Math.max(retryAfterMs, (oldest ?? now) + windowMs - now);
      }
      if (retryAfterMs > 0) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
      for (const { key } of limits) this.q.addHit.run(key, now);
      return { allowed: true, retryAfterSeconds: 0 };
    })();
  }

  async revokeSession(jti: string, expiresAt: number) {
    this.q.revoke.run(jti, expiresAt);
  }

  async isRevoked(jti: string) {
    return this.q.isRevoked.get(jti) !== null;
  }

  async sessionVersion(email: string) {
    return this.q.version.get(email)?.version ?? 0;
  }

  async bumpSessionVersion(email: string) {
    return this.q.bump.get(email)!.version;
  }

  /** Forgets what no longer matters: old rate hits, long-expired links and revocations. */
  prune(now: number) {
    this.q.pruneHits.run(now - 3_600_000);
    this.q.pruneLinks.run(now - 86_400_000);
    this.q.pruneRevoked.run(now);
  }
}
