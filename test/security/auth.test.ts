/**
 * Security of sign-in and sessions (issue 9): cookie attributes, the Origin rule on POSTs
 * and upgrades, and JWT forgeries (algorithm confusion, alg:none, no signature, wrong
 * key, expired, revoked, ended, tampered), each refused on HTTP and on /ws alike.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { allServerOutput, requestToken, signIn, startServer, type TestServer } from "../helpers/server";
import { rawUpgrade } from "../helpers/upgrade";
import { SseClient } from "../helpers/sse";
import { WsClient } from "../helpers/ws-client";
import { expectProblemResponse, leakViolations, problemViolations, stackTraceLines } from "./support";

const SECRET = "security-test-secret-key-0123456789abcdefgh";
const DAY = 86400;

let server: TestServer;
let https: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { JWT_SECRET_KEY: SECRET, MAGIC_LINK_RATE_LIMIT: "1000", MAGIC_LINK_IP_RATE_LIMIT: "100000" } });
  https = await startServer({
    env: { JWT_SECRET_KEY: SECRET, PUBLIC_URL: "https://chat.example.com", MAGIC_LINK_RATE_LIMIT: "1000", MAGIC_LINK_IP_RATE_LIMIT: "100000" },
  });
});
afterAll(async () => {
  await server?.stop();
  await https?.stop();
});

function b64(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

function claimsFor(email: string, over: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { sub: `user:${email}`, email, iat: now, exp: now + 3600, jti: crypto.randomUUID(), ver: 0, ...over };
}

/** A token from parts: header, claims, and how to sign (algorithm + key), or a literal signature. */
function forge(header: Record<string, unknown>, claims: Record<string, unknown>, sign: { hmac?: "sha256" | "sha512"; key?: string; literal?: string }) {
  const input = `${b64(header)}.${b64(claims)}`;
  if (sign.literal !== undefined) return `${input}${sign.literal}`;
  return `${input}.${createHmac(sign.hmac ?? "sha256", sign.key ?? SECRET).update(input).digest("base64url")}`;
}

const me = (s: TestServer, headers: Record<string, string>) => fetch(`${s.url}/auth/me`, { headers });

async function expectRefusedEverywhere(token: string, code = "unauthenticated", status = 401) {
  await expectProblemResponse(await me(server, { authorization: `Bearer ${token}` }), status, code);
  await expectProblemResponse(await me(server, { cookie: `session_token=${token}` }), status, code);
  const upgrade = await rawUpgrade(server.wsUrl, { jwt: token });
  expect(upgrade.status).toBe(status);
  expect(problemViolations({ status: upgrade.status, contentType: upgrade.headers.get("content-type") ?? "", body: upgrade.body, path: "/ws" })).toEqual([]);
  expect(JSON.parse(upgrade.body).code).toBe(code);
}

