/**
 * `POST /api/messages` and `GET /api/messages` (PROTOCOL.md section 6): a post is stored
 * and delivered live like a `message` frame, with section 2's errors as problem documents;
 * `Idempotency-Key` (or `client_msg_id`) stores one message however often it is sent;
 * history pages and replays answer as their WebSocket twins do.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signIn, type TestServer } from "../helpers/server";
import { expectProblem } from "../helpers/problems";
import { WsClient } from "../helpers/ws-client";
import { bearer, postMessage, suite, tokenUserOn } from "./support";

let server: TestServer;
beforeAll(async () => {
  server = await suite.start({ MAX_MESSAGE_LENGTH: "100" });
}, 30000);
afterAll(() => server?.stop(), 30000);

const tokenUser = (scope = "full") => tokenUserOn(server, scope);
const get = (path: string, credential: string) => fetch(`${server.url}${path}`, { headers: bearer(credential) });

describe("POST /api/messages", () => {
  test("a text/plain body is the content: 201 with the stored message, delivered live to every connection once", async () => {
    const { jwt, token } = await tokenUser("send");
    const watcher = await WsClient.connect(server.wsUrl, { jwt });
    const content = "backup done\nline two 🎉 <b>as typed</b>";
    const res = await postMessage(server, token.token, content);
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    const stored = await res.json();
    expect(Object.keys(stored).sort()).toEqual(["client_msg_id", "connection_id", "content", "duplicate", "files", "id", "seq", "timestamp", "user"]);
    expect(stored).toMatchObject({ seq: 1, content, client_msg_id: null, duplicate: false, files: [] });
    const frame = await watcher.waitFor((f) => f.type === "message");
    const { duplicate, ...data } = stored;
    expect(frame.data).toEqual(data);
    expect((await watcher.request("ping")).type).toBe("ack");
    expect(watcher.messages()).toHaveLength(1);
    watcher.close();
  });

  test("curl -d's form content type and no content type also take the body as sent; JSON takes `content`", async () => {
    const { token } = await tokenUser("send");
    const post = (body: string, type?: string) =>
      fetch(`${server.url}/api/messages`, { method: "POST", headers: bearer(token.token, type ? { "content-type": type } : {}), body });
    expect((await (await post("a=b&c", "application/x-www-form-urlencoded")).json()).content).toBe("a=b&c");
    expect((await (await post("bare")).json()).content).toBe("bare");
    expect((await (await post(JSON.stringify({ content: "from json" }), "application/json; charset=utf-8")).json()).content).toBe("from json");
  });

  test("a session works too: bearer, or cookie from the server's own origin (a foreign Origin is 403 bad_origin)", async () => {
    const jwt = await signIn(server, suite.freshUser());
    expect((await postMessage(server, jwt, "by session")).status).toBe(201);
    const cookie = (origin: string) =>
      fetch(`${server.url}/api/messages`, { method: "POST", headers: { cookie: `session_token=${jwt}`, origin, "content-type": "text/plain" }, body: "cookie" });
    expect((await cookie(server.url)).status).toBe(201);
    await expectProblem(await cookie("https://evil.example"), 403, "bad_origin", "/api/messages");
    const stored = await (await get("/api/messages", jwt)).json();
    expect(stored.messages.map((m: any) => m.content)).toEqual(["by session", "cookie"]);
    expect(stored.messages[0].user.display_name).toBeNull();
  });

  test("a send-only token reusing a key gets the original's id, seq and time, never its content", async () => {
    const { jwt, token } = await tokenUser("send");
    const key = "nightly-backup-2026-12-02"; // a predictable key, as scripts pick them
    const stored = await postMessage(server, jwt, "secret: the db password", { "idempotency-key": key });
    const original = await stored.json();
    const again = await postMessage(server, token.token, "anything", { "idempotency-key": key });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id: original.id, seq: original.seq, timestamp: original.timestamp, duplicate: true });
  });

  test("Idempotency-Key (or client_msg_id): one message however often and however concurrently it is sent; 200 with the original", async () => {
    const { jwt, token } = await tokenUser("full");
    const watcher = await WsClient.connect(server.wsUrl, { jwt });
    const key = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => postMessage(server, token.token, `attempt ${i}`, { "idempotency-key": key })));
    const bodies = await Promise.all(answers.map((r) => r.json()));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    const original = bodies.find((b) => !b.duplicate);
    for (const body of bodies) expect({ ...body, duplicate: false }).toEqual(original);
    expect(original.client_msg_id).toBe(key);
    const viaJson = await postMessage(server, token.token, { content: "other", client_msg_id: key });
    expect(viaJson.status).toBe(200);
    expect((await viaJson.json()).id).toBe(original.id);
    await expectProblem(await postMessage(server, token.token, { content: "x", client_msg_id: "a" }, { "idempotency-key": "b" }), 400, "invalid_data", "/api/messages");
    expect((await watcher.request("ping")).type).toBe("ack");
    expect(watcher.messages()).toHaveLength(1);
    const history = await (await get("/api/messages", token.token)).json();
    expect(history.messages).toHaveLength(1);
    watcher.close();
  });

  test("JSON `files`: the user's own uploads travel with the message (content may then be empty); a foreign id is invalid_data", async () => {
    const { jwt, token } = await tokenUser("send");
    const upload = await fetch(`${server.url}/api/files?name=report.txt`, { method: "POST", headers: bearer(token.token, { "content-type": "text/plain" }), body: "all green" });
    expect(upload.status).toBe(201);
    const file = await upload.json();
    const watcher = await WsClient.connect(server.wsUrl, { jwt });
    const res = await postMessage(server, token.token, { content: "", files: [file.id] });
    expect(res.status).toBe(201);
    expect((await res.json()).files).toEqual([file]);
    expect((await watcher.waitFor((f) => f.type === "message")).data.files).toEqual([file]);
    const stranger = await tokenUser("send");
    await expectProblem(await postMessage(server, stranger.token.token, { content: "x", files: [file.id] }), 400, "invalid_data", "/api/messages");
    watcher.close();
  });

  test("section 2's errors as problem documents; nothing is stored", async () => {
    const { token } = await tokenUser("full");
    const t = token.token;
    await expectProblem(await postMessage(server, t, ""), 400, "empty_message", "/api/messages");
    await expectProblem(await postMessage(server, t, " \n\t\u3000"), 400, "empty_message", "/api/messages");
    await expectProblem(await postMessage(server, t, "x".repeat(101)), 400, "message_too_long", "/api/messages");
    await expectProblem(await postMessage(server, t, { content: 5 }), 400, "invalid_data", "/api/messages");
    await expectProblem(await postMessage(server, t, [1]), 400, "invalid_data", "/api/messages");
    await expectProblem(await postMessage(server, t, { content: "x", client_msg_id: "y".repeat(65) }), 400, "invalid_data", "/api/messages");
    await expectProblem(await postMessage(server, t, "x", { "idempotency-key": "y".repeat(65) }), 400, "invalid_data", "/api/messages");
    await expectProblem(await postMessage(server, t, { content: "x", files: ["nope"] }), 400, "invalid_data", "/api/messages");
    await expectProblem(await postMessage(server, t, "x".repeat(17 * 1024)), 413, "too_large", "/api/messages");
    const notUtf8 = new Uint8Array([0x62, 0x61, 0x64, 0x20, 0xff, 0xfe]); // "bad " and two bytes no UTF-8 text has
    for (const type of ["text/plain", "application/json"]) {
      const body = type === "text/plain" ? notUtf8 : new Uint8Array([...new TextEncoder().encode('{"content":"'), ...notUtf8, 0x22, 0x7d]);
      const sent = await fetch(`${server.url}/api/messages`, { method: "POST", headers: { ...bearer(t), "content-type": type }, body });
      await expectProblem(sent, 400, "invalid_data", "/api/messages");
    }
    await expectProblem(await fetch(`${server.url}/api/messages`, { method: "POST", body: "x" }), 401, "unauthenticated", "/api/messages");
    await expectProblem(await fetch(`${server.url}/api/messages`, { method: "PUT", headers: bearer(t) }), 405, "method_not_allowed", "/api/messages");
    expect((await postMessage(server, t, { content: "ok", files: [] })).status).toBe(201);
    expect((await (await get("/api/messages", t)).json()).messages.map((m: any) => m.content)).toEqual(["ok"]);
  });
});

describe("rate limit", () => {
  test("over MESSAGE_RATE_LIMIT posts in 10 s per token (or session): 429 rate_limited with Retry-After; other tokens go on", async () => {
    const limited = await suite.start({ MESSAGE_RATE_LIMIT: "3" });
    try {
      const { jwt, token } = await tokenUserOn(limited, "send");
      const other = await tokenUserOn(limited, "send", jwt);
      for (let i = 0; i < 3; i++) expect((await postMessage(limited, token.token, `m${i}`)).status).toBe(201);
      const refused = await postMessage(limited, token.token, "one too many");
      await expectProblem(refused.clone(), 429, "rate_limited", "/api/messages");
      const wait = Number(refused.headers.get("retry-after"));
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(10);
      // Every post counts, refused ones too (as every `message` frame does).
      expect((await postMessage(limited, token.token, "")).status).toBe(429);
      expect((await postMessage(limited, other.token.token, "another token")).status).toBe(201);
      expect((await postMessage(limited, jwt, "the session")).status).toBe(201);
    } finally {
      await limited.stop();
    }
  });
});

describe("GET /api/messages", () => {
  test("history pages (`before`, `limit`) and replays (`since`, `epoch`) as over the WebSocket", async () => {
    const { jwt, token } = await tokenUser("full");
    for (let i = 1; i <= 5; i++) await postMessage(server, token.token, `n${i}`);
    const page = await (await get("/api/messages?limit=2", token.token)).json();
    expect(page.messages.map((m: any) => m.seq)).toEqual([4, 5]);
    expect(page.has_more).toBe(true);
    const older = await (await get("/api/messages?before=4&limit=200", token.token)).json();
    expect(older).toEqual({ messages: expect.any(Array), has_more: false });
    expect(older.messages.map((m: any) => m.seq)).toEqual([1, 2, 3]);
    const socket = await WsClient.connect(server.wsUrl, { jwt, since: 2 });
    const replay = await (await get("/api/messages?since=2", token.token)).json();
    expect(replay).toEqual({ ...socket.replay!.data, epoch: socket.authenticated.data.epoch });
    expect(replay.messages.map((m: any) => m.seq)).toEqual([3, 4, 5]);
    expect(replay).toMatchObject({ complete: true, reset: false });
    const otherEpoch = await (await get("/api/messages?since=5&epoch=another", token.token)).json();
    expect(otherEpoch.reset).toBe(true);
    expect(otherEpoch.messages.map((m: any) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    const ahead = await (await get("/api/messages?since=99", token.token)).json();
    expect(ahead.reset).toBe(true);
    for (const bad of ["since=-1", "since=x", "before=1.5", "limit=0", "limit=201", "since=1&limit=5"])
      await expectProblem(await get(`/api/messages?${bad}`, token.token), 400, "invalid_request", "/api/messages");
    socket.close();
  });
});
