/**
 * GET /ws upgrade (PROTOCOL.md sections 1 and 2): refusals answered before upgrading with
 * problem documents, in the contract's order, and the `authenticated` frame.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signIn, type TestServer } from "../helpers/server";
import { epochSeconds, HS256, mintJwt, sessionClaims } from "../helpers/jwt";
import { expectProblem } from "../helpers/problems";
import { RawWsClient } from "../helpers/raw-ws";
import { TIMESTAMP } from "../helpers/timestamp";
import { rawUpgrade } from "../helpers/upgrade";
import { WsClient } from "../helpers/ws-client";
import { freshUser, JWT_SECRET_KEY, startWsServer } from "./support";

const MAX_CONNECTIONS = 3;
let server: TestServer;

beforeAll(async () => {
  server = await startWsServer({ MAX_CONNECTIONS_PER_USER: String(MAX_CONNECTIONS) });
}, 30000);
afterAll(() => server?.stop(), 30000);

describe("upgrade refusals", () => {
  test("401 unauthenticated without a session, with a bad token, a forged or expired one, alg none, or a query-string token", async () => {
    const email = freshUser();
    const good = await signIn(server, email);
    const cases: Array<[string, Parameters<typeof rawUpgrade>[1]]> = [
      ["no session", {}],
      ["garbage bearer", { jwt: "not-a-jwt" }],
      ["empty bearer", { headers: { authorization: "Bearer " } }],
      ["Basic scheme", { headers: { authorization: `Basic ${good}` } }],
      ["other key", { jwt: mintJwt(HS256, sessionClaims(email), "another-secret-key-that-is-long-enough-000000") }],
      ["expired", { jwt: mintJwt(HS256, sessionClaims(email, { exp: epochSeconds() - 5 }), JWT_SECRET_KEY) }],
      ["alg none", { jwt: mintJwt({ alg: "none", typ: "JWT" }, sessionClaims(email), JWT_SECRET_KEY, "none") }],
      ["alg HS512 header", { jwt: mintJwt({ alg: "HS512", typ: "JWT" }, sessionClaims(email), JWT_SECRET_KEY) }],
      ["wrong ver", { jwt: mintJwt(HS256, sessionClaims(email, { ver: 7 }), JWT_SECRET_KEY) }],
      ["tampered signature", { jwt: good.slice(0, -3) + (good.endsWith("AAA") ? "BBB" : "AAA") }],
    ];
    for (const [what, options] of cases) {
      const response = await rawUpgrade(server.wsUrl, options);
      expect({ what, status: response.status }).toEqual({ what, status: 401 });
      await expectProblem(response, 401, "unauthenticated", "/ws");
    }
    const query = await rawUpgrade(`${server.wsUrl}?token=${good}&session=${good}&access_token=${good}`);
    await expectProblem(query, 401, "unauthenticated", "/ws");
    // and the good session upgrades
    expect((await rawUpgrade(server.wsUrl, { jwt: good })).status).toBe(101);
  });

  test("the session cookie upgrades; a present Bearer header wins over it with no fallback", async () => {
    const jwt = await signIn(server, freshUser());
    expect((await rawUpgrade(server.wsUrl, { cookie: `session_token=${jwt}` })).status).toBe(101);
    const bearerWins = await rawUpgrade(server.wsUrl, { cookie: `session_token=${jwt}`, jwt: "bad.bad.bad" });
    await expectProblem(bearerWins, 401, "unauthenticated", "/ws");
    const client = await WsClient.connect(server.wsUrl, { cookie: `other=1; session_token=${jwt}` });
    expect(client.authenticated.type).toBe("authenticated");
    client.close();
  });

  test("403 bad_origin for a foreign Origin, checked before the session; the server's own origin is accepted", async () => {
    const jwt = await signIn(server, freshUser());
    for (const origin of ["http://evil.example", `https://127.0.0.1:${server.port}`, `http://127.0.0.1:${server.port + 1}`, "null"]) {
      const response = await rawUpgrade(server.wsUrl, { jwt, origin });
      await expectProblem(response, 403, "bad_origin", "/ws");
    }
    // order: Origin before the session
    await expectProblem(await rawUpgrade(server.wsUrl, { origin: "http://evil.example" }), 403, "bad_origin", "/ws");
    await expectProblem(await rawUpgrade(server.wsUrl, { origin: "http://evil.example", jwt: "garbage" }), 403, "bad_origin", "/ws");
    // the server's own origin (PUBLIC_URL unset: http:// + Host), default port normalisation aside
    expect((await rawUpgrade(server.wsUrl, { jwt, origin: `http://127.0.0.1:${server.port}` })).status).toBe(101);
    const client = await WsClient.connect(server.wsUrl, { jwt, origin: `http://127.0.0.1:${server.port}` });
    expect(client.authenticated.data.user.email).toBeDefined();
    client.close();
  });

  test("with PUBLIC_URL set, its origin (default port normalised) is the only one accepted, whatever the Host", async () => {
    const withPublic = await startWsServer({ PUBLIC_URL: "https://chat.example.com" });
    try {
      const jwt = await signIn(withPublic, freshUser());
      for (const origin of ["https://chat.example.com", "https://chat.example.com:443", "https://CHAT.example.com"])
        expect({ origin, status: (await rawUpgrade(withPublic.wsUrl, { jwt, origin })).status }).toEqual({ origin, status: 101 });
      for (const origin of [`http://127.0.0.1:${withPublic.port}`, "http://chat.example.com", "https://chat.example.com:8443", "https://evil.chat.example.com"])
        await expectProblem(await rawUpgrade(withPublic.wsUrl, { jwt, origin }), 403, "bad_origin", "/ws");
      // no Origin at all (CLI, bots): allowed
      expect((await rawUpgrade(withPublic.wsUrl, { jwt })).status).toBe(101);
    } finally {
      await withPublic.stop();
    }
  });

  test("403 not_allowed for a valid session of an address not on the allow-list", async () => {
    const jwt = mintJwt(HS256, sessionClaims("stranger@example.com"), JWT_SECRET_KEY);
    await expectProblem(await rawUpgrade(server.wsUrl, { jwt }), 403, "not_allowed", "/ws");
    // order: a foreign Origin is refused first
    const badOriginFirst = await rawUpgrade(server.wsUrl, { jwt, origin: "http://evil.example" });
    await expectProblem(badOriginFirst, 403, "bad_origin", "/ws");
  });

  test("429 rate_limited with Retry-After over MAX_CONNECTIONS_PER_USER; a closed connection frees its slot; other users unaffected", async () => {
    const email = freshUser();
    const jwt = await signIn(server, email);
    const open: WsClient[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) open.push(await WsClient.connect(server.wsUrl, { jwt }));
    const refused = await rawUpgrade(server.wsUrl, { jwt });
    await expectProblem(refused, 429, "rate_limited", "/ws");
    const retryAfter = refused.headers.get("retry-after");
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // a second session of the same user counts toward the same limit
    const otherSession = await signIn(server, email);
    await expectProblem(await rawUpgrade(server.wsUrl, { jwt: otherSession }), 429, "rate_limited", "/ws");
    // order: Origin and session come before the limit
    await expectProblem(await rawUpgrade(server.wsUrl, { jwt, origin: "http://evil.example" }), 403, "bad_origin", "/ws");
    // another user is not limited by this one
    const other = await WsClient.connect(server.wsUrl, { jwt: await signIn(server, freshUser()) });
    other.close();
    // closing one frees a slot
    await open[0].closeAndWait();
    let status = 0;
    for (let i = 0; i < 40 && status !== 101; i++) {
      status = (await rawUpgrade(server.wsUrl, { jwt })).status;
      if (status !== 101) await Bun.sleep(50);
    }
    expect(status).toBe(101);
    for (const c of open) c.close();
  });

  test("a burst of simultaneous upgrades never passes MAX_CONNECTIONS_PER_USER", async () => {
    const jwt = await signIn(server, freshUser());
    const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => WsClient.connect(server.wsUrl, { jwt })));
    const opened = attempts.filter((a) => a.status === "fulfilled").map((a) => (a as PromiseFulfilledResult<WsClient>).value);
    expect(opened.length).toBe(MAX_CONNECTIONS);
    const last = opened.map((c) => c.authenticated.data.connections.length).sort().pop();
    expect(last).toBeLessThanOrEqual(MAX_CONNECTIONS);
    for (const c of opened) c.close();
  });

  test("400 invalid_request for a `since` that is not a non-negative integer", async () => {
    const jwt = await signIn(server, freshUser());
    for (const since of ["-1", "abc", "1.5", "", "1e3", "0x10", " 1", "+1", "NaN"]) {
      const response = await rawUpgrade(`${server.wsUrl}?since=${encodeURIComponent(since)}`, { jwt });
      expect({ since, status: response.status }).toEqual({ since, status: 400 });
      await expectProblem(response, 400, "invalid_request", "/ws");
    }
    for (const since of ["0", "7"]) expect((await rawUpgrade(`${server.wsUrl}?since=${since}`, { jwt })).status).toBe(101);
  });

  test("a `since` far above the last seq (here Number.MAX_SAFE_INTEGER) is a non-negative integer: upgrade, and a reset replay [v2]", async () => {
    const jwt = await signIn(server, freshUser());
    const client = await WsClient.connect(server.wsUrl, { jwt, since: String(Number.MAX_SAFE_INTEGER) });
    expect(client.replay!.data).toEqual({ messages: [], complete: true, reset: true });
    client.close();
  });
});

describe("authenticated", () => {
  test("is the first frame, with user, channel, connection_id, epoch, server_time and every connection by connected_at", async () => {
    const email = freshUser();
    const jwt = await signIn(server, email);
    const before = Date.now();
    const first = await WsClient.connect(server.wsUrl, { jwt });
    expect(first.frames[0].type).toBe("authenticated");
    const a = first.frames[0];
    expect(Object.keys(a).sort()).toEqual(["data", "type"]);
    expect(Object.keys(a.data).sort()).toEqual(["channel", "connection_id", "connections", "epoch", "server_time", "user"]);
    expect(a.data.user).toEqual({ id: `user:${email}`, email, display_name: null });
    expect(a.data.channel).toBe(`user:${email}`);
    expect(typeof a.data.connection_id).toBe("string");
    expect(a.data.connection_id.length).toBeGreaterThan(0);
    expect(typeof a.data.epoch).toBe("string");
    expect(a.data.epoch.length).toBeGreaterThan(0);
    expect(a.data.server_time).toMatch(TIMESTAMP);
    const serverTime = Date.parse(a.data.server_time);
    expect(serverTime).toBeGreaterThanOrEqual(before - 2000);
    expect(serverTime).toBeLessThanOrEqual(Date.now() + 2000);
    expect(a.data.connections).toHaveLength(1);
    expect(a.data.connections[0]).toEqual({ connection_id: a.data.connection_id, display_name: null, connected_at: expect.stringMatching(TIMESTAMP) });

    await first.request("set_display_name", { display_name: "Laptop" });
    await Bun.sleep(5);
    const second = await WsClient.connect(server.wsUrl, { jwt });
    await Bun.sleep(5);
    const third = await WsClient.connect(server.wsUrl, { jwt: await signIn(server, email) });
    const conns = third.authenticated.data.connections;
    expect(conns.map((c: any) => c.connection_id)).toEqual([first.connectionId, second.connectionId, third.connectionId]);
    expect(conns.map((c: any) => c.display_name)).toEqual(["Laptop", null, null]);
    const times = conns.map((c: any) => Date.parse(c.connected_at));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    expect(new Set([first.connectionId, second.connectionId, third.connectionId]).size).toBe(3);
    // the user object of the new connection has its own (null) display name
    expect(third.authenticated.data.user.display_name).toBeNull();
    // the epoch is the channel's, the same for every connection
    expect(second.authenticated.data.epoch).toBe(a.data.epoch);
    expect(third.authenticated.data.epoch).toBe(a.data.epoch);
    // a closed connection is gone from later lists
    await second.closeAndWait();
    await Bun.sleep(50);
    const fourth = await WsClient.connect(server.wsUrl, { jwt });
    expect(fourth.authenticated.data.connections.map((c: any) => c.connection_id)).toEqual([first.connectionId, third.connectionId, fourth.connectionId]);
    for (const c of [first, third, fourth]) c.close();
  });

  test("no history frame follows authenticated without `since`", async () => {
    const jwt = await signIn(server, freshUser());
    const client = await WsClient.connect(server.wsUrl, { jwt });
    await client.request("ping");
    expect(client.frames.filter((f) => f.type === "history")).toEqual([]);
    client.close();
  });

  test("frames sent right on the 101, before `authenticated` is read, are all answered, after it", async () => {
    const email = freshUser();
    const jwt = await signIn(server, email);
    const early = [
      { type: "ping", ref: "e1" },
      { type: "message", ref: "e2", data: { content: "early bird" } },
      { type: "bogus", ref: "e3" },
      { type: "set_display_name", ref: "e4", data: { display_name: "Early" } },
      { type: "history", ref: "e5", data: { limit: 5 } },
    ];
    const raw = await RawWsClient.connect(`${server.wsUrl}?since=0`, { jwt }, early);
    await raw.until(() => ["e1", "e2", "e3", "e4", "e5"].every((r) => raw.frames.some((f) => f.ref === r)), "replies to early frames");
    await raw.until(() => raw.frames.some((f) => f.type === "message"), "the early message frame");
    expect(raw.frames[0].type).toBe("authenticated");
    expect(raw.frames[1].type).toBe("history"); // the replay comes before any reply
    expect(raw.frames[1].data).toEqual({ messages: [], complete: true, reset: false });
    // each request answered exactly once (replies to different requests may interleave)
    const replies = raw.frames.filter((f) => f.ref);
    expect(replies.map((f) => `${f.ref}:${f.type}`).sort()).toEqual(["e1:ack", "e2:ack", "e3:error", "e4:ack", "e5:ack"]);
    const byRef = Object.fromEntries(replies.map((f) => [f.ref, f]));
    expect(byRef.e1.data.server_time).toMatch(TIMESTAMP);
    expect(byRef.e2.data).toMatchObject({ seq: 1, duplicate: false });
    expect(byRef.e3.data.code).toBe("unknown_type");
    expect(byRef.e4.data).toEqual({ display_name: "Early" });
    expect(Array.isArray(byRef.e5.data.messages)).toBe(true);
    const message = raw.frames.find((f) => f.type === "message")!;
    expect(message.data.content).toBe("early bird");
    expect(raw.frames.indexOf(message)).toBeGreaterThan(raw.frames.indexOf(byRef.e2));
    raw.close();
  });
});