describe("security: the session cookie", () => {
  test("JSON verify sets session_token: HttpOnly, SameSite=Strict, Path=/, Max-Age=30 days, no Secure over http; value = the session", async () => {
    const token = await requestToken(server, "alice@example.com");
    const res = await fetch(`${server.url}/auth/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token }) });
    expect(res.status).toBe(200);
    const { session } = await res.json();
    const cookie = res.headers.get("set-cookie")!;
    const [pair, ...attrs] = cookie.split(";").map((p) => p.trim());
    expect(pair).toBe(`session_token=${session}`);
    expect(attrs.map((a) => a.toLowerCase()).sort()).toEqual(["httponly", `max-age=${30 * DAY}`, "path=/", "samesite=strict"]);
  });

  test("form verify: 303 to / with the same cookie; PUBLIC_URL https adds Secure", async () => {
    const token = await requestToken(https, "bob@example.com");
    const res = await fetch(`${https.url}/auth/verify`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://chat.example.com" },
      body: new URLSearchParams({ token }).toString(),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    const attrs = res.headers.get("set-cookie")!.split(";").map((p) => p.trim().toLowerCase());
    expect(attrs[0]).toMatch(/^session_token=eyj/);
    expect(attrs.slice(1).sort()).toEqual(["httponly", `max-age=${30 * DAY}`, "path=/", "samesite=strict", "secure"]);
  });

  test("logout clears the cookie (Max-Age=0, same attributes) and the session stops working", async () => {
    const jwt = await signIn(server, "carol@example.com");
    const res = await fetch(`${server.url}/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${jwt}` } });
    expect(res.status).toBe(200);
    const attrs = res.headers.get("set-cookie")!.split(";").map((p) => p.trim().toLowerCase());
    expect(attrs[0]).toBe("session_token=");
    expect(attrs).toContain("max-age=0");
    expect(attrs).toContain("httponly");
    expect(attrs).toContain("path=/");
    await expectProblemResponse(await me(server, { authorization: `Bearer ${jwt}` }), 401, "unauthenticated");
  });
});

describe("security: Origin on state-changing requests and upgrades", () => {
  const foreign = ["http://evil.example", "null", "http://127.0.0.1.evil.example", "https://127.0.0.1:PORT", "http://127.0.0.1:1", "file://", "http://localhost:PORT"];
  const posts = ["/auth/request-magic-link", "/auth/verify", "/auth/logout", "/auth/logout-all"];

  test("every POST with a foreign Origin gets 403 bad_origin, whatever its body or session", async () => {
    const jwt = await signIn(server, "dave@example.com");
    for (const path of posts)
      for (const raw of foreign) {
        const origin = raw.replace("PORT", String(server.port));
        const res = await fetch(`${server.url}${path}`, {
          method: "POST",
          headers: { origin, authorization: `Bearer ${jwt}`, "content-type": "application/json" },
          body: JSON.stringify({ email: "alice@example.com", token: "x".repeat(43) }),
        });
        const doc = await expectProblemResponse(res, 403, "bad_origin");
        expect(doc.instance).toBe(path);
      }
    // The session survived all of it: logout and logout-all were refused.
    expect((await me(server, { authorization: `Bearer ${jwt}` })).status).toBe(200);
  });

  test("the server's own origin (from Host) and no Origin at all are accepted", async () => {
    const cases: Record<string, string>[] = [{ origin: `http://127.0.0.1:${server.port}` }, {}];
    for (const headers of cases) {
      const res = await fetch(`${server.url}/auth/request-magic-link`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ email: "nobody@example.com" }),
      });
      expect(res.status).toBe(200);
    }
  });

  test("with PUBLIC_URL set, only its origin counts (default port normalised), not the Host's", async () => {
    const send = (origin: string) =>
      fetch(`${https.url}/auth/request-magic-link`, { method: "POST", headers: { origin, "content-type": "application/json" }, body: '{"email":"x@example.com"}' });
    expect((await send("https://chat.example.com")).status).toBe(200);
    expect((await send("https://chat.example.com:443")).status).toBe(200);
    for (const bad of [`http://127.0.0.1:${https.port}`, "http://chat.example.com", "https://chat.example.com:8443", "https://chat.example.com.evil.example"])
      await expectProblemResponse(await send(bad), 403, "bad_origin");
  });

  test("a WebSocket upgrade with a foreign Origin gets 403 bad_origin before any session check; the own origin upgrades", async () => {
    const jwt = await signIn(server, "alice@example.com");
    for (const raw of foreign) {
      const origin = raw.replace("PORT", String(server.port));
      for (const options of [{ jwt, origin }, { origin }]) {
        const res = await rawUpgrade(server.wsUrl, options);
        expect(res.status).toBe(403);
        expect(JSON.parse(res.body)).toMatchObject({ code: "bad_origin", instance: "/ws" });
        expect(res.headers.get("content-type")).toStartWith("application/problem+json");
      }
    }
    expect((await rawUpgrade(server.wsUrl, { jwt, origin: `http://127.0.0.1:${server.port}` })).status).toBe(101);
    expect((await rawUpgrade(https.wsUrl, { jwt, origin: "https://chat.example.com" })).status).toBe(101);
    expect((await rawUpgrade(https.wsUrl, { jwt, origin: `http://127.0.0.1:${https.port}` })).status).toBe(403);
  });
});

