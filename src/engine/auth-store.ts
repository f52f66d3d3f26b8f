/**
 * Persistent state of sign-in and sessions, kept by the engine so that with Redis every
 * instance shares it. Magic-link tokens arrive here already hashed.
 */
export type ConsumeResult = { status: "ok"; email: string } | { status: "invalid" } | { status: "expired"; email: string };

export interface LinkInfo {
  email: string;
  expiresAt: number;
  usable: boolean;
}

export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

export interface AuthStore {
  /** Stores a link; an unusable one (unknown address) is stored all the same, so both take equal work. */
  saveMagicLink(tokenHash: string, email: string, expiresAt: number, usable: boolean): Promise<void>;
  /** Looks at a link without using it (the GET confirm page). */
  peekMagicLink(tokenHash: string): Promise<LinkInfo | null>;
  /**
   * Uses a link atomically: of two racing calls, exactly one gets "ok". An unused but
   * expired link is left as it is and says "expired" every time it is tried.
   */
  consumeMagicLink(tokenHash: string, now: number): Promise<ConsumeResult>;
  /** Makes a link unusable (its email could not be sent). */
  disableMagicLink(tokenHash: string): Promise<void>;
  /**
   * Sliding-window limits checked together: when every key is under its limit, one hit is
   * counted on each; when any is over, nothing is counted and the longest wait is returned.
   */
  hitRateLimits(limits: Array<{ key: string; limit: number }>, windowMs: number, now: number): Promise<RateDecision>;
  revokeSession(jti: string, expiresAt: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  sessionVersion(email: string): Promise<number>;
  /** Raises the user's session version, ending every session issued before. */
  bumpSessionVersion(email: string): Promise<number>;
}
