/**
 * Access tokens (PROTOCOL.md section 6), row by row: create, list, revoke; the 51st token;
 * scopes (`insufficient_scope`); never on /auth/*; revocation, expiry, logout-all and the
 * allow-list under open sockets and streams; the token's name on its WebSocket; the
 * secret only hashed at rest and nowhere in the server's output.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testEngineIsRedis } from "../helpers/redis";
import { signIn, tempDir, type TestServer } from "../helpers/server";
import { expectProblem } from "../helpers/problems";
import { SseClient } from "../helpers/sse";
import { rawUpgrade } from "../helpers/upgrade";
import { within } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";
import { API_USERS, bearer, createToken, freshUser, postMessage, postToken, revokeToken, startApiServer, tokenUserOn } from "./support";

let server: TestServer;
const secrets: string[] = [];
const allowFile = join(tempDir("roomz-api-allow-"), "allowed.txt");
/** Listed only in the file, so SIGHUP can remove them. */
const FILE_USERS = ["tokhup1@example.com", "tokhup2@example.com"];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

beforeAll(async () => {
  writeFileSync(allowFile, `${FILE_USERS.join("\n")}\n`);
  server = await startApiServer({ ALLOWED_EMAILS: API_USERS.join(","), ALLOWED_EMAILS_FILE: allowFile });
}, 30000);
afterAll(() => server?.stop(), 30000);

/** Creates a token and remembers its secret for the at-rest and log checks at the end. */
async function token(jwt: string, scope = "full", name?: string, days: number | null = null) {
  const created = await createToken(server, jwt, scope, name, days);
  secrets.push(created.token);
  return created;
}

async function tokenUser(scope = "full", name?: string) {
  const made = await tokenUserOn(server, scope, undefined, name);
  secrets.push(made.token.token);
  return made;
}

const get = (path: string, credential: string) => fetch(`${server.url}${path}`, { headers: bearer(credential) });

