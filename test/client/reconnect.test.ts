/**
 * Losing the connection: server restarts, killed servers mid-send, offline queues,
 * incomplete replays, store resets, half-open sockets. Every case ends with every
 * message exactly once, in seq order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ChatMessage, ConnectionState } from "../../src/client";
import { tempDir, type TestServer } from "../helpers/server";
import { Relay } from "./proxy";
import { allMessages, expectConsecutive, freshUser, signedInClient, startTestServer, until } from "./support";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

describe("reconnecting", () => {
  test("a server restart mid-stream: nothing lost, nothing doubled, in order", async () => {
    const email = freshUser();
    const { client: sender } = await signedInClient(server, email);
    const { client: watcher } = await signedInClient(server, email);
    const seen: ChatMessage[] = [];
    watcher.on("message", (m) => seen.push(m));
    const drops: ConnectionState[] = [];
    sender.on("connection_state", (s) => s.status === "reconnecting" && drops.push(s));
    await sender.connect();
    await watcher.connect();
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      acks.push(sender.send(`n${i}`));
      if (i === 15) void server.restart(); // SIGTERM: stored-or-refused, then 1001
      await Bun.sleep(5);
    }
    const results = await Promise.allSettled(acks);
    expect(drops.some((s) => s.reason === "the server is restarting")).toBe(true); // 1001 was seen
    const sent = results.filter((r) => r.status === "fulfilled").length;
    await until(() => watcher.lastSeq === sender.lastSeq && seen.length === sent, `watcher to catch up (${seen.length}/${sent})`, 20000);
    expectConsecutive(seen.map((m) => m.seq), 1, sent);
    const stored = await allMessages(watcher);
    expect(stored.map((m) => m.content)).toEqual(seen.map((m) => m.content));
    expect(new Set(stored.map((m) => m.content)).size).toBe(stored.length);
    // Refusals (`unavailable` during shutdown) are reported, never silently dropped.
    for (const r of results) if (r.status === "rejected") expect((r.reason as { code: string }).code).toBe("unavailable");
    sender.close();
    watcher.close();
  });

  test("a server killed mid-send: every message delivered exactly once after it returns", async () => {
    const email = freshUser();
    const { client: sender } = await signedInClient(server, email);
    const { client: watcher } = await signedInClient(server, email);
    const seen: ChatMessage[] = [];
    watcher.on("message", (m) => seen.push(m));
    await sender.connect();
    await watcher.connect();
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) acks.push(sender.send(`k${i}`));
    await server.stop("SIGKILL"); // some stored without ack, some never received
    for (let i = 30; i < 40; i++) acks.push(sender.send(`k${i}`));
    await Bun.sleep(300);
    await server.start();
    await Promise.all(acks);
    await until(() => seen.length === 40, `watcher to see all 40 (${seen.length})`, 20000);
    expectConsecutive(seen.map((m) => m.seq), 1, 40);
    expect(seen.map((m) => m.content).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `k${i}`).sort());
    expect((await allMessages(watcher)).length).toBe(40);
    sender.close();
    watcher.close();
  });

  test("a socket dropped after the server stored messages but before their acks: resent once, stored once", async () => {
    const email = freshUser();
    const relay = new Relay(server.port);
    const { client } = await signedInClient(server, email, { server: await relay.start() });
    const { client: watcher } = await signedInClient(server, email);
    const mine: number[] = [];
    const theirs: number[] = [];
    client.on("message", (m) => mine.push(m.seq));
    watcher.on("message", (m) => theirs.push(m.seq));
    await client.connect();
    await watcher.connect();
    relay.blackhole();
    const acks = Array.from({ length: 5 }, (_, i) => client.send(`lost ack ${i}`));
    await until(() => theirs.length === 5, "the server to store all five");
    relay.cut();
    const results = await Promise.all(acks);
    expect(results.map((a) => a.duplicate)).toEqual([true, true, true, true, true]);
    expect(results.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5]);
    await until(() => mine.length === 5, "the replay");
    expect(mine).toEqual([1, 2, 3, 4, 5]);
    await Bun.sleep(200);
    expect(theirs).toEqual([1, 2, 3, 4, 5]);
    expect((await allMessages(watcher)).map((m) => m.content)).toEqual([0, 1, 2, 3, 4].map((i) => `lost ack ${i}`));
    client.close();
    watcher.close();
    relay.stop();
  });

  test("a message sent while offline is queued and delivered once", async () => {
    const email = freshUser();
    const { client } = await signedInClient(server, email);
    const states: ConnectionState[] = [];
    client.on("connection_state", (s) => states.push(s));
    await client.connect();
    await server.stop("SIGKILL");
    await until(() => client.state.status === "offline", "the client to notice the server is gone");
    const ack = client.send("written while offline");
    await Bun.sleep(300);
    await server.start();
    const { seq, duplicate } = await ack;
    expect(duplicate).toBe(false);
    expect(states.some((s) => s.status === "offline" && s.retryInMs! > 0 && s.reason === "server unreachable")).toBe(true);
    const stored = await allMessages(client);
    expect(stored.filter((m) => m.content === "written while offline").map((m) => m.seq)).toEqual([seq]);
    client.close();
  });

  test("a message queued before connect() is sent once connected", async () => {
    const { client } = await signedInClient(server, freshUser());
    const ack = client.send("early");
    await client.connect();
    expect((await ack).seq).toBe(1);
    client.close();
  });

  test("an incomplete replay is completed with history pages", async () => {
    const email = freshUser();
    const { client: sender } = await signedInClient(server, email);
    const { client: watcher } = await signedInClient(server, email);
    const seen: number[] = [];
    watcher.on("message", (m) => seen.push(m.seq));
    await sender.connect();
    await watcher.connect();
    await sender.send("first");
    await until(() => seen.length === 1, "the first message");
    watcher.close(); // keeps lastSeq and epoch; connect() resumes with since
    await Promise.all(Array.from({ length: 700 }, (_, i) => sender.send(`bulk ${i}`)));
    await watcher.connect();
    await until(() => seen.length === 701, `the whole gap (${seen.length})`);
    expectConsecutive(seen, 1, 701);
    sender.close();
    watcher.close();
  });

  test("a replaced store (new epoch) emits reset and restarts from the replay", async () => {
    const email = freshUser();
    const { client } = await signedInClient(server, email);
    const seen: number[] = [];
    const resets: string[] = [];
    client.on("message", (m) => seen.push(m.seq));
    client.on("reset", (r) => {
      resets.push(r.epoch);
      seen.length = 0;
    });
    await client.connect();
    for (let i = 0; i < 3; i++) await client.send(`old ${i}`);
    await until(() => seen.length === 3, "three messages");
    const oldEpoch = client.epoch;
    await server.stop();
    const oldDir = server.dataDir;
    server.dataDir = tempDir(); // a new, empty store; the same JWT key keeps the session valid
    try {
      await server.start();
      await until(() => resets.length === 1 && client.state.status === "connected", "the reset");
      expect(resets[0]).not.toBe(oldEpoch);
      expect(client.epoch).toBe(resets[0]);
      const ack = await client.send("new world");
      expect(ack.seq).toBe(1);
      await until(() => seen.length === 1, "the new message");
      expect(seen).toEqual([1]);
    } finally {
      client.close();
      await server.stop();
      server.dataDir = oldDir;
      await server.start();
    }
  });

  test("a half-open socket (server frozen) is noticed by the ping and replaced", async () => {
    const { client } = await signedInClient(server, freshUser(), { pingIntervalMs: 200, pingTimeoutMs: 300 });
    const states: ConnectionState[] = [];
    client.on("connection_state", (s) => states.push(s));
    await client.connect();
    server.proc.kill("SIGSTOP");
    try {
      await until(() => states.some((s) => s.reason === "no answer to ping"), "the ping timeout", 5000);
    } finally {
      server.proc.kill("SIGCONT");
    }
    await until(() => client.state.status === "connected", "the reconnect");
    expect((await client.send("still here")).seq).toBe(1);
    client.close();
  });
});
