/**
 * Who is making a request to `/api/*`, `/files/*` or `/ws` (PROTOCOL.md sections 1 and 6),
 * in one place. `authenticate(request, need)` answers either a Principal or an AuthRefusal
 * (401 unauthenticated, 403 not_allowed, 403 insufficient_scope); `refusal(...)` turns the
 * latter into its problem document. Routes use it like this:
 *
 *   const auth = await deps.auth.authenticate(request, "send");   // or "read", "socket"
 *   if (!auth.ok) return refusal(auth, path);
 *   const { email, channel } = auth.principal;
 *
 * Needs: "send" (post messages, upload files), "read" (history, the stream, reading files),
 * "socket" (open a WebSocket). Sessions (cookie or bearer JWT) may do everything; an access
 * token (`Authorization: Bearer rz_...`) only what its scope allows (`scopeAllows`). Tokens
 * are never accepted on `/auth/*`: those routes use Sessions directly, which refuses them.
 *
 * `recheck(...)` runs the checks again for a socket or stream already registered, since a
 * session or token can end while it was being set up.
 */
import { channelOf, scopeAllows, TOKEN_PREFIX, type TokenNeed, type TokenScope } from "../protocol";
import type { AllowList } from "./allow-list";
import type { Metrics } from "./metrics";
import { problem } from "./problem";
import { sessionToken, type Sessions } from "./sessions";
import type { Tokens } from "./tokens";

/** The key a token's sockets and streams are found by (a session's is its jti). */
export function tokenCredential(tokenId: string): string {
  return `token:${tokenId}`;
}

export interface Principal {
  email: string;
  channel: string;
  kind: "session" | "token";
  /** A session's scope is "full". */
  scope: TokenScope;
  /** The session's jti, or null for a token. */
  sessionId: string | null;
  tokenId: string | null;
  tokenName: string | null;
  /** What ends its sockets and streams: the session's jti, or `token:<id>`. */
  credential: string;
  /** When it expires (ms); MAX_SAFE_INTEGER for a token that never does. */
  expiresAt: number;
  /** The session's version (`ver`); 0 for a token. */
  sessionVersion: number;
}

export type AuthRefusal = { ok: false; code: "unauthenticated" | "not_allowed" | "insufficient_scope"; detail: string };
export type AuthResult = { ok: true; principal: Principal } | AuthRefusal;

/** What a registered socket or stream keeps of its principal, enough to check it again. */
export type Credential = Pick<Principal, "email" | "credential" | "expiresAt" | "sessionVersion">;

export function refusal(refused: AuthRefusal, path: string): Response {
  return problem(refused.code, refused.detail, path);
}

const NEED_WORDS: Record<TokenNeed, string> = {
  send: "post messages or upload files",
  read: "read messages or files",
  socket: "open WebSocket connections",
};

export class RequestAuth {
  constructor(
    private sessions: Sessions,
    private tokens: Tokens,
    private allowList: AllowList,
    private metrics: Metrics,
  ) {}

  async authenticate(request: Request, need: TokenNeed): Promise<AuthResult> {
    const presented = sessionToken(request);
    if (presented !== null && presented.startsWith(TOKEN_PREFIX)) return this.byToken(presented, need);
    const auth = await this.sessions.authenticate(request);
    if (!auth.ok) return auth;
    const { claims } = auth;
    return {
      ok: true,
      principal: {
        email: claims.email,
        channel: claims.sub,
        kind: "session",
        scope: "full",
        sessionId: claims.jti,
        tokenId: null,
        tokenName: null,
        credential: claims.jti,
        expiresAt: claims.exp * 1000,
        sessionVersion: claims.ver,
      },
    };
  }

  private async byToken(secret: string, need: TokenNeed): Promise<AuthResult> {
    const record = await this.tokens.find(secret);
    if (!record) return this.refuse("token", "This access token is not valid: it was revoked, it expired, or it was mistyped.");
    if (!this.allowList.has(record.email)) return this.notAllowed();
    if (!scopeAllows(record.scope, need)) {
      this.metrics.authFailure("insufficient_scope");
      return { ok: false, code: "insufficient_scope", detail: `This token's scope is "${record.scope}"; it can't ${NEED_WORDS[need]}.` };
    }
    return {
      ok: true,
      principal: {
        email: record.email,
        channel: channelOf(record.email),
        kind: "token",
        scope: record.scope,
        sessionId: null,
        tokenId: record.id,
        tokenName: record.name,
        credential: tokenCredential(record.id),
        expiresAt: record.expiresAt ?? Number.MAX_SAFE_INTEGER,
        sessionVersion: 0,
      },
    };
  }

  /** The checks again, for a socket or stream once registered (so every end reaches it). */
  async recheck(credential: Credential): Promise<{ ok: true } | AuthRefusal> {
    const { email, expiresAt } = credential;
    const tokenPrefix = tokenCredential("");
    if (!credential.credential.startsWith(tokenPrefix)) {
      const exp = Math.floor(expiresAt / 1000);
      const claims = { sub: channelOf(email), email, iat: 0, exp, jti: credential.credential, ver: credential.sessionVersion };
      return this.sessions.stillValid(claims);
    }
    if (!(await this.tokens.isLive(email, credential.credential.slice(tokenPrefix.length))))
      return this.refuse("token", "This access token was revoked or has expired.");
    return this.allowList.has(email) ? { ok: true } : this.notAllowed();
  }

  private refuse(reason: string, detail: string): AuthRefusal {
    this.metrics.authFailure(reason);
    return { ok: false, code: "unauthenticated", detail };
  }

  private notAllowed(): AuthRefusal {
    this.metrics.authFailure("not_allowed");
    return { ok: false, code: "not_allowed", detail: "This address is no longer allowed to use this server." };
  }
}
