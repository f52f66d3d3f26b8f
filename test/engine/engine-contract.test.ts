/**
 * One contract suite for the engine seam (src/engine/engine.ts, auth-store.ts), run
 * against every implementation: the embedded engine on a temporary SQLite file and the
 * Redis engine on a real redis-server and on a real three-node Redis Cluster. The test
 * plays the server's part: its members are plain data, and what the engine hands back
 * through EngineEvents is recorded per member (a member hears a channel's deliveries from
 * the moment its join's `onJoined` ran).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createStore, EngineUnavailable, type AppendResult, type ControlEvent, type FileRecord, type Member, type Store } from "../../src/engine";
import type { ChatMessage, FileInfo, ReplayData } from "../../src/protocol";
import { startRedis, type RedisServer } from "../helpers/redis";
import { startRedisCluster, type RedisCluster } from "../helpers/redis-cluster";
import { tempDir } from "../helpers/server";
import { expectSeqRun } from "../helpers/seq";
import { until } from "../helpers/wait";

class TestMember implements Member {
  readonly connectedAt = Date.now();
  displayName: string | null = null;
  received: string[] = [];
  constructor(readonly connectionId: string, readonly channel: string, readonly listener = false) {}
  messages(): ChatMessage[] {
    return this.received.map((text) => JSON.parse(text)).filter((f) => f.type === "message").map((f) => f.data);
  }
}

/** In-process deliveries come within milliseconds: look often, give up after 5 s. */
const SOON = { timeoutMs: 5000, everyMs: 10 };

const engines = process.env.ROOMZ_TEST_ENGINE === "redis" ? ["redis"] : ["embedded", "redis", "redis-cluster"];

