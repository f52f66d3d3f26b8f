/**
 * An instance that dies (SIGKILL: no goodbye) has its connections forgotten by a
 * survivor within 30 s, with `user_left` to the user's other connections, and a line in
 * the survivor's log.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { WsClient } from "../helpers/ws-client";
import { killAndWatchForgotten, startCluster, type Cluster } from "./support";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster(2);
}, 30_000);
afterAll(() => cluster?.stop());

test("a SIGKILLed instance's connections are forgotten within 30 s: user_left arrives, counts drop", async () => {
  const [survivor, doomed] = cluster.servers;
  const { jwt, watcher } = await killAndWatchForgotten(survivor, doomed);
  // The survivor says what it did, once, in its log.
  const cleanups = survivor.output.split("\n").filter((line) => /cleaned up after instance/.test(line));
  expect(cleanups).toHaveLength(1);
  expect(cleanups[0]).toMatch(/ info redis: cleaned up after instance [0-9a-f-]{36} \(no heartbeat\): forgot 2 connections$/);
  const fresh = await WsClient.connect(survivor.wsUrl, { jwt });
  expect(fresh.authenticated.data.connections.map((c: any) => c.connection_id)).toEqual([watcher.connectionId, fresh.connectionId]);
}, 45_000);
