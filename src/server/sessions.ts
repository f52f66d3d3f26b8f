/**
 * Sessions: issuing the JWT and checking it on every authenticated request and upgrade,
 * in the contract's order: signature and algorithm, expiry, revocation, session version,
 * the allow-list. Bearer wins over the cookie, with no fallback; query strings never count.
 */
import type { AuthStore } from "../engine";
import { TOKEN_PREFIX, channelOf } from "../protocol";
import type { AllowList } from "./allow-list";
import type { Config } from "./config";
import { SessionTokens, type SessionClaims } from "./jwt";
import type { Metrics } from "./metrics";

export const COOKIE_NAME = "session_token";

export type AuthResult =
  | { ok: true; claims: SessionClaims; token: string }
  | { ok: false; code: "unauthenticated" | "not_allowed"; detail: string };

function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return cookies;
}

/** The session token a request carries: the Bearer header if present, else the cookie. */
export function sessionToken(request: Request): string | null {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(authorization.trim());
    return match ? match[1] : "";
  }
  return parseCookies(request.headers.get("cookie")).get(COOKIE_NAME) ?? null;
}

export class Sessions {
  private tokens: SessionTokens;

  constructor(
    private config: Config,
    private auth: AuthStore,
    private allowList: AllowList,
    private metrics: Metrics,
  ) {
    this.tokens = new SessionTokens(config.jwtSecret);
  }

  async issue(email: string): Promise<{ token: string; claims: SessionClaims }> {
    const now = Math.floor(Date.now() / 1000);
    return this.tokens.sign({
      sub: channelOf(email),
      email,
      exp: now + this.config.jwtExpiryDays * 86400,
      jti: crypto.randomUUID(),
      ver: await this.auth.sessionVersion(email),
    });
  }

  async authenticate(request: Request): Promise<AuthResult> {
    const token = sessionToken(request);
    if (token === null) return this.refuse("missing", "Sign in first: this request carries no session.");
    // Access tokens never work here (/auth/*): a stolen one can't make sessions or tokens.
    if (token.startsWith(TOKEN_PREFIX)) return this.refuse("invalid", "Access tokens can't be used here; this needs a signed-in session.");
    return this.check(token);
  }

  /** The claims of a correctly signed, unexpired token, whatever its revocation or address. */
  genuineClaims(request: Request): SessionClaims | null {
    const token = sessionToken(request);
    const claims = token ? this.tokens.verify(token) : null;
    return claims && claims.exp * 1000 > Date.now() ? claims : null;
  }

  async check(token: string): Promise<AuthResult> {
    const claims = this.tokens.verify(token);
    if (!claims) return this.refuse("invalid", "The session is not valid; sign in again.");
    const result = await this.stillValid(claims);
    return result.ok ? { ok: true, claims, token } : result;
  }

  /**
   * The checks after the signature, in order: expiry, revocation, session version, the
   * allow-list. Run again once a socket is registered, since a session can end while its
   * upgrade is being set up (PROTOCOL.md section 1, [v2]).
   */
  async stillValid(claims: SessionClaims): Promise<{ ok: true } | Extract<AuthResult, { ok: false }>> {
    if (claims.exp * 1000 <= Date.now()) return this.refuse("expired", "The session has expired; sign in again.");
    if (await this.auth.isRevoked(claims.jti)) return this.refuse("revoked", "This session was logged out; sign in again.");
    if ((await this.auth.sessionVersion(claims.email)) !== claims.ver)
      return this.refuse("ended", "This session was ended by logging out everywhere; sign in again.");
    if (!this.allowList.has(claims.email)) {
      this.metrics.authFailure("not_allowed");
      return { ok: false, code: "not_allowed", detail: "This address is no longer allowed to use this server." };
    }
    return { ok: true };
  }

  private refuse(reason: string, detail: string): Extract<AuthResult, { ok: false }> {
    this.metrics.authFailure(reason);
    return { ok: false, code: "unauthenticated", detail };
  }

  /** The Set-Cookie value carrying a session, or clearing it when `token` is null. */
  cookie(token: string | null): string {
    const maxAge = token === null ? 0 : this.config.jwtExpiryDays * 86400;
    const secure = this.config.secureCookies ? "; Secure" : "";
    return `${COOKIE_NAME}=${token ?? ""}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${secure}`;
  }
}
