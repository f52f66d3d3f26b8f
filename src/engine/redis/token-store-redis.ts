/**
 * Access tokens in Redis, shared by every instance. A user's tokens are one hash in the
 * user's slot (so counting and adding are one script, on a Redis Cluster too), their last
 * uses another hash in that slot; a key per token hash finds a presented token's owner.
 * That key alone never admits a token: the record in the user's hash must still exist.
 */
import type { TokenRecord, TokenStore } from "../token-store";
import { tokenLive } from "../token-store";
import type { Keyspace } from "./keys";
import type { Link } from "./redis-link";
import { CREATE_TOKEN, REVOKE_TOKEN } from "./scripts";

/** The record as stored: everything but the email (the key says it) and the last use. */
interface Stored {
  id: string;
  hash: string;
  name: string;
  scope: TokenRecord["scope"];
  createdAt: number;
  expiresAt: number | null;
}

function recordOf(email: string, json: string, lastUsed: string | null): TokenRecord {
  const { id, name, scope, createdAt, expiresAt } = JSON.parse(json) as Stored;
  return { id, email, name, scope, createdAt, expiresAt, lastUsedAt: lastUsed === null ? null : Number(lastUsed) };
}

export class RedisTokenStore implements TokenStore {
  constructor(private link: Link, private keys: Keyspace) {}

  async create(record: TokenRecord, hash: string, maxLive: number, now: number): Promise<boolean> {
    const { id, email, name, scope, createdAt, expiresAt } = record;
    const stored: Stored = { id, hash, name, scope, createdAt, expiresAt };
    const added = await this.link.script<number>(CREATE_TOKEN, [this.keys.tokens(email), this.keys.tokenUses(email)], [
      id,
      JSON.stringify(stored),
      String(now),
      String(maxLive),
    ]);
    if (added !== 1) return false;
    const expiry = expiresAt === null ? [] : ["PXAT", String(expiresAt)];
    await this.link.run("SET", [this.keys.tokenHash(hash), JSON.stringify({ e: email, i: id }), ...expiry]);
    return true;
  }

  async list(email: string, now: number): Promise<TokenRecord[]> {
    const [records, uses] = await Promise.all([this.hash(this.keys.tokens(email)), this.hash(this.keys.tokenUses(email))]);
    return Object.entries(records)
      .map(([id, json]) => recordOf(email, json, uses[id] ?? null))
      .filter((record) => tokenLive(record, now))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  }

  async find(hash: string, now: number): Promise<TokenRecord | null> {
    const owner = await this.link.run<string | null>("GET", [this.keys.tokenHash(hash)]);
    if (owner === null) return null;
    const { e: email, i: id } = JSON.parse(owner) as { e: string; i: string };
    const record = await this.get(email, id);
    return record && tokenLive(record, now) ? record : null;
  }

  async isLive(email: string, id: string, now: number): Promise<boolean> {
    const record = await this.get(email, id);
    return record !== null && tokenLive(record, now);
  }

  async revoke(email: string, id: string): Promise<boolean> {
    const json = await this.link.script<string | null>(REVOKE_TOKEN, [this.keys.tokens(email), this.keys.tokenUses(email)], [id]);
    if (!json) return false;
    // The record is gone, so the token is refused already; this only tidies up.
    await this.link.run("DEL", [this.keys.tokenHash((JSON.parse(json) as Stored).hash)]).catch(() => {});
    return true;
  }

  async touch(email: string, id: string, at: number): Promise<void> {
    await this.link.run("HSET", [this.keys.tokenUses(email), id, String(at)]);
  }

  private async get(email: string, id: string): Promise<TokenRecord | null> {
    const json = await this.link.run<string | null>("HGET", [this.keys.tokens(email), id]);
    return json === null ? null : recordOf(email, json, null);
  }

  /** HGETALL as an object, whichever shape the client answers with (Bun: object; ioredis: array). */
  private async hash(key: string): Promise<Record<string, string>> {
    const answer = await this.link.run<Record<string, string> | string[]>("HGETALL", [key]);
    if (!Array.isArray(answer)) return answer ?? {};
    const out: Record<string, string> = {};
    for (let i = 0; i < answer.length; i += 2) out[answer[i]] = answer[i + 1];
    return out;
  }
}
