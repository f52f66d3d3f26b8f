/**
 * Access tokens at rest (PROTOCOL.md section 6), kept by the engine so that with Redis
 * every instance shares them. Tokens arrive here already hashed (SHA-256, hex); the
 * secret itself is never stored. A revoked token is deleted; an expired one is treated as
 * gone and removed when next seen. With Redis, a user's tokens share one hash slot.
 */
import type { TokenScope } from "../protocol";

export interface TokenRecord {
  id: string;
  email: string;
  name: string;
  scope: TokenScope;
  createdAt: number;
  /** Milliseconds since the epoch, or null for a token that never expires. */
  expiresAt: number | null;
  lastUsedAt: number | null;
}

export interface TokenStore {
  /**
   * Stores a token unless the user already holds `maxLive` live ones (then false). The
   * count and the write are one atomic step per user: two racing creations can't pass it.
   */
  create(record: TokenRecord, hash: string, maxLive: number, now: number): Promise<boolean>;
  /** The user's live tokens, newest first. */
  list(email: string, now: number): Promise<TokenRecord[]>;
  /** The live token with this hash, or null (unknown, revoked or expired). */
  find(hash: string, now: number): Promise<TokenRecord | null>;
  /** Whether the user's token `id` is still live (the re-check of a socket opened with it). */
  isLive(email: string, id: string, now: number): Promise<boolean>;
  /** Deletes the user's token; false when the user has no such token. */
  revoke(email: string, id: string): Promise<boolean>;
  /** Records a use (callers write at most about once a minute per token). */
  touch(email: string, id: string, at: number): Promise<void>;
}

/** Whether a stored token is live at `now`. */
export function tokenLive(record: Pick<TokenRecord, "expiresAt">, now: number): boolean {
  return record.expiresAt === null || record.expiresAt > now;
}
