/**
 * Access tokens (PROTOCOL.md section 6): minting, the checks of `POST /auth/tokens`,
 * listing, revoking on every instance, and finding the token a request presents. The
 * secret is `rz_` + 32 random bytes; only its SHA-256 is stored, and a presented token is
 * found by that hash (an index lookup: no secret is ever compared here). Its last use is
 * written at most once a minute per token and instance, so using a token costs no write
 * per message.
 */
import type { Engine, TokenRecord, TokenStore } from "../engine";
import {
  MAX_TOKENS_PER_USER,
  TOKEN_EXPIRY_DAYS_MAX,
  TOKEN_NAME_MAX,
  TOKEN_PATTERN,
  TOKEN_PREFIX,
  TOKEN_SCOPES,
  codePoints,
  hasControlCharacters,
  isoTime,
  trimWhiteSpace,
  type CreatedToken,
  type TokenInfo,
  type TokenScope,
} from "../protocol";
import { describeError, log } from "../log";

/** A token's last use is written at most this often (docs/protocol.md). */
export const LAST_USED_EVERY_MS = 60_000;
const DAY_MS = 86_400_000;

export type CreateResult = { ok: true; created: CreatedToken } | { ok: false; code: "invalid_request" | "rate_limited"; detail: string };

export function hashToken(secret: string): string {
  return new Bun.CryptoHasher("sha256").update(secret).digest("hex");
}

function mint(): string {
  return TOKEN_PREFIX + Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export function tokenInfo(record: TokenRecord): TokenInfo {
  return {
    id: record.id,
    name: record.name,
    scope: record.scope,
    created_at: isoTime(record.createdAt),
    expires_at: record.expiresAt === null ? null : isoTime(record.expiresAt),
    last_used_at: record.lastUsedAt === null ? null : isoTime(record.lastUsedAt),
  };
}

type Input = { name: string; scope: TokenScope; expiresInDays: number | null };

/** The body of `POST /auth/tokens`, checked once; a string is the detail of a 400. */
export function parseTokenRequest(body: unknown): Input | string {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return 'Send a JSON object like {"name": "backup script", "scope": "send", "expires_in_days": 365}.';
  const { name, scope, expires_in_days: days } = body as Record<string, unknown>;
  if (typeof name !== "string") return "`name` must be a string of 1 to 50 characters.";
  const trimmed = trimWhiteSpace(name);
  if (trimmed === "" || codePoints(trimmed) > TOKEN_NAME_MAX || !trimmed.isWellFormed() || hasControlCharacters(trimmed))
    return `\`name\` must be 1 to ${TOKEN_NAME_MAX} characters, without control characters.`;
  if (!TOKEN_SCOPES.includes(scope as TokenScope)) return '`scope` must be "send", "read" or "full".';
  if (days !== null && days !== undefined && !(Number.isInteger(days) && (days as number) >= 1 && (days as number) <= TOKEN_EXPIRY_DAYS_MAX))
    return `\`expires_in_days\` must be a whole number from 1 to ${TOKEN_EXPIRY_DAYS_MAX}, or null for a token that does not expire.`;
  return { name: trimmed, scope: scope as TokenScope, expiresInDays: (days as number | null | undefined) ?? null };
}

export class Tokens {
  /** Token id → when this instance last wrote its use. */
  private written = new Map<string, number>();

  constructor(private store: TokenStore, private engine: Engine) {}

  async create(email: string, body: unknown): Promise<CreateResult> {
    const input = parseTokenRequest(body);
    if (typeof input === "string") return { ok: false, code: "invalid_request", detail: input };
    const now = Date.now();
    const record: TokenRecord = {
      id: crypto.randomUUID(),
      email,
      name: input.name,
      scope: input.scope,
      createdAt: now,
      expiresAt: input.expiresInDays === null ? null : now + input.expiresInDays * DAY_MS,
      lastUsedAt: null,
    };
    const secret = mint();
    if (!(await this.store.create(record, hashToken(secret), MAX_TOKENS_PER_USER, now)))
      return { ok: false, code: "rate_limited", detail: `You already have ${MAX_TOKENS_PER_USER} tokens; revoke one you no longer use first.` };
    return { ok: true, created: { token: secret, ...tokenInfo(record) } };
  }

  async list(email: string): Promise<TokenInfo[]> {
    return (await this.store.list(email, Date.now())).map(tokenInfo);
  }

  /** Revokes the token here and on every instance (its sockets and streams close with 4001). */
  async revoke(email: string, id: string): Promise<boolean> {
    if (!(await this.store.revoke(email, id))) return false;
    this.written.delete(id);
    await this.engine.control({ kind: "token_revoked", tokenId: id });
    return true;
  }

  /** The live token this secret belongs to, or null; notes its use. */
  async find(secret: string): Promise<TokenRecord | null> {
    if (!TOKEN_PATTERN.test(secret)) return null;
    const now = Date.now();
    const record = await this.store.find(hashToken(secret), now);
    if (record) this.used(record, now);
    return record;
  }

  isLive(email: string, id: string): Promise<boolean> {
    return this.store.isLive(email, id, Date.now());
  }

  private used(record: TokenRecord, now: number) {
    const last = this.written.get(record.id) ?? record.lastUsedAt ?? 0;
    if (now - last < LAST_USED_EVERY_MS) return;
    if (this.written.size >= 10_000) this.written.clear();
    this.written.set(record.id, now);
    this.store.touch(record.email, record.id, now).catch((error) => log.warn(`recording a token's use failed: ${describeError(error)}`));
  }
}