describe("creating, listing, revoking", () => {
  test("POST /auth/tokens answers 201 with the secret once; GET lists newest first without it; last_used_at follows use", async () => {
    const jwt = await signIn(server, freshUser());
    const first = await token(jwt, "send", "  cron job  ", 30);
    expect(Object.keys(first).sort()).toEqual(["created_at", "expires_at", "id", "last_used_at", "name", "scope", "token"]);
    expect(first.token).toMatch(/^rz_[A-Za-z0-9_-]{43}$/);
    expect(first).toMatchObject({ name: "cron job", scope: "send", last_used_at: null });
    expect(first.created_at).toMatch(ISO);
    expect(Date.parse(first.expires_at!) - Date.parse(first.created_at)).toBe(30 * 86_400_000);
    const second = await token(jwt, "read", "dashboard");
    expect(second.expires_at).toBeNull();
    const listed = await (await get("/auth/tokens", jwt)).json();
    expect(listed.tokens.map((t: any) => t.id)).toEqual([second.id, first.id]);
    for (const t of listed.tokens) expect(t.token).toBeUndefined();
    expect(listed.tokens[1]).toEqual({ ...first, token: undefined });
    expect((await postMessage(server, first.token, "hello")).status).toBe(201);
    const after = (await (await get("/auth/tokens", jwt)).json()).tokens.find((t: any) => t.id === first.id);
    expect(after.last_used_at).toMatch(ISO);
  });

  test("bad bodies get 400 invalid_request; wrong methods 405; no session 401; a foreign Origin 403", async () => {
    const jwt = await signIn(server, freshUser());
    const bad = [
      "not json",
      [],
      {},
      { name: "", scope: "send" },
      { name: "   ", scope: "send" },
      { name: "x".repeat(51), scope: "send" },
      { name: "tab\there", scope: "send" },
      { name: "n", scope: "admin" },
      { name: "n" },
      { name: "n", scope: "send", expires_in_days: 0 },
      { name: "n", scope: "send", expires_in_days: 3651 },
      { name: "n", scope: "send", expires_in_days: 1.5 },
      { name: "n", scope: "send", expires_in_days: "7" },
    ];
    for (const body of bad) await expectProblem(await postToken(server, jwt, body), 400, "invalid_request", "/auth/tokens");
    expect((await postToken(server, jwt, { name: "x".repeat(50), scope: "full", expires_in_days: 3650 })).status).toBe(201);
    await expectProblem(await fetch(`${server.url}/auth/tokens`, { method: "PUT", headers: bearer(jwt) }), 405, "method_not_allowed", "/auth/tokens");
    await expectProblem(await fetch(`${server.url}/auth/tokens/x`, { method: "GET", headers: bearer(jwt) }), 405, "method_not_allowed", "/auth/tokens/x");
    await expectProblem(await fetch(`${server.url}/auth/tokens`), 401, "unauthenticated", "/auth/tokens");
    const foreign = await fetch(`${server.url}/auth/tokens`, {
      method: "POST",
      headers: bearer(jwt, { origin: "https://evil.example", "content-type": "application/json" }),
      body: JSON.stringify({ name: "n", scope: "send" }),
    });
    await expectProblem(foreign, 403, "bad_origin", "/auth/tokens");
  });

  test("the 51st live token is refused with 429 rate_limited; revoking one makes room", async () => {
    const jwt = await signIn(server, freshUser());
    const made = await Promise.all(Array.from({ length: 50 }, (_, i) => postToken(server, jwt, { name: `t${i}`, scope: "send" })));
    expect(made.map((r) => r.status)).toEqual(Array(50).fill(201));
    for (const r of made) secrets.push(((await r.json()) as any).token);
    await expectProblem(await postToken(server, jwt, { name: "one too many", scope: "send" }), 429, "rate_limited", "/auth/tokens");
    const listed = (await (await get("/auth/tokens", jwt)).json()).tokens;
    expect(listed).toHaveLength(50);
    expect((await revokeToken(server, jwt, listed[0].id)).status).toBe(200);
    expect((await postToken(server, jwt, { name: "room again", scope: "send" })).status).toBe(201);
  }, 30000);

  test("DELETE of an unknown id, or another user's, is 404 and leaves the token working", async () => {
    const owner = await tokenUser("send");
    const other = await signIn(server, freshUser());
    await expectProblem(await revokeToken(server, other, owner.token.id), 404, "not_found", `/auth/tokens/${owner.token.id}`);
    await expectProblem(await revokeToken(server, owner.jwt, "no-such-id"), 404, "not_found", "/auth/tokens/no-such-id");
    expect((await postMessage(server, owner.token.token, "still here")).status).toBe(201);
  });
});

describe("a token never works on /auth/*", () => {
  test("me, tokens, logout-all and revoking answer 401; logout with a token ends nothing", async () => {
    const { jwt, token: t } = await tokenUser("full");
    const secret = t.token;
    await expectProblem(await get("/auth/me", secret), 401, "unauthenticated", "/auth/me");
    await expectProblem(await get("/auth/tokens", secret), 401, "unauthenticated", "/auth/tokens");
    await expectProblem(await postToken(server, secret, { name: "child", scope: "full" }), 401, "unauthenticated", "/auth/tokens");
    await expectProblem(await revokeToken(server, secret, t.id), 401, "unauthenticated", `/auth/tokens/${t.id}`);
    await expectProblem(await fetch(`${server.url}/auth/logout-all`, { method: "POST", headers: bearer(secret) }), 401, "unauthenticated", "/auth/logout-all");
    expect((await fetch(`${server.url}/auth/logout`, { method: "POST", headers: bearer(secret) })).status).toBe(200);
    expect((await postMessage(server, secret, "the token still works")).status).toBe(201);
    expect((await get("/auth/me", jwt)).status).toBe(200);
  });
});

