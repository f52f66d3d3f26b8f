/**
 * HS256 JSON Web Tokens, and nothing else (docs/protocol.md, "Sessions").
 *
 * Signing goes through @elysiajs/jwt (jose underneath), as the design card names it.
 * Verifying stays hand-written, because of what the plugin's verify costs where it runs:
 * every authenticated request and every WebSocket upgrade. Measured on this repository
 * (2 cores, other work running, medians):
 *   - one verify: plugin 34 µs wall (26 µs with a pre-imported CryptoKey, 52 µs with a
 *     KeyObject) against 3 µs here;
 *   - GET /auth/me end to end (bench/probe/auth-cost.ts, server CPU per request): 87 µs
 *     with this verify, 143 µs with the plugin's: +57 µs, +65 %, for the same answer;
 *   - one WebSocket connect (bench/probe/upgrade-cost.ts, server CPU per connect + close,
 *     5 runs of each, interleaved): 580 µs with this verify (380-620), 840 µs with the
 *     plugin's (600-960), 740 µs with the plugin and a CryptoKey (500-840); connect to
 *     `authenticated` p50 0.47 ms against 0.67 ms.
 * Signing happens once per sign-in, next to SQLite writes; there the plugin's 45-57 µs is
 * noise. Every token it signs is read back through `verifyJwt` before it is handed out.
 *
 * The checks, all before any claim is trusted: at most 4096 characters (refused without
 * parsing); three parts; a header that is exactly `{"alg":"HS256"}` plus, optionally,
 * `"typ":"JWT"`, so `alg:none` and algorithm confusion (RS256, HS384, HS512...) fail
 * before any key is used, and a header with anything more (`kid`, `jwk`, `crit`...) too; the
 * signature compared in constant time and only in its canonical encoding; then the
 * claims' shape. Expiry is the caller's, so that an expired session is counted as
 * `expired`, not `invalid`.
 *
 * Besides its cost, the plugin's `verify` is looser: its `alg` option only affects
 * signing, so a plain `verify(token)` accepts HS384/HS512 tokens made with the same
 * secret and tokens without `exp`; pinned (`{ algorithms: ["HS256"], requiredClaims:
 * ["exp"] }`) it still accepts a `kid`, `crit`/`b64` or `typ: "jwt"` in the header and
 * the MAC in a non-canonical encoding, and it answers an expired token with the same
 * `false` as a forged one.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { jwt } from "@elysiajs/jwt";
import { channelOf } from "../protocol";

export interface SessionClaims {
  sub: string;
  email: string;
  iat: number;
  exp: number;
  jti: string;
  ver: number;
}

export const MAX_TOKEN_LENGTH = 4096;

function mac(input: string, secret: string): Buffer {
  return createHmac("sha256", secret).update(input).digest();
}

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return null;
  }
}

function isHeader(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const header = value as Record<string, unknown>;
  const keys = Object.keys(header);
  return header.alg === "HS256" && keys.every((k) => k === "alg" || (k === "typ" && header.typ === "JWT"));
}

function isClaims(value: unknown): value is SessionClaims {
  const c = value as SessionClaims;
  return (
    typeof c === "object" && c !== null &&
    typeof c.sub === "string" && typeof c.email === "string" && c.sub === channelOf(c.email) &&
    Number.isInteger(c.iat) && Number.isInteger(c.exp) &&
    typeof c.jti === "string" && c.jti.length > 0 && Number.isInteger(c.ver)
  );
}

/** The claims of a well-formed HS256 token signed with `secret`, or null. Expiry is the caller's. */
export function verifyJwt(token: string, secret: string): SessionClaims | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [headerPart, payloadPart, signaturePart] = parts;
  if (!isHeader(decodeJson(headerPart))) return null;
  // The canonical base64url of the MAC, compared as bytes in constant time: a signature
  // with other padding bits or stray characters is not the same signature.
  const expected = Buffer.from(mac(`${headerPart}.${payloadPart}`, secret).toString("base64url"));
  const given = Buffer.from(signaturePart);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const claims = decodeJson(payloadPart);
  return isClaims(claims) ? claims : null;
}

/** Signs sessions with @elysiajs/jwt and checks them with `verifyJwt`. */
export class SessionTokens {
  // The plugin is an Elysia instance whose decorator holds `sign` and `verify`. Sessions
  // are also checked outside Elysia (the WebSocket upgrade, upgrade.ts), so the decorator
  // is taken once, here, rather than mounted on the HTTP routes.
  private signer: { sign(claims: Record<string, string | number>): Promise<string> };

  constructor(private secret: string) {
    this.signer = jwt({ name: "sessionJwt", secret, alg: "HS256", typ: "JWT" }).decorator.sessionJwt;
  }

  /** A signed token for `claims`; `iat` is the signer's clock, so the claims come back from the token itself. */
  async sign(claims: Omit<SessionClaims, "iat">): Promise<{ token: string; claims: SessionClaims }> {
    const token = await this.signer.sign({ sub: claims.sub, email: claims.email, exp: claims.exp, jti: claims.jti, ver: claims.ver });
    const signed = verifyJwt(token, this.secret);
    if (!signed || signed.jti !== claims.jti || signed.exp !== claims.exp)
      throw new Error("@elysiajs/jwt signed a session token that the HS256 verifier refuses");
    return { token, claims: signed };
  }

  verify(token: string): SessionClaims | null {
    return verifyJwt(token, this.secret);
  }
}
