/**
 * src/server/jwt.ts in-process: sessions are signed by @elysiajs/jwt (jose) and checked by
 * the hand-written HS256 verifier (docs/protocol.md, "Sessions"). The two must agree on
 * every token the server makes, and the verifier must refuse every token whose header is
 * not exactly HS256, whose signature is not the canonical MAC with the server's key, or
 * whose claims are not a session's, including tokens jose itself would accept.
 * test/security/auth.test.ts proves the same refusals over HTTP and /ws.
 */
import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { jwt } from "@elysiajs/jwt";
import { MAX_TOKEN_LENGTH, SessionTokens, verifyJwt } from "../../src/server/jwt";

const SECRET = "unit-test-secret-key-0123456789abcdefghijkl";
const tokens = new SessionTokens(SECRET);
const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

function claimsFor(email: string, over: Record<string, unknown> = {}) {
  return { sub: `user:${email}`, email, iat: now(), exp: now() + 3600, jti: crypto.randomUUID(), ver: 0, ...over };
}

/** Claims as the plugin's `sign` takes them: it sets `iat` itself. */
function withoutIat({ iat: _, ...claims }: ReturnType<typeof claimsFor>) {
  return claims;
}

/** A token from parts, MACed by hand: `hash` and `key` choose the signature. */
function forge(header: unknown, claims: unknown, hash = "sha256", key = SECRET): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac(hash, key).update(input).digest("base64url")}`;
}

/** jose's own verify, pinned as tightly as the plugin allows. */
const jose = jwt({ secret: SECRET }).decorator.jwt;
const joseVerify = (token: string) => jose.verify(token, { algorithms: ["HS256"], requiredClaims: ["exp"] });

describe("signing with @elysiajs/jwt", () => {
  test("the header is exactly {alg: HS256, typ: JWT}; the claims come back from the token, iat included", async () => {
    const before = now();
    const { token, claims } = await tokens.sign({ sub: "user:a@example.com", email: "a@example.com", exp: before + 60, jti: "j-1", ver: 3 });
    const [header, payload] = token.split(".");
    expect(Buffer.from(header, "base64url").toString()).toBe('{"alg":"HS256","typ":"JWT"}');
    expect(JSON.parse(Buffer.from(payload, "base64url").toString())).toEqual(claims);
    expect(claims).toMatchObject({ sub: "user:a@example.com", email: "a@example.com", exp: before + 60, jti: "j-1", ver: 3 });
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.iat).toBeLessThanOrEqual(now());
    expect(tokens.verify(token)).toEqual(claims);
  });

  test("jose accepts what the server signs and what the verifier accepts; the verifier accepts jose's", async () => {
    const { token, claims } = await tokens.sign({ sub: "user:b@example.com", email: "b@example.com", exp: now() + 60, jti: "j-2", ver: 0 });
    expect(await joseVerify(token)).toMatchObject(claims);
    const byHand = forge({ alg: "HS256", typ: "JWT" }, claimsFor("c@example.com"));
    expect(await joseVerify(byHand)).toMatchObject({ email: "c@example.com" });
    expect(verifyJwt(byHand, SECRET)?.email).toBe("c@example.com");
    expect(verifyJwt(forge({ alg: "HS256" }, claimsFor("d@example.com")), SECRET)?.email).toBe("d@example.com");
  });
});

describe("the verifier refuses", () => {
  const alice = "alice@example.com";
  const hs256 = { alg: "HS256", typ: "JWT" };
  const good = () => forge(hs256, claimsFor(alice));
  const cases: Array<[string, () => string | Promise<string>]> = [
    ["alg none, no signature", () => `${b64({ alg: "none", typ: "JWT" })}.${b64(claimsFor(alice))}.`],
    ["alg none with the HMAC signature", () => forge({ alg: "none", typ: "JWT" }, claimsFor(alice))],
    ["RS256 header over the HMAC signature (algorithm confusion)", () => forge({ alg: "RS256", typ: "JWT" }, claimsFor(alice))],
    ["HS384 made by jose with the right key", () => jwt({ secret: SECRET, alg: "HS384" }).decorator.jwt.sign(withoutIat(claimsFor(alice)))],
    ["HS512 made by jose with the right key", () => jwt({ secret: SECRET, alg: "HS512" }).decorator.jwt.sign(withoutIat(claimsFor(alice)))],
    ["HS512 header, HMAC-SHA512 by hand", () => forge({ alg: "HS512", typ: "JWT" }, claimsFor(alice), "sha512")],
    ["alg hs256 in lower case", () => forge({ alg: "hs256", typ: "JWT" }, claimsFor(alice))],
    ["typ jwt in lower case (jose would accept it)", () => forge({ alg: "HS256", typ: "jwt" }, claimsFor(alice))],
    ["a kid in the header (jose would accept it)", () => forge({ ...hs256, kid: "other-key" }, claimsFor(alice))],
    ["crit and b64 in the header", () => forge({ ...hs256, b64: true, crit: ["b64"] }, claimsFor(alice))],
    ["a header that is an array", () => forge(["HS256"], claimsFor(alice))],
    ["a header that is not JSON", () => forge("{alg:HS256}", claimsFor(alice))],
    ["signed with another key", () => forge(hs256, claimsFor(alice), "sha256", "another-secret-key-0123456789abcdefghij")],
    ["signed by jose with another key", () => jwt({ secret: "another-secret-key-0123456789abcdefghij" }).decorator.jwt.sign(withoutIat(claimsFor(alice)))],
    ["payload swapped after signing", () => {
      const [h, , s] = good().split(".");
      return `${h}.${b64(claimsFor("bob@example.com"))}.${s}`;
    }],
    ["one signature byte flipped", () => {
      const [h, p, s] = good().split(".");
      const mac = Buffer.from(s, "base64url");
      mac[0] ^= 1;
      return `${h}.${p}.${mac.toString("base64url")}`;
    }],
    ["the same MAC in a non-canonical encoding (spare bits set)", () => {
      const token = good();
      const last = token.at(-1)!;
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      // 32 bytes leave 2 unused bits in the last of 43 characters: +1 keeps the bytes.
      const twin = alphabet[alphabet.indexOf(last) + 1];
      const forged = token.slice(0, -1) + twin;
      expect(Buffer.from(forged.split(".")[2], "base64url")).toEqual(Buffer.from(token.split(".")[2], "base64url"));
      return forged;
    }],
    ["the MAC with base64 padding", () => `${good()}=`],
    ["a truncated signature", () => good().slice(0, -4)],
    ["no signature part", () => good().split(".").slice(0, 2).join(".")],
    ["four parts", () => `${good()}.AAAA`],
    ["exp missing (made by jose)", () => jwt({ secret: SECRET }).decorator.jwt.sign({ sub: `user:${alice}`, email: alice, jti: "x", ver: 0 })],
    ["exp as a string", () => forge(hs256, claimsFor(alice, { exp: String(now() + 60) }))],
    ["ver missing", () => forge(hs256, { ...claimsFor(alice), ver: undefined })],
    ["sub and email disagree", () => forge(hs256, claimsFor(alice, { sub: "user:bob@example.com" }))],
    ["an empty jti", () => forge(hs256, claimsFor(alice, { jti: "" }))],
    ["a payload that is not an object", () => forge(hs256, "null")],
    [`over ${MAX_TOKEN_LENGTH} characters`, () => forge(hs256, claimsFor(alice, { pad: "x".repeat(MAX_TOKEN_LENGTH) }))],
    ["the empty string", () => ""],
  ];
  for (const [name, make] of cases)
    test(name, async () => {
      const token = await make();
      expect(verifyJwt(token, SECRET)).toBeNull();
      expect(tokens.verify(token)).toBeNull();
    });

  test("the control: the same forge with an exact header and the right key is accepted", () => {
    expect(verifyJwt(good(), SECRET)?.email).toBe(alice);
  });

  test("expiry is the caller's: an expired but genuine token still yields its claims (Sessions counts it as expired)", () => {
    const expired = forge(hs256, claimsFor(alice, { exp: now() - 10 }));
    expect(verifyJwt(expired, SECRET)?.exp).toBeLessThan(now());
  });
});