describe("scopes", () => {
  test("send posts only; read reads only; full does both and opens WebSockets; the rest is 403 insufficient_scope", async () => {
    const { jwt } = await tokenUser("full");
    const send = (await token(jwt, "send")).token;
    const read = (await token(jwt, "read")).token;
    const full = (await token(jwt, "full")).token;
    expect((await postMessage(server, send, "from send")).status).toBe(201);
    expect((await postMessage(server, full, "from full")).status).toBe(201);
    await expectProblem(await postMessage(server, read, "from read"), 403, "insufficient_scope", "/api/messages");
    await expectProblem(await get("/api/messages", send), 403, "insufficient_scope", "/api/messages");
    await expectProblem(await get("/api/messages?since=0", send), 403, "insufficient_scope", "/api/messages");
    await expectProblem(await get("/api/stream", send), 403, "insufficient_scope", "/api/stream");
    expect((await get("/api/messages", read)).status).toBe(200);
    expect((await get("/api/messages", full)).status).toBe(200);
    for (const reader of [read, full]) {
      const stream = await SseClient.open(`${server.url}/api/stream?since=0`, bearer(reader));
      expect(stream.response.status).toBe(200);
      await stream.until(() => stream.messages().length === 2, "the two messages");
      stream.close();
    }
    await expectProblem(await rawUpgrade(server.wsUrl, { jwt: send }), 403, "insufficient_scope", "/ws");
    await expectProblem(await rawUpgrade(server.wsUrl, { jwt: read }), 403, "insufficient_scope", "/ws");
    const socket = await WsClient.connect(server.wsUrl, { jwt: full });
    socket.close();
  });
});

describe("scopes on files", () => {
  test("send uploads, read reads, full does both; the other way round is 403 insufficient_scope", async () => {
    const { jwt } = await tokenUser("full");
    const [send, read, full] = await Promise.all(["send", "read", "full"].map(async (scope) => (await token(jwt, scope)).token));
    const upload = (credential: string) =>
      fetch(`${server.url}/api/files?name=note.txt`, { method: "POST", headers: bearer(credential, { "content-type": "text/plain" }), body: "hello file" });
    const sent = await upload(send);
    expect(sent.status).toBe(201);
    const { id } = await sent.json();
    expect((await upload(full)).status).toBe(201);
    await expectProblem(await upload(read), 403, "insufficient_scope", "/api/files");
    for (const reader of [read, full]) expect(await (await get(`/files/${id}`, reader)).text()).toBe("hello file");
    await expectProblem(await get(`/files/${id}`, send), 403, "insufficient_scope", `/files/${id}`);
  });
});

describe("a token's WebSocket", () => {
  test("shows as a connection named by the token until it sets its own name; its messages carry that name", async () => {
    const { jwt, token: t } = await tokenUser("full", "home assistant");
    const session = await WsClient.connect(server.wsUrl, { jwt });
    const bot = await WsClient.connect(server.wsUrl, { jwt: t.token });
    expect(bot.authenticated.data.connections.find((c: any) => c.connection_id === bot.connectionId).display_name).toBe("home assistant");
    const joined = await session.waitFor((f) => f.type === "user_joined");
    expect(joined.data.user.display_name).toBe("home assistant");
    expect((await bot.request("message", { content: "lights off" })).type).toBe("ack");
    const seen = await session.waitFor((f) => f.type === "message");
    expect(seen.data.user.display_name).toBe("home assistant");
    expect((await bot.request("set_display_name", { display_name: "hass" })).data.display_name).toBe("hass");
    expect((await bot.request("message", { content: "renamed" })).type).toBe("ack");
    expect((await session.waitFor((f) => f.type === "message" && f.data.content === "renamed")).data.user.display_name).toBe("hass");
    session.close();
    bot.close();
  });
});