describe("security: forged and dead sessions", () => {
  const alice = "alice@example.com";
  const hs256 = { alg: "HS256", typ: "JWT" };

  test("a correctly made token is accepted (the control for the forgeries below)", async () => {
    const token = forge(hs256, claimsFor(alice), {});
    expect((await me(server, { authorization: `Bearer ${token}` })).status).toBe(200);
    const ws = await WsClient.connect(server.wsUrl, { jwt: token });
    expect(ws.authenticated.data.user.email).toBe(alice);
    ws.close();
  });

  const cases: Array<[string, () => string]> = [
    ["HS512 signed with the right key", () => forge({ alg: "HS512", typ: "JWT" }, claimsFor(alice), { hmac: "sha512" })],
    ["RS256 header, HMAC-SHA256 signature with the key (algorithm confusion)", () => forge({ alg: "RS256", typ: "JWT" }, claimsFor(alice), {})],
    ["ES256 header with the HMAC signature", () => forge({ alg: "ES256", typ: "JWT" }, claimsFor(alice), {})],
    ["alg none, empty signature", () => forge({ alg: "none", typ: "JWT" }, claimsFor(alice), { literal: "." })],
    ["alg None (case), empty signature", () => forge({ alg: "None" }, claimsFor(alice), { literal: "." })],
    ["alg none with an HMAC signature", () => forge({ alg: "none", typ: "JWT" }, claimsFor(alice), {})],
    ["alg hs256 (lower case)", () => forge({ alg: "hs256", typ: "JWT" }, claimsFor(alice), {})],
    ["header without alg", () => forge({ typ: "JWT" }, claimsFor(alice), {})],
    ["no signature part at all", () => forge(hs256, claimsFor(alice), { literal: "" })],
    ["four parts", () => forge(hs256, claimsFor(alice), {}) + ".AAAA"],
    ["signed with another key", () => forge(hs256, claimsFor(alice), { key: "another-secret-key-0123456789abcdefghij" })],
    ["signed with an empty key", () => forge(hs256, claimsFor(alice), { key: "" })],
    ["expired a second ago", () => forge(hs256, claimsFor(alice, { exp: Math.floor(Date.now() / 1000) - 1 }), {})],
    ["payload swapped to another user after signing", () => {
      const [h, , s] = forge(hs256, claimsFor(alice), {}).split(".");
      return `${h}.${b64(claimsFor("bob@example.com"))}.${s}`;
    }],
    ["sub and email disagree", () => forge(hs256, claimsFor(alice, { sub: "user:bob@example.com" }), {})],
    ["ver from the future", () => forge(hs256, claimsFor(alice, { ver: 99 }), {})],
    ["ver missing", () => forge(hs256, { ...claimsFor(alice), ver: undefined }, {})],
    ["exp as a string", () => forge(hs256, claimsFor(alice, { exp: String(Math.floor(Date.now() / 1000) + 3600) }), {})],
    ["a truncated signature", () => forge(hs256, claimsFor(alice), {}).slice(0, -5)],
    ["a huge token", () => forge(hs256, claimsFor(alice, { pad: "x".repeat(6000) }), {})],
    ["not a JWT", () => "not-a-token"],
  ];
  for (const [name, make] of cases)
    test(`refused (401 unauthenticated on /auth/me, cookie and /ws): ${name}`, async () => {
      await expectRefusedEverywhere(make());
    });

  test("an open connection closes with 4001 once its session's exp passes, not before, and within about a second", async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = forge(hs256, claimsFor(alice, { exp }), {});
    const ws = await WsClient.connect(server.wsUrl, { jwt: token });
    const closed = await Promise.race([ws.closed, Bun.sleep(6000).then(() => null)]);
    const closedAt = Date.now();
    expect(closed?.code).toBe(4001);
    expect(closedAt).toBeGreaterThanOrEqual(exp * 1000);
    expect(closedAt).toBeLessThan(exp * 1000 + 2500);
  }, 10000);

  test("an open event stream (GET /api/stream) ends once its session's exp passes, not before", async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const stream = await SseClient.open(`${server.url}/api/stream`, { authorization: `Bearer ${forge(hs256, claimsFor(alice, { exp }), {})}` });
    expect(stream.response.status).toBe(200);
    await stream.endedSoon(6000);
    const endedAt = Date.now();
    expect(endedAt).toBeGreaterThanOrEqual(exp * 1000);
    expect(endedAt).toBeLessThan(exp * 1000 + 2500);
  }, 10000);

  test("a validly signed token for an address not on the allow-list gets 403 not_allowed", async () => {
    await expectRefusedEverywhere(forge(hs256, claimsFor("mallory@example.com"), {}), "not_allowed", 403);
  });

  test("revoked (logout) and ended (logout-all) sessions are refused on HTTP and WS, and stay refused after a restart", async () => {
    const revoked = await signIn(server, "bob@example.com");
    const ended = await signIn(server, "carol@example.com");
    const alsoEnded = await signIn(server, "carol@example.com");
    expect((await fetch(`${server.url}/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${revoked}` } })).status).toBe(200);
    expect((await fetch(`${server.url}/auth/logout-all`, { method: "POST", headers: { authorization: `Bearer ${ended}` } })).status).toBe(200);
    for (const t of [revoked, ended, alsoEnded]) await expectRefusedEverywhere(t);
    await server.restart("SIGTERM");
    for (const t of [revoked, ended, alsoEnded]) await expectRefusedEverywhere(t);
    expect((await me(server, { authorization: `Bearer ${await signIn(server, "carol@example.com")}` })).status).toBe(200);
  }, 30000);

  test("Authorization wins over the cookie with no fallback; odd Authorization forms and query-string tokens are refused", async () => {
    const good = await signIn(server, "dave@example.com");
    await expectProblemResponse(await me(server, { authorization: "Bearer nope", cookie: `session_token=${good}` }), 401, "unauthenticated");
    await expectProblemResponse(await me(server, { authorization: "", cookie: `session_token=${good}` }), 401, "unauthenticated");
    for (const authorization of [`Basic ${btoa(`dave@example.com:${good}`)}`, `Bearer  ${good} x`, `Token ${good}`, `Bearer ${good}, Bearer ${good}`, `Bearer`])
      await expectProblemResponse(await me(server, { authorization }), 401, "unauthenticated");
    await expectProblemResponse(await fetch(`${server.url}/auth/me?token=${good}`), 401, "unauthenticated");
    await expectProblemResponse(await fetch(`${server.url}/auth/me?session_token=${good}`), 401, "unauthenticated");
    for (const q of ["token", "session_token", "access_token", "jwt"]) {
      const res = await rawUpgrade(`${server.wsUrl}?${q}=${good}`, {});
      expect(res.status).toBe(401);
    }
    // A cookie alone works (the browser's way).
    expect((await me(server, { cookie: `other=1; session_token=${good}; x=y` })).status).toBe(200);
  });

  test("no token, JWT or stack trace in anything these servers printed", () => {
    expect(leakViolations(allServerOutput)).toEqual([]);
    expect(stackTraceLines(allServerOutput)).toEqual([]);
  });
});
