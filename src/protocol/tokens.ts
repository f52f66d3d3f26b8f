/**
 * Access tokens (PROTOCOL.md section 6): their shape, scopes and limits, shared by the
 * server, which issues and checks them, and the client core, which shows and sends them.
 */

export const TOKEN_SCOPES = ["send", "read", "full"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** What a request needs a token to allow: `send` (post, upload), `read` (history, stream, files), `socket` (WebSocket). */
export type TokenNeed = "send" | "read" | "socket";

/** `full` allows everything; `send` and `read` only their own kind; only `full` opens WebSockets. */
export function scopeAllows(scope: TokenScope, need: TokenNeed): boolean {
  return scope === "full" || scope === need;
}

/** `rz_` then 32 random bytes in base64url (43 characters). */
export const TOKEN_PREFIX = "rz_";
export const TOKEN_PATTERN = /^rz_[A-Za-z0-9_-]{43}$/;

export const TOKEN_NAME_MAX = 50;
export const TOKEN_EXPIRY_DAYS_MAX = 3650;
/** Live (unrevoked, unexpired) tokens a user may hold at once. */
export const MAX_TOKENS_PER_USER = 50;

/** A token as `GET /auth/tokens` lists it (the secret itself is never sent again). */
export interface TokenInfo {
  id: string;
  name: string;
  scope: TokenScope;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

/** The answer of `POST /auth/tokens`: the only time the secret is shown. */
export interface CreatedToken extends TokenInfo {
  token: string;
}
