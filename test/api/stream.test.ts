/**
 * `GET /api/stream` (PROTOCOL.md section 6): Server-Sent Events with `id: <seq>`; resuming
 * from Last-Event-ID (or `since`) without gap or overlap; one `reset` event before the
 * replay when the client's messages came from another store or a later state of it; a
 * comment line as heartbeat; a session's end ends its streams; at most
 * MAX_CONNECTIONS_PER_USER streams per user on a server; a stream that stops reading is
 * closed once its unsent data passes SEND_BUFFER_BYTES.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { signIn, type TestServer } from "../helpers/server";
import { expectProblem } from "../helpers/problems";
import { SseClient } from "../helpers/sse";
import { until } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";
import { metric } from "../ws/support";
import { bearer, postMessage, suite, tokenUserOn } from "./support";

let server: TestServer;
beforeAll(async () => {
  server = await suite.start({ ROOMZ_STREAM_HEARTBEAT_MS: "200", SEND_BUFFER_BYTES: "65536" });
}, 30000);
afterAll(() => server?.stop(), 30000);

const streamUrl = (query = "") => `${server.url}/api/stream${query}`;

async function postAll(credential: string, contents: string[]) {
  for (const content of contents) expect((await postMessage(server, credential, content)).status).toBe(201);
}

describe("the stream", () => {
  test("each stored message as `id: <seq>`, `event: message`, the message JSON; a retry field; comment heartbeats", async () => {
    const { jwt, token } = await tokenUserOn(server, "read");
    const stream = await SseClient.open(streamUrl(), bearer(token.token));
    expect(stream.response.headers.get("content-type")).toStartWith("text/event-stream");
    const socket = await WsClient.connect(server.wsUrl, { jwt });
    await postAll(jwt, ["one", "two", "three"]);
    await stream.until(() => stream.messages().length === 3, "three messages");
    expect(stream.events.map((e) => [e.event, e.id])).toEqual([["message", "1"], ["message", "2"], ["message", "3"]]);
    await socket.until(() => socket.messages().length === 3, "three frames");
    expect(stream.messages()).toEqual(socket.messages());
    expect(stream.retry).toBe(3000);
    await stream.until(() => stream.comments.length >= 2, "two heartbeat comments");
    stream.close();
    socket.close();
  });

  test("a client killed mid-stream resumes with Last-Event-ID: every message once, in order, then live", async () => {
    const { jwt, token } = await tokenUserOn(server, "read");
    await postAll(jwt, ["a1", "a2"]);
    const first = await SseClient.open(streamUrl("?since=0"), bearer(token.token));
    await first.until(() => first.messages().length === 2, "the replay");
    first.close();
    await postAll(jwt, ["b1", "b2", "b3"]);
    const resumed = await SseClient.open(streamUrl("?since=0"), bearer(token.token, { "last-event-id": first.lastEventId! }));
    await resumed.until(() => resumed.messages().length === 3, "the missed messages");
    await postAll(jwt, ["c1"]);
    await resumed.until(() => resumed.messages().length === 4, "the live one");
    const all = [...first.messages(), ...resumed.messages()];
    expect(all.map((m) => m.content)).toEqual(["a1", "a2", "b1", "b2", "b3", "c1"]);
    expect(all.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(resumed.ofType("reset")).toEqual([]);
    resumed.close();
  });

  test("a message stored while the replay is read arrives once, after it", async () => {
    const { jwt, token } = await tokenUserOn(server, "read");
    await postAll(jwt, Array.from({ length: 20 }, (_, i) => `old ${i}`));
    const sending = Promise.all(Array.from({ length: 20 }, (_, i) => postMessage(server, jwt, `new ${i}`)));
    const stream = await SseClient.open(streamUrl("?since=0"), bearer(token.token));
    await sending;
    await stream.until(() => stream.messages().length === 40, "forty messages");
    expect(stream.messages().map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    stream.close();
  });

  test("another epoch, or a `since` past the store's tip: one `reset` event, then the newest messages", async () => {
    const { jwt, token } = await tokenUserOn(server, "read");
    await postAll(jwt, ["x", "y"]);
    for (const query of ["?since=2&epoch=not-this-store", "?since=50"]) {
      const stream = await SseClient.open(streamUrl(query), bearer(token.token));
      await stream.until(() => stream.messages().length === 2, "the reset replay");
      expect(stream.events[0].event).toBe("reset");
      expect(JSON.parse(stream.events[0].data).epoch).toEqual(expect.any(String));
      expect(stream.events.slice(1).map((e) => e.id)).toEqual(["1", "2"]);
      stream.close();
    }
    const resumed = await SseClient.open(streamUrl("?epoch=other"), bearer(token.token, { "last-event-id": "1" }));
    await resumed.until(() => resumed.messages().length === 2, "a reset from Last-Event-ID");
    expect(resumed.events[0].event).toBe("reset");
    resumed.close();
  });

  test("refusals: a bad since or Last-Event-ID is 400; no credential 401; wrong method 405", async () => {
    const { token } = await tokenUserOn(server, "read");
    await expectProblem(await fetch(streamUrl("?since=x"), { headers: bearer(token.token) }), 400, "invalid_request", "/api/stream");
    await expectProblem(await fetch(streamUrl(), { headers: bearer(token.token, { "last-event-id": "-3" }) }), 400, "invalid_request", "/api/stream");
    await expectProblem(await fetch(streamUrl()), 401, "unauthenticated", "/api/stream");
    await expectProblem(await fetch(streamUrl(), { method: "POST", headers: bearer(token.token) }), 405, "method_not_allowed", "/api/stream");
  });

  test("at most MAX_CONNECTIONS_PER_USER (32) streams per user on a server: the next is 429 with Retry-After; another user is not held back; closing one makes room", async () => {
    const { token } = await tokenUserOn(server, "read");
    const open = await Promise.all(Array.from({ length: 32 }, () => SseClient.open(streamUrl(), bearer(token.token))));
    expect(open.map((stream) => stream.response.status)).toEqual(Array(32).fill(200));
    const refused = await fetch(streamUrl(), { headers: bearer(token.token) });
    expect(refused.headers.get("retry-after")).toBe("10");
    await expectProblem(refused, 429, "rate_limited", "/api/stream");
    const other = await tokenUserOn(server, "read");
    const theirs = await SseClient.open(streamUrl(), bearer(other.token.token));
    expect(theirs.response.status).toBe(200);
    open[0].close();
    await until(async () => {
      const again = await SseClient.open(streamUrl(), bearer(token.token));
      if (again.response.status === 200) return open.push(again) > 0;
      await again.response.body?.cancel();
      return false;
    }, "a stream opening once one of the 32 closed");
    for (const stream of [...open, theirs]) stream.close();
  });

  test("logout ends the session's streams; the user's token stream goes on", async () => {
    const { email, jwt, token } = await tokenUserOn(server, "read");
    const bySession = await SseClient.open(streamUrl(), bearer(jwt));
    const byToken = await SseClient.open(streamUrl(), bearer(token.token));
    expect((await fetch(`${server.url}/auth/logout`, { method: "POST", headers: bearer(jwt) })).status).toBe(200);
    await bySession.endedSoon();
    await postAll(await signIn(server, email), ["after logout"]);
    await byToken.until(() => byToken.messages().some((m) => m.content === "after logout"), "the message on the token's stream");
    expect(bySession.messages()).toEqual([]);
    byToken.close();
  });
});

/** Opens the stream over a raw socket and stops reading it: the server sees TCP backpressure. */
function stalledStream(credential: string): Promise<Socket> {
  const url = new URL(streamUrl());
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`GET /api/stream HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${credential}\r\n\r\n`);
    });
    socket.once("data", () => {
      socket.pause();
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

describe("slow streams", () => {
  test("a stream that stops reading is closed once its unsent data passes SEND_BUFFER_BYTES, counted as a slow consumer; a reading stream gets everything", async () => {
    const { jwt, token } = await tokenUserOn(server, "read");
    const before = await metric(server, "roomz_slow_consumers_dropped_total");
    const stalled = await stalledStream(token.token);
    const reader = await SseClient.open(streamUrl(), bearer(token.token));
    const sender = await WsClient.connect(server.wsUrl, { jwt });
    const big = "z".repeat(3900);
    let sent = 0;
    // Windows of 8 messages, each once the reader has the last: only the stalled one falls behind.
    await until(async () => {
      for (let i = 0; i < 8; i++) sender.send({ type: "message", data: { content: `${sent++} ${big}` } });
      await reader.until(() => reader.messages().length === sent, `${sent} messages on the reading stream`);
      return (await metric(server, "roomz_slow_consumers_dropped_total")) > before;
    }, "the stalled stream to be dropped", { timeoutMs: 30_000, everyMs: 1 });
    expect(reader.messages().map((m) => m.seq)).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    stalled.destroy();
    reader.close();
    sender.close();
  }, 40_000);
});

describe("HEAD", () => {
  test("HEAD on the stream is 405 with Allow: GET (it opened a stream and never answered); HEAD on a GET route answers its headers", async () => {
    const { token } = await tokenUserOn(server, "read");
    const head = await fetch(streamUrl(), { method: "HEAD", headers: bearer(token.token) });
    expect([head.status, head.headers.get("allow")]).toEqual([405, "GET"]);
    const limits = await fetch(`${server.url}/api/limits`, { method: "HEAD" });
    expect([limits.status, limits.headers.get("content-type"), await limits.text()]).toEqual([200, expect.stringContaining("application/json"), ""]);
  });
});

describe("a quiet stream", () => {
  test("stays open past Bun's 10 s HTTP idle timeout with the real 25 s heartbeat, and still delivers", async () => {
    const quiet = await suite.start({});
    try {
      const { jwt, token } = await tokenUserOn(quiet, "read");
      const stream = await SseClient.open(`${quiet.url}/api/stream`, bearer(token.token));
      await Bun.sleep(13_000);
      expect(stream.ended).toBe(false);
      expect((await postMessage(quiet, jwt, "after a quiet spell")).status).toBe(201);
      await stream.until(() => stream.messages().length === 1, "the message after the quiet spell");
      expect(stream.ended).toBe(false);
      stream.close();
    } finally {
      await quiet.stop();
    }
  }, 40_000);
});
