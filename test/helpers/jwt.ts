/**
 * Session JWTs made by hand, as PROTOCOL.md section 1 ("The session") describes them, so
 * tests can forge what the server must refuse (another key, algorithm or version, expired,
 * unsigned). Written from the contract with node:crypto, never with the server's own
 * signing code, so a bug there can't hide behind the same bug here.
 */
import { createHmac } from "node:crypto";

export const HS256 = { alg: "HS256", typ: "JWT" } as const;

export function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

/** A JWT part (header or claims) decoded. */
export function decodeJwtPart(part: string): any {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

export function epochSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The claims of a session for `email`: valid for an hour, a fresh jti, version 0; `overrides` win. */
export function sessionClaims(email: string, overrides: Record<string, unknown> = {}) {
  const now = epochSeconds();
  return { sub: `user:${email}`, email, iat: now, exp: now + 3600, jti: crypto.randomUUID(), ver: 0, ...overrides };
}

/**
 * A JWT of any header and claims, signed HMAC-SHA256 (or `hash`) with `secret`; `"none"`
 * leaves the signature empty (`header.claims.`), as an `alg: none` token has it.
 */
export function mintJwt(header: object, claims: object, secret: string, hash: "sha256" | "sha512" | "none" = "sha256"): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${hash === "none" ? "" : createHmac(hash, secret).update(input).digest("base64url")}`;
}
