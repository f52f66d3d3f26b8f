/**
 * The session (PROTOCOL.md section 1): the JWT checks in order, Bearer over cookie with no
 * fallback, no query-string tokens, /auth/me, /auth/logout, /auth/logout-all, and sessions
 * surviving a restart (with a known key, and with the key generated into the data dir).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { signIn, tempDir, type TestServer } from "../helpers/server";
import { b64url, decodeJwtPart, HS256, mintJwt, sessionClaims } from "../helpers/jwt";
import { expectProblem } from "../helpers/problems";
import { TIMESTAMP } from "../helpers/timestamp";
import { bearer, KNOWN_SECRET, me, metrics, postJson, serversOfThisFile } from "./support";
import { VAPID_KEY_FILE } from "../../src/server/push/vapid";

const { servers, secrets: seenSecrets, start } = serversOfThisFile();
async function session(server: TestServer, email: string) {
  const jwt = await signIn(server, email);
  seenSecrets.push(jwt);
  return jwt;
}


describe("JWT checks", () => {
  let server: TestServer;
  let alice: string;
  beforeAll(async () => {
    server = await start({
      ALLOWED_EMAILS: "alice@example.com,bob@example.com,carol@example.com",
      JWT_SECRET_KEY: KNOWN_SECRET,
      MAGIC_LINK_RATE_LIMIT: "100",
    });
    alice = await session(server, "alice@example.com");
  });

  async function expect401(headers: Record<string, string>, path = "/auth/me") {
    await expectProblem(await me(server, headers, path), 401, "unauthenticated", path.split("?")[0]);
  }

  test("GET /auth/me: 200 with user and session times", async () => {
    const res = await me(server, bearer(alice));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(["session", "user"]);
    expect(body.user).toEqual({ id: "user:alice@example.com", email: "alice@example.com" });
    expect(Object.keys(body.session).sort()).toEqual(["expires_at", "issued_at"]);
    expect(body.session.issued_at).toMatch(TIMESTAMP);
    expect(body.session.expires_at).toMatch(TIMESTAMP);
    const claims = decodeJwtPart(alice.split(".")[1]);
    expect(new Date(body.session.issued_at).getTime()).toBe(claims.iat * 1000);
    expect(new Date(body.session.expires_at).getTime()).toBe(claims.exp * 1000);
    expect(claims.exp - claims.iat).toBe(30 * 86400);
  });

  test("GET /auth/me without a session: 401", async () => {
    await expect401({});
  });

  test("a token minted with the known key and the right claims is accepted (control for the cases below)", async () => {
    const claims = decodeJwtPart(alice.split(".")[1]);
    const minted = mintJwt(HS256, sessionClaims("alice@example.com", { ver: claims.ver }), KNOWN_SECRET);
    expect((await me(server, bearer(minted))).status).toBe(200);
  });

  test("tampered payload: 401", async () => {
    const [h, , s] = alice.split(".");
    const claims = decodeJwtPart(alice.split(".")[1]);
    const forged = `${h}.${b64url(JSON.stringify({ ...claims, sub: "user:bob@example.com", email: "bob@example.com" }))}.${s}`;
    await expect401(bearer(forged));
  });

  test("tampered signature: 401", async () => {
    const [h, p, s] = alice.split(".");
    const flipped = s.slice(0, 10) + (s[10] === "A" ? "B" : "A") + s.slice(11);
    await expect401(bearer(`${h}.${p}.${flipped}`));
    await expect401(bearer(`${h}.${p}.`));
    await expect401(bearer(`${h}.${p}`));
  });

  test("alg:none: 401", async () => {
    const claims = sessionClaims("alice@example.com");
    const body = `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
    await expect401(bearer(`${body}.`));
    await expect401(bearer(`${b64url(JSON.stringify({ alg: "None" }))}.${b64url(JSON.stringify(claims))}.`));
  });

  test("HS512 signed with the right key: 401", async () => {
    await expect401(bearer(mintJwt({ alg: "HS512", typ: "JWT" }, sessionClaims("alice@example.com"), KNOWN_SECRET, "sha512")));
  });

  test("an RS256 header over an HMAC signature with the right key: 401", async () => {
    await expect401(bearer(mintJwt({ alg: "RS256", typ: "JWT" }, sessionClaims("alice@example.com"), KNOWN_SECRET)));
  });

  test("signed with another key: 401", async () => {
    await expect401(bearer(mintJwt(HS256, sessionClaims("alice@example.com"), "another-secret-key-that-is-long-enough-000")));
  });

  test("expired (exp in the past, right key): 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect401(bearer(mintJwt(HS256, sessionClaims("alice@example.com", { iat: now - 7200, exp: now - 1 }), KNOWN_SECRET)));
  });

  test("a minted token for an address not on the allow-list: 403 not_allowed", async () => {
    const res = await me(server, bearer(mintJwt(HS256, sessionClaims("mallory@example.com"), KNOWN_SECRET)));
    await expectProblem(res, 403, "not_allowed", "/auth/me");
  });

  test("the checks run in the contract's order: expiry, revocation and version come before the allow-list (401, not 403)", async () => {
    const now = Math.floor(Date.now() / 1000);
    // Not allowed AND expired: the expiry is checked first.
    await expect401(bearer(mintJwt(HS256, sessionClaims("mallory@example.com", { iat: now - 7200, exp: now - 10 }), KNOWN_SECRET)));
    // Not allowed AND an old session version: the version is checked first.
    await expect401(bearer(mintJwt(HS256, sessionClaims("mallory@example.com", { ver: 7 }), KNOWN_SECRET)));
    // Not allowed AND a bad signature.
    await expect401(bearer(mintJwt(HS256, sessionClaims("mallory@example.com"), "another-secret-key-that-is-long-enough-000")));
  });

  test("garbage tokens: 401", async () => {
    for (const junk of ["x", "a.b.c", "....", "eyJ.eyJ.eyJ", "Bearer", "%00"]) await expect401(bearer(junk));
  });

  test("query-string tokens are never accepted", async () => {
    await expect401({}, `/auth/me?session_token=${alice}`);
    await expect401({}, `/auth/me?token=${alice}`);
    await expect401({}, `/auth/me?access_token=${alice}`);
    await expect401({}, `/auth/me?authorization=Bearer%20${alice}`);
  });

  test("Bearer wins over the cookie, with no fallback", async () => {
    const bob = await session(server, "bob@example.com");
    // Valid Bearer, junk cookie: the Bearer's user.
    const both = await me(server, { ...bearer(bob), cookie: "session_token=junk" });
    expect(both.status).toBe(200);
    expect((await both.json()).user.email).toBe("bob@example.com");
    // Two valid sessions: the Bearer's user, not the cookie's.
    const two = await me(server, { ...bearer(bob), cookie: `session_token=${alice}` });
    expect((await two.json()).user.email).toBe("bob@example.com");
    // Invalid or malformed Authorization with a valid cookie: 401, no fallback.
    await expect401({ authorization: "Bearer junk.junk.junk", cookie: `session_token=${alice}` });
    await expect401({ authorization: "Bearer ", cookie: `session_token=${alice}` });
    await expect401({ authorization: `Basic ${btoa("alice:pw")}`, cookie: `session_token=${alice}` });
    await expect401({ authorization: alice, cookie: `session_token=${alice}` });
    // The cookie alone works.
    expect((await me(server, { cookie: `theme=dark; session_token=${alice}; other=1` })).status).toBe(200);
  });

  test("failures are counted in roomz_auth_failures_total", async () => {
    const sum = (m: Map<string, number>) =>
      [...m].filter(([k]) => k.startsWith("roomz_auth_failures_total")).reduce((a, [, v]) => a + v, 0);
    const before = sum(await metrics(server));
    await me(server, bearer("a.b.c"));
    await me(server, {});
    expect(sum(await metrics(server))).toBe(before + 2);
  });

  test("POST /auth/logout: 200, clears the cookie, revokes only this session", async () => {
    const one = await session(server, "carol@example.com");
    const two = await session(server, "carol@example.com");
    const res = await postJson(server, "/auth/logout", "", bearer(one));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("session_token="));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/^session_token=;/);
    expect(cookie).toMatch(/Max-Age=0(;|$)/i);
    expect(cookie).toMatch(/Path=\//i);
    await expect401(bearer(one));
    // A minted token with the same jti (same key, fresh exp) is refused too: revocation is by jti.
    const claims = decodeJwtPart(one.split(".")[1]);
    await expect401(bearer(mintJwt(HS256, { ...claims, exp: claims.exp + 10 }, KNOWN_SECRET)));
    expect((await me(server, bearer(two))).status).toBe(200);
  });

  test("POST /auth/logout with a cookie session revokes it", async () => {
    const jwt = await session(server, "carol@example.com");
    const res = await postJson(server, "/auth/logout", "", { cookie: `session_token=${jwt}`, origin: server.url });
    expect(res.status).toBe(200);
    await expect401(bearer(jwt));
  });

  test("POST /auth/logout without a valid session still answers 200 and clears the cookie", async () => {
    for (const headers of [{}, bearer("junk"), { cookie: "session_token=junk" }]) {
      const res = await postJson(server, "/auth/logout", "", headers);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith("session_token="));
      expect(cookie).toMatch(/^session_token=;.*Max-Age=0/i);
    }
  });

  test("POST /auth/logout-all: ends every session of the user, not others'; a new sign-in works", async () => {
    const one = await session(server, "bob@example.com");
    const two = await session(server, "bob@example.com");
    const aliceNow = await session(server, "alice@example.com");
    const before = decodeJwtPart(one.split(".")[1]).ver;
    const res = await postJson(server, "/auth/logout-all", "", bearer(one));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", ended_sessions: "all" });
    await expect401(bearer(one));
    await expect401(bearer(two));
    // A token with the old version is refused even when freshly minted with the right key.
    await expect401(bearer(mintJwt(HS256, sessionClaims("bob@example.com", { ver: before }), KNOWN_SECRET)));
    expect((await me(server, bearer(aliceNow))).status).toBe(200);
    const fresh = await session(server, "bob@example.com");
    expect(decodeJwtPart(fresh.split(".")[1]).ver).not.toBe(before);
    expect((await me(server, bearer(fresh))).status).toBe(200);
  });

  test("POST /auth/logout-all without a valid session: 401", async () => {
    await expectProblem(await postJson(server, "/auth/logout-all", "", {}), 401, "unauthenticated", "/auth/logout-all");
    await expectProblem(await postJson(server, "/auth/logout-all", "", bearer("junk")), 401, "unauthenticated", "/auth/logout-all");
  });
});

describe("sessions and revocations survive a restart", () => {
  test("with JWT_SECRET_KEY: a session stays valid, a revoked jti and an old version stay refused", async () => {
    const server = await start({ ALLOWED_EMAILS: "r1@example.com,r2@example.com", JWT_SECRET_KEY: KNOWN_SECRET });
    const kept = await session(server, "r1@example.com");
    const revoked = await session(server, "r1@example.com");
    const ended = await session(server, "r2@example.com");
    expect((await postJson(server, "/auth/logout", "", bearer(revoked))).status).toBe(200);
    expect((await postJson(server, "/auth/logout-all", "", bearer(ended))).status).toBe(200);
    await server.restart();
    expect((await me(server, bearer(kept))).status).toBe(200);
    await expectProblem(await me(server, bearer(revoked)), 401, "unauthenticated", "/auth/me");
    await expectProblem(await me(server, bearer(ended)), 401, "unauthenticated", "/auth/me");
    // Also after a hard kill.
    await server.restart("SIGKILL");
    expect((await me(server, bearer(kept))).status).toBe(200);
    await expectProblem(await me(server, bearer(revoked)), 401, "unauthenticated", "/auth/me");
    await expectProblem(await me(server, bearer(ended)), 401, "unauthenticated", "/auth/me");
  }, 30_000);

  test("without JWT_SECRET_KEY: a key is generated once into the data dir (mode 0600) and reused", async () => {
    const dataDir = tempDir();
    const server = await start({ ALLOWED_EMAILS: "gen@example.com", JWT_SECRET_KEY: "" }, dataDir);
    const jwt = await session(server, "gen@example.com");
    // Everything but the database, its lock and the Web Push key pair (section 8): only the
    // session key may be there.
    const keyFiles = () =>
      readdirSync(dataDir).filter((f) => !/^roomz\.(sqlite|lock)/.test(f) && f !== VAPID_KEY_FILE && statSync(join(dataDir, f)).isFile());
    const files = keyFiles();
    expect(files.length).toBe(1);
    const keyPath = join(dataDir, files[0]);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyPath, "utf8");
    expect(key.trim().length).toBeGreaterThanOrEqual(32);
    expect(server.output).not.toContain(key.trim());

    await server.restart();
    expect(readFileSync(keyPath, "utf8")).toBe(key);
    expect(keyFiles()).toEqual(files);
    const res = await me(server, bearer(jwt));
    expect(res.status).toBe(200);

    // A token signed with that generated key is accepted; this proves which key signs.
    const minted = mintJwt(HS256, sessionClaims("gen@example.com"), key.trim());
    expect((await me(server, bearer(minted))).status).toBe(200);

    // A different data dir means a different key: the session is not valid there.
    const elsewhere = await start({ ALLOWED_EMAILS: "gen@example.com", JWT_SECRET_KEY: "" });
    await expectProblem(await me(elsewhere, bearer(jwt)), 401, "unauthenticated", "/auth/me");
    await elsewhere.stop();
    expect(elsewhere.output).not.toContain(key.trim());
  }, 30_000);

  test("JWT_SECRET_KEY is never printed", () => {
    for (const server of servers) expect(server.output).not.toContain(KNOWN_SECRET);
  });
});
