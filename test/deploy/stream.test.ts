/**
 * `GET /api/stream` through the shipped deploy/nginx.conf (PROTOCOL.md section 6), in
 * front of two instances on one redis-server: events and the heartbeat comment pass
 * unbuffered; a client killed mid-stream resumes with Last-Event-ID and has every message
 * once, in order, whichever instance each connection reached.
 */
import { afterAll, expect, test } from "bun:test";
import { startRedis } from "../helpers/redis";
import { signIn, tempDir, type TestServer } from "../helpers/server";
import { SseClient } from "../helpers/sse";
import { createToken } from "../api/support";
import { freshUser, startInstance } from "../redis/support";
import { findBinary, freePorts, makeCert, startNginx } from "./support";

const REQUIRED = process.env.ROOMZ_REQUIRE_PROXIES === "1";
const bins = { nginx: findBinary("nginx"), openssl: findBinary("openssl"), redis: findBinary("redis-server") };
const absent = Object.entries(bins).filter(([, bin]) => !bin).map(([name]) => name);
if (absent.length > 0 && !REQUIRED) console.warn(`test/deploy/stream: skipping, not installed: ${absent.join(", ")}`);

const cleanups: Array<() => Promise<unknown> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test.skipIf(absent.length > 0 && !REQUIRED)("through nginx: a stream killed mid-way resumes with Last-Event-ID, every message once and in order", async () => {
  const dir = tempDir("roomz-deploy-stream-");
  const [https, http] = await freePorts(2);
  const origin = `https://127.0.0.1:${https}`;
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  const env = { TRUST_PROXY: "true", PUBLIC_URL: origin, ROOMZ_STREAM_HEARTBEAT_MS: "300" };
  const servers: TestServer[] = await Promise.all([startInstance(redis, env), startInstance(redis, env)]);
  cleanups.push(() => Promise.all(servers.map((s) => s.stop())));
  const proxy = await startNginx(bins.nginx!, dir, [servers[0].port, servers[1].port], { https, http }, makeCert(dir));
  cleanups.push(() => proxy.stop());

  const jwt = await signIn(servers[0], freshUser());
  const reader = (await createToken(servers[0], jwt, "read")).token;
  const sender = (await createToken(servers[1], jwt, "send")).token;
  const tls = { tls: proxy.tls };
  const auth = (token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });
  let sent = 0;
  async function postBatch(count: number) {
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${proxy.origin}/api/messages`, { method: "POST", headers: auth(sender, { "content-type": "text/plain" }), body: `m${++sent}`, ...tls } as any);
      expect(res.status).toBe(201);
    }
  }

  const first = await SseClient.open(`${proxy.origin}/api/stream`, auth(reader), tls);
  expect(first.response.status).toBe(200);
  await postBatch(5);
  await first.until(() => first.messages().length === 5, "five messages through nginx");
  await first.until(() => first.comments.includes("keepalive"), "a heartbeat comment through nginx");
  first.close(); // killed mid-stream
  await postBatch(5);
  const resumed = await SseClient.open(`${proxy.origin}/api/stream`, auth(reader, { "last-event-id": first.lastEventId! }), tls);
  await resumed.until(() => resumed.messages().length === 5, "the five missed messages");
  await postBatch(5);
  await resumed.until(() => resumed.messages().length === 10, "five more, live");
  const all = [...first.messages(), ...resumed.messages()];
  expect(all.map((m) => m.content)).toEqual(Array.from({ length: 15 }, (_, i) => `m${i + 1}`));
  expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  expect(resumed.ofType("reset")).toEqual([]);
  resumed.close();
  expect(proxy.accessLog()).not.toContain(reader.slice(3));
}, 60000);