describe.each(engines)("%s engine", (kind) => {
  let store: Store;
  let redis: RedisServer | undefined;
  let cluster: RedisCluster | undefined;
  const listening = new Map<string, Set<TestMember>>();
  const events: string[] = [];
  const controls: ControlEvent[] = [];
  let channelNo = 0;
  const freshChannel = () => `user:contract${++channelNo}-${Date.now()}@example.com`;

  beforeAll(async () => {
    if (kind === "redis") redis = await startRedis();
    if (kind === "redis-cluster") cluster = await startRedisCluster(3);
    store = await createStore(
      { dataDir: tempDir(), redisUrl: redis?.url ?? cluster?.url ?? null },
      {
        deliver(channel, frame) {
          events.push(`publish ${JSON.parse(frame).data.seq}`);
          for (const member of listening.get(channel) ?? []) member.received.push(frame);
        },
        presence(channel, frame, exceptConnectionId) {
          for (const member of listening.get(channel) ?? []) if (member.connectionId !== exceptConnectionId) member.received.push(frame);
        },
        control: (event) => controls.push(event),
        forgotten: () => {},
        together: (_channel, _connectionId, writes) => writes(),
      },
    );
    await until(() => store.engine.healthy(), "the engine healthy", SOON);
  });

  afterAll(async () => {
    await store?.close();
    await redis?.stop();
    await cluster?.stop();
  });

  function append(channel: string, content: string, clientMsgId: string | null = null, files: FileInfo[] = []): Promise<AppendResult> {
    return new Promise((resolve, reject) =>
      store.engine.append(
        { channel, email: channel.slice(5), connectionId: "c-test", displayName: null, content, clientMsgId, files },
        (result) => {
          if (result instanceof EngineUnavailable) return reject(result);
          events.push(`stored ${result.message.seq}`);
          resolve(result);
        },
      ),
    );
  }

  async function join(channel: string, since: number | null, epoch: string | null = null, listener = false) {
    const socket = new TestMember(crypto.randomUUID(), channel, listener);
    let replay: ReplayData | null = null;
    let joinedEpoch = "";
    let connections: string[] = [];
    await store.engine.join(socket, { since, epoch }, (joined) => {
      if (!listening.has(channel)) listening.set(channel, new Set());
      listening.get(channel)!.add(socket);
      replay = joined.replay;
      joinedEpoch = joined.epoch;
      connections = joined.connections.map((c) => c.connection_id);
    });
    return { socket, replay: replay as ReplayData | null, epoch: joinedEpoch, connections };
  }

  async function leave(socket: TestMember) {
    listening.get(socket.channel)?.delete(socket);
    return store.engine.leave(socket);
  }

  test("seq starts at 1 and is gapless per channel, whatever the interleaving", async () => {
    const [a, b] = [freshChannel(), freshChannel()];
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => append(i % 2 ? a : b, `m${i}`)));
    const seqs = (ch: string) => results.filter((r) => r.message.user.id === ch).map((r) => r.message.seq).sort((x, y) => x - y);
    expectSeqRun(seqs(a), 1, 20);
    expectSeqRun(seqs(b), 1, 20);
  });

  test("a message is stored before it is delivered, and delivered in seq order", async () => {
    const channel = freshChannel();
    const { socket } = await join(channel, null);
    events.length = 0;
    await Promise.all([append(channel, "one"), append(channel, "two"), append(channel, "three")]);
    await until(() => socket.messages().length === 3, "three deliveries", SOON);
    expect(socket.messages().map((m) => m.seq)).toEqual([1, 2, 3]);
    for (const seq of [1, 2, 3]) expect(events.indexOf(`stored ${seq}`)).toBeLessThan(events.indexOf(`publish ${seq}`));
    await leave(socket);
  });

  test("one client_msg_id stores one message, even racing, and its repeat is not delivered", async () => {
    const channel = freshChannel();
    const { socket } = await join(channel, null);
    const racing = await Promise.all([append(channel, "first", "id-1"), append(channel, "second", "id-1")]);
    expect(racing.map((r) => r.duplicate).sort()).toEqual([false, true]);
    expect(racing[0].message).toEqual(racing[1].message);
    const again = await append(channel, "other content", "id-1");
    expect(again).toEqual({ message: racing[0].message, duplicate: true });
    await Bun.sleep(200);
    expect(socket.messages().map((m) => m.content)).toEqual([racing[0].message.content]);
    await leave(socket);
  });

  test("history pages the newest messages below `before`, ascending", async () => {
    const channel = freshChannel();
    for (let i = 1; i <= 7; i++) await append(channel, `h${i}`);
    const newest = await store.engine.history(channel, null, 3);
    expect(newest.messages.map((m) => m.seq)).toEqual([5, 6, 7]);
    expect(newest.hasMore).toBe(true);
    const older = await store.engine.history(channel, 5, 10);
    expect(older.messages.map((m) => m.content)).toEqual(["h1", "h2", "h3", "h4"]);
    expect(older.hasMore).toBe(false);
    expect(await store.engine.history(freshChannel(), null, 50)).toEqual({ messages: [], hasMore: false });
  });

  // Alone, a channel's rows lie together in the embedded log (pages are read by one range
  // scan); among busy channels they are spread out (pages follow the rows' prev pointers).
  test.each([0, 9])("history at any position of a longer channel, among %d busy channels: every page exact, across the embedded store's marks (every 64th seq)", async (others) => {
    const channel = freshChannel();
    const neighbours = Array.from({ length: others }, () => freshChannel());
    await Promise.all(Array.from({ length: 300 }, (_, i) => [append(channel, `p${i + 1}`), ...neighbours.map((n) => append(n, `n${i}`))]).flat());
    const seqs = (page: { messages: ChatMessage[] }) => page.messages.map((m) => m.seq);
    const run = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    for (const [before, limit] of [[301, 50], [300, 64], [129, 70], [65, 200], [64, 1], [2, 5], [1, 5], [1000, 3]] as const) {
      const page = await store.engine.history(channel, before, limit);
      const newest = Math.min(before - 1, 300);
      const oldest = Math.max(1, newest - limit + 1);
      expect(seqs(page)).toEqual(newest < 1 ? [] : run(oldest, newest));
      expect(page.hasMore).toBe(newest >= 1 && oldest > 1);
      for (const m of page.messages) expect(m.content).toBe(`p${m.seq}`);
    }
    // paging back from the newest reaches seq 1 with no gap and no repeat
    const all: number[] = [];
    for (let before: number | null = null; ; ) {
      const page = await store.engine.history(channel, before, 37);
      all.unshift(...seqs(page));
      if (!page.hasMore) break;
      before = page.messages[0].seq;
    }
    expect(all).toEqual(run(1, 300));
  });

  test("a join's replay and the live stream neither overlap nor leave a gap", async () => {
    const channel = freshChannel();
    for (let i = 1; i <= 5; i++) await append(channel, `r${i}`);
    const sending = Promise.all(Array.from({ length: 20 }, (_, i) => append(channel, `live${i}`)));
    const { socket, replay } = await join(channel, 2);
    await sending;
    await until(() => (replay?.messages.length ?? 0) + socket.messages().length >= 23, "23 messages replayed or delivered", SOON);
    const seqs = [...replay!.messages, ...socket.messages()].map((m) => m.seq);
    expectSeqRun(seqs, 3, 23);
    expect(replay!.complete).toBe(true);
    await leave(socket);
  });

  test("a replay of more than 500 is the newest 500, incomplete; a foreign epoch resets it", async () => {
    const channel = freshChannel();
    await Promise.all(Array.from({ length: 510 }, (_, i) => append(channel, `b${i}`)));
    const partial = await join(channel, 0);
    expectSeqRun(partial.replay!.messages.map((m) => m.seq), 11, 500);
    expect(partial.replay!.complete).toBe(false);
    const reset = await join(channel, 509, "another-store");
    expect(reset.replay!.reset).toBe(true);
    expect(reset.replay!.messages.length).toBe(500);
    const same = await join(channel, 509, partial.epoch);
    expect(same.replay).toEqual({ messages: [expect.objectContaining({ seq: 510 })], complete: true, reset: false });
    for (const j of [partial, reset, same]) await leave(j.socket);
  });

  test("presence counts joins and leaves; presence frames skip one member; control events come back", async () => {
    const channel = freshChannel();
    const first = await join(channel, null);
    const second = await join(channel, null);
    expect(await store.engine.connectionCount(channel)).toBe(2);
    store.engine.broadcastEvent(channel, '{"type":"user_joined"}', first.socket.connectionId);
    expect(second.socket.received).toEqual(['{"type":"user_joined"}']);
    expect(first.socket.received).toEqual([]);
    expect(await leave(first.socket)).toBe(1);
    controls.length = 0;
    await store.engine.control({ kind: "session_revoked", jti: "j-1" });
    await until(() => controls.length === 1, "one control event", SOON);
    expect(controls[0]).toEqual({ kind: "session_revoked", jti: "j-1" });
    await leave(second.socket);
    expect(await store.engine.connectionCount(channel)).toBe(0);
  });

  test("[v2] a since above the channel's last seq is a reset replay (the store went back in time)", async () => {
    const channel = freshChannel();
    for (let i = 1; i <= 3; i++) await append(channel, `t${i}`);
    const atTip = await join(channel, 3);
    expect(atTip.replay).toEqual({ messages: [], complete: true, reset: false });
    const ahead = await join(channel, 9, atTip.epoch);
    expect(ahead.replay!.reset).toBe(true);
    expect(ahead.replay!.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    const empty = await join(freshChannel(), 1);
    expect(empty.replay).toEqual({ messages: [], complete: true, reset: true });
    for (const j of [atTip, ahead, empty]) await leave(j.socket);
  });

  test("auth store: links are used once, expired ones stay expired, limits count together", async () => {
    const now = Date.now();
    const { auth } = store;
    await auth.saveMagicLink("hash-ok", "a@example.com", now + 60_000, true);
    await auth.saveMagicLink("hash-old", "a@example.com", now - 1, true);
    await auth.saveMagicLink("hash-off", "a@example.com", now + 60_000, false);
    const racing = await Promise.all([auth.consumeMagicLink("hash-ok", now), auth.consumeMagicLink("hash-ok", now)]);
    expect(racing.map((r) => r.status).sort()).toEqual(["invalid", "ok"]);
    expect((await auth.consumeMagicLink("hash-old", now)).status).toBe("expired");
    expect((await auth.consumeMagicLink("hash-old", now)).status).toBe("expired");
    expect((await auth.consumeMagicLink("hash-off", now)).status).toBe("invalid");
    const limits = [{ key: `e${now}`, limit: 2 }, { key: `i${now}`, limit: 5 }];
    expect((await auth.hitRateLimits(limits, 60_000, now)).allowed).toBe(true);
    expect((await auth.hitRateLimits(limits, 60_000, now + 1)).allowed).toBe(true);
    const refused = await auth.hitRateLimits(limits, 60_000, now + 2);
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect((await auth.hitRateLimits(limits, 60_000, now + 60_001)).allowed).toBe(true);
    await auth.revokeSession(`jti-${now}`, now + 60_000);
    expect(await auth.isRevoked(`jti-${now}`)).toBe(true);
    const before = await auth.sessionVersion(`v${now}@example.com`);
    expect(await auth.bumpSessionVersion(`v${now}@example.com`)).toBe(before + 1);
  });

  function fileRecord(email: string, size: number, sha = crypto.randomUUID().replace(/-/g, "").padEnd(64, "0"), createdAt = Date.now()): FileRecord {
    return { id: crypto.randomUUID(), email, name: "a.png", type: "image/png", size, sha256: sha, width: 3, height: 4, createdAt };
  }

  test("files: the quota check and the addition are one step, even racing; only the owner finds a file", async () => {
    const email = freshChannel().slice(5);
    const racing = await Promise.all(Array.from({ length: 10 }, () => store.files.add(fileRecord(email, 300), 1000)));
    expect(racing.filter((r) => r === "ok").length).toBe(3);
    expect(await store.files.usage(email)).toBe(900);
    const record = fileRecord(email, 100);
    expect(await store.files.add(record, 1000)).toBe("ok");
    expect(await store.files.add(fileRecord(email, 1), 1000)).toBe("quota_exceeded");
    expect(await store.files.get(email, record.id)).toEqual(record);
    expect(await store.files.get("someone-else@example.com", record.id)).toBeNull();
    expect(await store.files.get(email, crypto.randomUUID())).toBeNull();
  });

  test("files: claim marks all or nothing; orphans are the unclaimed old ones; the last record of a blob says so", async () => {
    const email = freshChannel().slice(5);
    const sha = crypto.randomUUID().replace(/-/g, "").padEnd(64, "a");
    const old = Date.now() - 10_000;
    const [a, b, c] = [fileRecord(email, 10, sha, old), fileRecord(email, 20, sha, old), fileRecord(email, 30, undefined, old)];
    for (const r of [a, b, c]) expect(await store.files.add(r, 1_000_000)).toBe("ok");
    expect(await store.files.claim(email, [a.id, crypto.randomUUID()])).toBeNull();
    expect(await store.files.claim("other@example.com", [a.id])).toBeNull();
    const { email: _e, createdAt: _c, ...info } = c;
    expect(await store.files.claim(email, [c.id])).toEqual([info]);
    const orphans = (await store.files.orphans(Date.now() - 5_000, 1000)).filter((o) => o.email === email);
    expect(orphans.map((o) => o.id).sort()).toEqual([a.id, b.id].sort());
    expect(await store.files.orphans(old, 1000)).not.toContainEqual({ email, id: a.id });
    expect(await store.files.removeOrphan(email, c.id)).toBeNull();
    expect(await store.files.removeOrphan(email, a.id)).toEqual({ sha256: sha, lastOfBlob: false });
    expect(await store.files.removeOrphan(email, a.id)).toBeNull();
    expect(await store.files.blobInUse(sha)).toBe(true);
    expect(await store.files.removeOrphan(email, b.id)).toEqual({ sha256: sha, lastOfBlob: true });
    expect(await store.files.blobInUse(sha)).toBe(false);
    expect(await store.files.usage(email)).toBe(30);
  });

  test("[v2] push store: one subscription per endpoint, at most `max` per user, each user's own", async () => {
    const { push } = store;
    const email = `push${Date.now()}@example.com`;
    const other = `other-${email}`;
    const t0 = Date.now();
    const record = (n: number, jti = "jti-a") => ({
      endpoint: `https://push.example.net/sub/${n}`,
      p256dh: `key-${n}`,
      auth: `auth-${n}`,
      device: `Device ${n}`,
      jti,
      sessionVersion: 0,
      sessionExpiresAt: t0 + 60_000,
      createdAt: t0 + n,
    });
    expect(await push.pushSubscriptions(email)).toEqual([]);
    for (let n = 1; n <= 3; n++) expect(await push.savePushSubscription(email, record(n), 3)).toBe(true);
    expect(await push.savePushSubscription(email, record(4), 3)).toBe(false);
    // The same endpoint again replaces it (new keys, name, session), even at the limit.
    const renewed = { ...record(2, "jti-b"), device: "Renamed", p256dh: "key-2b" };
    expect(await push.savePushSubscription(email, renewed, 3)).toBe(true);
    const held = await push.pushSubscriptions(email);
    expect(held.map((r) => r.endpoint)).toEqual([1, 2, 3].map((n) => `https://push.example.net/sub/${n}`));
    expect(held[1]).toEqual(renewed);
    expect(await push.savePushSubscription(other, record(1), 3)).toBe(true);
    expect(await push.deletePushSubscription(email, record(1).endpoint)).toBe(true);
    expect(await push.deletePushSubscription(email, record(1).endpoint)).toBe(false);
    expect(await push.savePushSubscription(email, record(4), 3)).toBe(true);
    expect((await push.pushSubscriptions(email)).map((r) => r.device)).toEqual(["Renamed", "Device 3", "Device 4"]);
    expect((await push.pushSubscriptions(other)).map((r) => r.endpoint)).toEqual([record(1).endpoint]);
  });

  test("[v2] push store: racing registrations never pass the limit", async () => {
    const email = `race${Date.now()}@example.com`;
    const saves = Array.from({ length: 8 }, (_, n) =>
      store.push.savePushSubscription(
        email,
        { endpoint: `https://push.example.net/r/${n}`, p256dh: "k", auth: "a", device: "d", jti: "j", sessionVersion: 0, sessionExpiresAt: 0, createdAt: n },
        5,
      ),
    );
    expect((await Promise.all(saves)).filter(Boolean).length).toBe(5);
    expect((await store.push.pushSubscriptions(email)).length).toBe(5);
  });

  test("[v2] a message's files are stored with it: in the delivery, history, replays and a duplicate's answer; [] when none", async () => {
    const channel = freshChannel();
    const { socket } = await join(channel, null);
    const files: FileInfo[] = [
      { id: crypto.randomUUID(), name: "a \"quoted\" ☃.png", type: "image/png", size: 12, sha256: "a".repeat(64), width: 3, height: 4 },
      { id: crypto.randomUUID(), name: "b.pdf", type: "application/pdf", size: 99, sha256: "b".repeat(64), width: null, height: null },
    ];
    const plain = await append(channel, "no files");
    const withFiles = await append(channel, "", "f-1", files);
    expect(plain.message.files).toEqual([]);
    expect(withFiles.message.files).toEqual(files);
    expect((await append(channel, "", "f-1", [])).message).toEqual(withFiles.message);
    await until(() => socket.messages().length === 2, "two deliveries", SOON);
    expect(socket.messages().map((m) => m.files)).toEqual([[], files]);
    expect((await store.engine.history(channel, null, 10)).messages).toEqual([plain.message, withFiles.message]);
    const { replay, socket: second } = await join(channel, 0);
    expect(replay!.messages).toEqual([plain.message, withFiles.message]);
    for (const s of [socket, second]) await leave(s);
  });

  test("a listener (an event stream) hears the channel's messages and replays, and is never presence", async () => {
    const channel = freshChannel();
    await append(channel, "before");
    const listener = await join(channel, 0, null, true);
    expect(listener.replay!.messages.map((m) => m.content)).toEqual(["before"]);
    expect(listener.connections).toEqual([]);
    const member = await join(channel, null);
    expect(member.connections).toEqual([member.socket.connectionId]);
    expect(await store.engine.connectionCount(channel)).toBe(1);
    await leave(member.socket);
    expect(await store.engine.connectionCount(channel)).toBe(0);
    await append(channel, "after the member left");
    await until(() => listener.socket.messages().length === 1, "the message on the listener", SOON);
    expect(listener.socket.messages()[0].content).toBe("after the member left");
    expect(await leave(listener.socket)).toBe(0);
  });

  test("token store: hashed records, at most `maxLive` live per user even racing, expiry, revocation, last use", async () => {
    const { tokens } = store;
    const now = Date.now();
    const email = `tokens${now}-${kind}@example.com`;
    const record = (i: number, expiresAt: number | null = null) => ({
      id: `id-${now}-${i}`, email, name: `t${i}`, scope: "send" as const, createdAt: now + i, expiresAt, lastUsedAt: null,
    });
    expect(await tokens.create(record(0, now + 1000), `h-${now}-0`, 3, now)).toBe(true);
    const racing = await Promise.all([1, 2, 3, 4].map((i) => tokens.create(record(i), `h-${now}-${i}`, 3, now)));
    expect(racing.filter(Boolean)).toHaveLength(2);
    const listed = await tokens.list(email, now);
    expect(listed).toHaveLength(3);
    expect(listed.map((t) => t.createdAt)).toEqual([...listed.map((t) => t.createdAt)].sort((a, b) => b - a));
    expect(listed.find((t) => t.id === record(0).id)).toEqual(record(0, now + 1000));
    // Expired: no longer found, listed or counted.
    const later = now + 1000;
    expect(await tokens.find(`h-${now}-0`, later)).toBeNull();
    expect(await tokens.isLive(email, record(0).id, later)).toBe(false);
    expect(await tokens.isLive(email, record(0).id, now)).toBe(true);
    expect((await tokens.list(email, later)).map((t) => t.id)).not.toContain(record(0).id);
    expect(await tokens.create(record(5), `h-${now}-5`, 3, later)).toBe(true);
    const live = (await tokens.list(email, later))[0];
    const found = await tokens.find(`h-${now}-5`, later);
    expect(found).toMatchObject({ id: record(5).id, email, scope: "send" });
    await tokens.touch(email, live.id, later + 5);
    expect((await tokens.list(email, later)).find((t) => t.id === live.id)!.lastUsedAt).toBe(later + 5);
    expect(await tokens.revoke(`other${now}@example.com`, live.id)).toBe(false);
    expect(await tokens.revoke(email, live.id)).toBe(true);
    expect(await tokens.revoke(email, live.id)).toBe(false);
    expect(await tokens.find(`h-${now}-5`, later)).toBeNull();
    expect(await tokens.isLive(email, live.id, later)).toBe(false);
    controls.length = 0;
    await store.engine.control({ kind: "token_revoked", tokenId: live.id });
    await until(() => controls.length === 1, "the token_revoked event", SOON);
    expect(controls[0]).toEqual({ kind: "token_revoked", tokenId: live.id });
  });
});
