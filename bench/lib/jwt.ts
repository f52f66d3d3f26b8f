/**
 * Mints Roomz sessions directly (PROTOCOL.md section 1, "The session"): HS256 JWTs signed
 * with the server's JWT_SECRET_KEY, so the bench needs no magic-link round trips.
 */
import { createHmac, randomBytes } from "node:crypto";

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString("base64url");
const HEADER = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));

export function mintSession(secret: string, email: string, ttlSeconds = 86400): string {
  const iat = Math.floor(Date.now() / 1000);
  const claims = { sub: `user:${email}`, email, iat, exp: iat + ttlSeconds, jti: randomBytes(16).toString("hex"), ver: 0 };
  const body = `${HEADER}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

export function randomSecret(length = 48): string {
  return randomBytes(length).toString("base64url").slice(0, length);
}

/** Bench user `i` (1-based): u0001@bench.test ... u9999@bench.test. */
export const benchEmail = (i: number) => `u${String(i).padStart(4, "0")}@bench.test`;
