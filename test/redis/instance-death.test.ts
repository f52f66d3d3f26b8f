/**
 * An instance that dies (SIGKILL: no goodbye) has its connections forgotten by a
 * survivor within 30 s, with `user_left` to the user's other connections, and a line in
 * the survivor's log.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { WsClient } from "../helpers/ws-client";
import { connectEverywhere, freshUser, startCluster, type Cluster } from "./support";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster(2);
}, 30_000);
afterAll(() => cluster?.stop());

test("a SIGKILLed instance's connections are forgotten within 30 s: user_left arrives, counts drop", async () => {
  const [survivor, doomed] = cluster.servers;
  const { jwt, clients } = await connectEverywhere([survivor, doomed, doomed], freshUser());
  const [watcher, goneA, goneB] = clients;
  await watcher.waitFor((f) => f.type === "user_joined" && f.data.total_connections === 3);
  const killedAt = Date.now();
  await doomed.stop("SIGKILL");
  for (const gone of [goneA, goneB]) await watcher.waitFor((f) => f.type === "user_left" && f.data.connection_id === gone.connectionId, 30_000);
  expect(Date.now() - killedAt).toBeLessThan(30_000);
  const left = watcher.ofType("user_left").map((f) => f.data.remaining_connections);
  expect(left.sort()).toEqual([1, 2]);
  // The survivor says what it did, once, in its log.
  const cleanups = survivor.output.split("\n").filter((line) => /cleaned up after instance/.test(line));
  expect(cleanups).toHaveLength(1);
  expect(cleanups[0]).toMatch(/ info redis: cleaned up after instance [0-9a-f-]{36} \(no heartbeat\): forgot 2 connections$/);
  const fresh = await WsClient.connect(survivor.wsUrl, { jwt });
  expect(fresh.authenticated.data.connections.map((c: any) => c.connection_id)).toEqual([watcher.connectionId, fresh.connectionId]);
}, 45_000);