describe("tokens ending", () => {
  test("revoking closes the token's sockets (4001) and streams at once; sessions and other tokens stay", async () => {
    const { jwt, token: t } = await tokenUser("full");
    const keep = await token(jwt, "full", "keep");
    const doomed = await WsClient.connect(server.wsUrl, { jwt: t.token });
    const stream = await SseClient.open(`${server.url}/api/stream`, bearer(t.token));
    const other = await WsClient.connect(server.wsUrl, { jwt: keep.token });
    const session = await WsClient.connect(server.wsUrl, { jwt });
    expect((await revokeToken(server, jwt, t.id)).status).toBe(200);
    expect((await within(doomed.closed, 5000, "the revoked token's socket to close")).code).toBe(4001);
    await stream.endedSoon();
    await expectProblem(await postMessage(server, t.token, "revoked"), 401, "unauthenticated", "/api/messages");
    await expectProblem(await rawUpgrade(server.wsUrl, { jwt: t.token }), 401, "unauthenticated", "/ws");
    expect((await (await get("/auth/tokens", jwt)).json()).tokens.map((x: any) => x.id)).not.toContain(t.id);
    expect((await other.request("ping")).type).toBe("ack");
    expect((await session.request("ping")).type).toBe("ack");
    other.close();
    session.close();
  });

  test("logout-all ends sessions, not tokens: the session's socket closes, the token's stays and still posts", async () => {
    const { jwt, token: t } = await tokenUser("full");
    const session = await WsClient.connect(server.wsUrl, { jwt });
    const bot = await WsClient.connect(server.wsUrl, { jwt: t.token });
    const stream = await SseClient.open(`${server.url}/api/stream`, bearer(t.token));
    const res = await fetch(`${server.url}/auth/logout-all`, { method: "POST", headers: bearer(jwt) });
    expect(res.status).toBe(200);
    expect((await within(session.closed, 5000, "the session's socket to close")).code).toBe(4001);
    expect((await bot.request("ping")).type).toBe("ack");
    expect((await postMessage(server, t.token, "after logout-all")).status).toBe(201);
    await stream.until(() => stream.messages().some((m) => m.content === "after logout-all"), "the message on the token's stream");
    bot.close();
    stream.close();
  });

  test.skipIf(testEngineIsRedis({}))("an expired token is refused with 401 on the API and on /ws, and is no longer listed", async () => {
    const { jwt, token: t } = await tokenUser("full");
    expect((await postMessage(server, t.token, "before")).status).toBe(201);
    // Move its expiry into the past in the database itself (nobody waits a day in a test).
    const db = new Database(join(server.dataDir, "roomz.sqlite"));
    db.query("UPDATE tokens SET expires_at = ? WHERE id = ?").run(Date.now() - 1, t.id);
    db.close();
    await expectProblem(await postMessage(server, t.token, "after"), 401, "unauthenticated", "/api/messages");
    await expectProblem(await rawUpgrade(server.wsUrl, { jwt: t.token }), 401, "unauthenticated", "/ws");
    expect((await (await get("/auth/tokens", jwt)).json()).tokens).toEqual([]);
  });

  test("an address removed from the allow-list (SIGHUP): its token's socket closes with 4003, its stream ends, the API answers 403 not_allowed", async () => {
    const [gone] = FILE_USERS;
    const jwt = await signIn(server, gone);
    const t = await token(jwt, "full");
    const socket = await WsClient.connect(server.wsUrl, { jwt: t.token });
    const stream = await SseClient.open(`${server.url}/api/stream`, bearer(t.token));
    writeFileSync(allowFile, FILE_USERS.filter((e) => e !== gone).join("\n") + "\n");
    server.proc.kill("SIGHUP");
    expect((await within(socket.closed, 5000, "the socket to close")).code).toBe(4003);
    await stream.endedSoon();
    await expectProblem(await postMessage(server, t.token, "gone"), 403, "not_allowed", "/api/messages");
    await expectProblem(await get("/api/stream", t.token), 403, "not_allowed", "/api/stream");
    await expectProblem(await rawUpgrade(server.wsUrl, { jwt: t.token }), 403, "not_allowed", "/ws");
  });
});

describe("secrets", () => {
  test.skipIf(testEngineIsRedis({}))("each token is stored only as its SHA-256: no file of the data directory holds a secret", () => {
    expect(secrets.length).toBeGreaterThan(50);
    const db = new Database(join(server.dataDir, "roomz.sqlite"), { readonly: true });
    const hashes = new Set(db.query<{ token_hash: string }, []>("SELECT token_hash FROM tokens").all().map((r) => r.token_hash));
    db.close();
    const sha = (s: string) => createHash("sha256").update(s).digest("hex");
    expect(secrets.filter((s) => hashes.has(sha(s))).length).toBeGreaterThan(40);
    for (const file of readdirSync(server.dataDir, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const bytes = readFileSync(join(file.parentPath, file.name)).toString("latin1");
      for (const secret of secrets) expect(bytes.includes(secret.slice(3)), `${file} holds a token`).toBe(false);
    }
  });

  test("no token appears in the server's output", () => {
    expect(secrets.length).toBeGreaterThan(50);
    for (const secret of secrets) expect(server.output.includes(secret.slice(3))).toBe(false);
  });
});
