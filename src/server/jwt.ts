/**
 * HS256 JSON Web Tokens, and nothing else: the header must say exactly HS256, so
 * `alg:none` and algorithm confusion fail before any key is used. Signatures compare
 * in constant time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export interface SessionClaims {
  sub: string;
  email: string;
  iat: number;
  exp: number;
  jti: string;
  ver: number;
}

const HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");

function sign(input: string, secret: string): Buffer {
  return createHmac("sha256", secret).update(input).digest();
}

export function signJwt(claims: SessionClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const input = `${HEADER}.${payload}`;
  return `${input}.${sign(input, secret).toString("base64url")}`;
}

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return null;
  }
}

function isClaims(value: unknown): value is SessionClaims {
  const c = value as SessionClaims;
  return (
    typeof c === "object" && c !== null &&
    typeof c.sub === "string" && typeof c.email === "string" && c.sub === `user:${c.email}` &&
    Number.isInteger(c.iat) && Number.isInteger(c.exp) &&
    typeof c.jti === "string" && c.jti.length > 0 && Number.isInteger(c.ver)
  );
}

/** The claims of a well-formed HS256 token signed with `secret`, or null. Expiry is the caller's. */
export function verifyJwt(token: string, secret: string): SessionClaims | null {
  if (token.length > 4096) return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [headerPart, payloadPart, signaturePart] = parts;
  const header = decodeJson(headerPart) as { alg?: unknown; typ?: unknown } | null;
  if (!header || header.alg !== "HS256" || ("typ" in header && header.typ !== "JWT")) return null;
  if (!/^[A-Za-z0-9_-]+$/.test(signaturePart)) return null;
  const expected = sign(`${headerPart}.${payloadPart}`, secret);
  const given = Buffer.from(signaturePart, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const claims = decodeJson(payloadPart);
  return isClaims(claims) ? claims : null;
}
