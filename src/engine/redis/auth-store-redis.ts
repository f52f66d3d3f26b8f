/** Sign-in and session state in Redis, shared by every instance. */
import type { AuthStore, ConsumeResult, LinkInfo, RateDecision } from "../auth-store";
import type { Keyspace } from "./keys";
import type { Link } from "./redis-link";
import { CONSUME_LINK, DISABLE_LINK, RATE_LIMIT, SAVE_LINK } from "./scripts";

/** A link's record outlives its expiry by a day, so a late click says "expired", not "invalid". */
const LINK_KEEP_MS = 86_400_000;

export class RedisAuthStore implements AuthStore {
  private hits = 0;

  constructor(private link: Link, private keys: Keyspace) {}

  async saveMagicLink(tokenHash: string, email: string, expiresAt: number, usable: boolean) {
    const key = this.keys.link(tokenHash);
    await this.link.script(SAVE_LINK, [key], [
      email,
      String(expiresAt),
      usable ? "1" : "0",
      String(expiresAt + LINK_KEEP_MS),
    ]);
  }

  async peekMagicLink(tokenHash: string): Promise<LinkInfo | null> {
    const [email, expiresAt, usable] = await this.link.run<Array<string | null>>("HMGET", [this.keys.link(tokenHash), "email", "expires_at", "usable"]);
    if (email === null || expiresAt === null) return null;
    return { email, expiresAt: Number(expiresAt), usable: usable === "1" };
  }

  async consumeMagicLink(tokenHash: string, now: number): Promise<ConsumeResult> {
    const row = await this.link.script<[string, string] | null>(CONSUME_LINK, [this.keys.link(tokenHash)], [String(now)]);
    if (!row) return { status: "invalid" };
    const [email, expiresAt] = row;
    return Number(expiresAt) <= now ? { status: "expired", email } : { status: "ok", email };
  }

  async disableMagicLink(tokenHash: string) {
    await this.link.script(DISABLE_LINK, [this.keys.link(tokenHash)], []);
  }

  async hitRateLimits(limits: Array<{ key: string; limit: number }>, windowMs: number, now: number): Promise<RateDecision> {
    if (limits.length === 0) return { allowed: true, retryAfterSeconds: 0 };
    const member = `${now}-${process.pid}-${++this.hits}-${Math.random().toString(36).slice(2)}`;
    const waitMs = await this.link.script<number>(
      RATE_LIMIT,
      limits.map((l) => this.keys.rate(l.key)),
      [String(now), String(windowMs), member, ...limits.map((l) => String(l.limit))],
    );
    if (waitMs > 0) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    return { allowed: true, retryAfterSeconds: 0 };
  }

  async revokeSession(jti: string, expiresAt: number) {
    // Kept until the session would have expired anyway; at least a minute, against clock skew.
    const at = Math.max(expiresAt, Date.now() + 60_000);
    await this.link.run("SET", [this.keys.revoked(jti), "1", "PXAT", String(at)]);
  }

  async isRevoked(jti: string) {
    // Bun answers EXISTS with a boolean; older versions with 1/0.
    return Boolean(await this.link.run<number | boolean>("EXISTS", [this.keys.revoked(jti)]));
  }

  async sessionVersion(email: string) {
    return Number((await this.link.run<string | null>("HGET", [this.keys.sessionVersions, email])) ?? 0);
  }

  async bumpSessionVersion(email: string) {
    return Number(await this.link.run<number>("HINCRBY", [this.keys.sessionVersions, email, "1"]));
  }
}
