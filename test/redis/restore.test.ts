/**
 * Redis restored from an older snapshot (issue 12, PROTOCOL.md v2 section 2): the epoch
 * is in the snapshot, so it does not change, and seqs the clients already saw are given
 * to new messages. A `since` above the store's tip is a reset replay, and an instance
 * that finds its channels ahead of the store makes their connections resume (1001), so
 * connected clients reset too instead of dropping the new messages as old.
 */
import { afterAll, expect, test } from "bun:test";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RoomzClient } from "../../src/client";
import { signIn, type TestServer } from "../helpers/server";
import { RedisServer, startRedis } from "../helpers/redis";
import { WsClient } from "../helpers/ws-client";
import { until } from "../helpers/wait";
import { FAST, watching } from "../client/support";
import { freshUser, startInstance } from "./support";

const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

test("Redis back from an older snapshot: connected and resuming clients reset, then receive every new message", async () => {
  const redis = await startRedis({ persistent: true });
  stops.push(() => redis.stop());
  const server: TestServer = await startInstance(redis);
  stops.push(() => server.stop());
  const email = freshUser();
  const jwt = await signIn(server, email);
  const view = watching(server, jwt);
  const { client: watcher, seen } = view;
  const sender = new RoomzClient({ server: server.url, session: jwt, ...FAST });
  await watcher.connect();
  await sender.connect();

  for (let i = 1; i <= 10; i++) await sender.send(`old ${i}`);
  // A file-level copy of the append-only files, as a backup job would take it.
  const snapshot = mkdtempSync(join(tmpdir(), "roomz-redis-snapshot-"));
  cpSync(join(redis.dir!, "appendonlydir"), join(snapshot, "appendonlydir"), { recursive: true });
  for (let i = 11; i <= 20; i++) await sender.send(`lost ${i}`);
  await until(() => seen.at(-1)?.seq === 20, "the watcher at seq 20");

  // Redis dies and comes back on the same port from the snapshot (10 messages).
  await redis.stop("SIGKILL");
  const restored = new RedisServer(redis.port, true, snapshot);
  await restored.start();
  stops.push(() => restored.stop());

  await until(() => view.resets === 1 && watcher.state.status === "connected", "the watcher's reset", 20_000);
  expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  const resuming = await WsClient.connect(server.wsUrl, { jwt, since: 20 });
  expect(resuming.replay!.data.reset).toBe(true);
  expect(resuming.replay!.data.messages.map((m: any) => m.content)).toEqual(seen.map((m) => m.content));
  resuming.close();

  for (let i = 1; i <= 3; i++) await sender.send(`new ${i}`);
  await until(() => seen.length === 13, "three new messages on the watcher");
  expect(seen.slice(10).map((m) => [m.seq, m.content])).toEqual([
    [11, "new 1"],
    [12, "new 2"],
    [13, "new 3"],
  ]);
  expect(server.output).toContain("the store went back from seq 20 to 10");
  watcher.close();
  sender.close();
}, 60_000);

test("Redis flushed (a new epoch) under connected clients: they reset and receive the new messages from seq 1", async () => {
  const redis = await startRedis();
  stops.push(() => redis.stop());
  const server: TestServer = await startInstance(redis);
  stops.push(() => server.stop());
  const jwt = await signIn(server, freshUser());
  const view = watching(server, jwt);
  const { client: watcher, seen } = view;
  await watcher.connect();
  for (let i = 1; i <= 5; i++) await watcher.send(`before ${i}`);
  await until(() => seen.length === 5, "five messages");
  await redis.command("FLUSHALL");
  // The append's answer carries the new epoch (sooner than the next heartbeat would).
  await watcher.send("after");
  await until(() => view.resets === 1 && watcher.state.status === "connected" && seen.length === 1, "the watcher's reset and the new message", 20_000);
  expect([seen[0].seq, seen[0].content]).toEqual([1, "after"]);
  watcher.close();
}, 60_000);
