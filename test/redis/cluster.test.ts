/**
 * PROTOCOL.md section 4 on a Redis Cluster: two Roomz instances on three real primaries
 * (REDIS_URL=redis+cluster://...) behave, for users, like one server. Each channel's keys
 * share one slot, and channels spread over every primary.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { keyspace } from "../../src/engine/redis/keys";
import { expectProblem } from "../helpers/problems";
import { startRedisCluster, type RedisCluster } from "../helpers/redis-cluster";
import { expectSeqRun } from "../helpers/seq";
import type { TestServer } from "../helpers/server";
import { rawUpgrade } from "../helpers/upgrade";
import { until } from "../helpers/wait";
import { WsClient, type Frame } from "../helpers/ws-client";
import { connectEverywhere, freshUser, healthStatus, killAndWatchForgotten, quiet, startInstance } from "./support";

let cluster: RedisCluster;
let servers: TestServer[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster(3, { persistent: true });
  servers = await Promise.all([startInstance(cluster), startInstance(cluster)]);
}, 30_000);
afterAll(async () => {
  for (const server of servers) expect(quiet(server)).toBe(true);
  await Promise.all(servers.map((s) => s.stop()));
  await cluster?.stop();
});

describe("two instances on a three-node Redis Cluster", () => {
  test("concurrent sends through both instances: every connection gets every message once, in seq order; acks precede own copies; each channel in one slot, channels on every primary", async () => {
    const users = Array.from({ length: 9 }, () => freshUser());
    const PER = 20;
    await Promise.all(
      users.map(async (email) => {
        const { clients } = await connectEverywhere(servers, email);
        const acks = await Promise.all(clients.flatMap((c, ci) => Array.from({ length: PER }, (_, i) => c.request("message", { content: `${ci}|${i}` }, { timeoutMs: 20_000 }))));
        for (const reply of acks) expect(reply.type).toBe("ack");
        for (const c of clients) {
          const messages = await c.waitForMessages(PER * 2);
          expectSeqRun(messages.map((m) => m.seq), 1, PER * 2);
          const position = new Map<number, number>();
          c.frames.forEach((f, i) => f.type === "message" && position.set(f.data.seq, i));
          c.frames.forEach((f, i) => {
            if (f.type === "ack" && typeof f.data?.seq === "number") expect(i).toBeLessThan(position.get(f.data.seq)!);
          });
        }
        await Bun.sleep(100);
        for (const c of clients) expect(c.messages().length).toBe(PER * 2);
        for (const c of clients) c.close();
      }),
    );
    // Every key of a channel is in the channel's slot, on the node that owns it.
    const keys = keyspace(true);
    const owners = new Set<number>();
    for (const email of users) {
      const channel = `user:${email}`;
      const owner = await cluster.ownerOf(keys.seq(channel));
      owners.add(owner.port);
      const slots = await Promise.all([keys.seq(channel), keys.log(channel), keys.presence(channel), keys.feed(channel), keys.clientMsgId(channel, "x")].map((k) => owner.command("CLUSTER", ["KEYSLOT", k])));
      expect(new Set(slots).size).toBe(1);
      expect(await owner.command("GET", [keys.seq(channel)])).toBe(String(PER * 2));
      expect(Number(await owner.command("ZCARD", [keys.log(channel)]))).toBe(PER * 2);
    }
    // These nine channels (always the same: the suite's first nine users) fall on all three primaries.
    expect(owners.size).toBe(3);
  }, 40_000);

  test("client_msg_id: racing one id through both instances stores one message", async () => {
    const { clients } = await connectEverywhere([...servers, ...servers], freshUser());
    const id = crypto.randomUUID();
    const replies = await Promise.all(clients.map((c, i) => c.request("message", { content: `try ${i}`, client_msg_id: id })));
    expect(replies.map((r) => r.type)).toEqual(["ack", "ack", "ack", "ack"]);
    expect(replies.filter((r) => !r.data.duplicate).length).toBe(1);
    expect(new Set(replies.map((r) => `${r.data.id}/${r.data.seq}/${r.data.timestamp}`)).size).toBe(1);
    await Bun.sleep(300);
    for (const c of clients) expect(c.messages().length).toBe(1);
  });

  test("history, since and epoch replays see both instances' messages; a since above the tip resets", async () => {
    const { jwt, clients } = await connectEverywhere(servers, freshUser());
    for (const [i, c] of [...clients, ...clients].entries()) await c.sendMessage(`m${i}`);
    const page = await clients[1].request("history", { limit: 10 });
    expect(page.data.messages.map((m: any) => m.content)).toEqual(["m0", "m1", "m2", "m3"]);
    const epoch = clients[0].authenticated.data.epoch;
    expect(clients[1].authenticated.data.epoch).toBe(epoch);
    const late = await WsClient.connect(servers[1].wsUrl, { jwt, since: 2, epoch });
    expect(late.replay!.data).toMatchObject({ complete: true, reset: false });
    expect(late.replay!.data.messages.map((m: any) => m.seq)).toEqual([3, 4]);
    const ahead = await WsClient.connect(servers[0].wsUrl, { jwt, since: 9, epoch });
    expect(ahead.replay!.data.reset).toBe(true);
    expect(ahead.replay!.data.messages.map((m: any) => m.seq)).toEqual([1, 2, 3, 4]);
    const foreign = await WsClient.connect(servers[0].wsUrl, { jwt, since: 4, epoch: "another-store" });
    expect(foreign.replay!.data.reset).toBe(true);
    for (const c of [late, ahead, foreign]) c.close();
  });

  test("presence counts both instances; logout on one closes the session's sockets on the other", async () => {
    const { jwt, clients } = await connectEverywhere(servers, freshUser());
    const ids = clients.map((c) => c.connectionId);
    expect(clients[1].authenticated.data.connections.map((c: any) => c.connection_id)).toEqual(ids);
    await clients[0].waitFor((f) => f.type === "user_joined" && f.data.connection_id === ids[1] && f.data.total_connections === 2);
    const third = await WsClient.connect(servers[1].wsUrl, { jwt });
    await clients[0].waitFor((f) => f.type === "user_joined" && f.data.connection_id === third.connectionId && f.data.total_connections === 3);
    await third.closeAndWait();
    await clients[0].waitFor((f) => f.type === "user_left" && f.data.connection_id === third.connectionId && f.data.remaining_connections === 2);
    const logout = await fetch(`${servers[0].url}/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${jwt}` } });
    expect(logout.status).toBe(200);
    for (const c of clients) expect((await Promise.race([c.closed, Bun.sleep(5000).then(() => null)]))?.code).toBe(4001);
    for (const server of servers) await expectProblem(await rawUpgrade(server.wsUrl, { jwt }), 401, "unauthenticated", "/ws");
  });

  test("a channel's slot moves to another primary under traffic: every acked message stored once, and delivered once and in order on both instances, also on the one that never sent", async () => {
    const email = freshUser();
    const { clients } = await connectEverywhere(servers, email);
    const [sender, watcher] = clients;
    const keys = keyspace(true);
    const channel = `user:${email}`;
    const from = await cluster.ownerOf(keys.seq(channel));
    const to = cluster.nodes.find((n) => n !== from)!;
    const slot = String(await from.command("CLUSTER", ["KEYSLOT", keys.seq(channel)]));
    const [fromId, toId] = [String(await from.command("CLUSTER", ["MYID"])), String(await to.command("CLUSTER", ["MYID"]))];
    const acked: number[] = [];
    let refused = 0;
    let sending = true;
    const send = async (content: string) => {
      const reply = await sender.request("message", { content }, { timeoutMs: 20_000 });
      if (reply.type === "ack") return void acked.push(reply.data.seq);
      expect(reply.data.code).toBe("unavailable");
      refused++;
      await Bun.sleep(10);
    };
    const traffic = (async () => {
      for (let i = 0; sending; i++) await Promise.all([send(`${i}a`), send(`${i}b`)]);
    })();
    await Bun.sleep(200);
    // What redis-cli --cluster reshard does, for this one slot.
    await to.command("CLUSTER", ["SETSLOT", slot, "IMPORTING", fromId]);
    await from.command("CLUSTER", ["SETSLOT", slot, "MIGRATING", toId]);
    for (;;) {
      const moving = (await from.command("CLUSTER", ["GETKEYSINSLOT", slot, "50"])) as string[];
      if (moving.length === 0) break;
      await from.command("MIGRATE", ["127.0.0.1", String(to.port), "", "0", "5000", "KEYS", ...moving]);
      await Bun.sleep(20);
    }
    for (const node of [to, from, ...cluster.nodes.filter((n) => n !== to && n !== from)]) await node.command("CLUSTER", ["SETSLOT", slot, "NODE", toId]);
    expect((await cluster.ownerOf(keys.seq(channel))).port).toBe(to.port);
    // The watcher's instance sends nothing, so only its own look at the slots can tell it
    // that the feed moved; the last messages are followed by nothing that reveals a gap.
    sending = false;
    await traffic;
    await send("after the move");
    const total = Math.max(...acked);
    expect([...acked].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(Number(await to.command("ZCARD", [keys.log(channel)]))).toBe(total);
    for (const c of clients) {
      await c.until(() => c.messages().some((m) => m.seq === total), `seq ${total}`);
      expectSeqRun(c.messages().map((m) => m.seq), 1, total);
      expect(c.isOpen).toBe(true);
    }
    for (const server of servers) expect(server.output).toContain("slots moved; resubscribed 1 feed on the new primary");
    console.log(`slot ${slot} moved under traffic: ${total} messages acked, ${refused} refused (unavailable) meanwhile`);
  }, 40_000);

  test("a primary down: 503 and `unavailable` on both instances; back with its data: recovery by itself, nothing acked lost", async () => {
    const email = freshUser();
    const { jwt, clients } = await connectEverywhere(servers, email);
    for (let i = 1; i <= 3; i++) await clients[0].sendMessage(`before ${i}`);
    const owner = await cluster.ownerOf(keyspace(true).seq(`user:${email}`));
    await owner.stop("SIGKILL");
    await until(async () => (await healthStatus(servers[0])) === 503 && (await healthStatus(servers[1])) === 503, "503 from /healthz");
    const refused = await clients[1].request("message", { content: "while down" });
    expect({ type: refused.type, code: refused.data.code }).toEqual({ type: "error", code: "unavailable" });
    await owner.start();
    await until(async () => (await healthStatus(servers[0])) === 200 && (await healthStatus(servers[1])) === 200, "recovery", 20_000);
    // /healthz answers 200 once the instance's links are up; the cluster itself may still
    // refuse a command for a moment (CLUSTERDOWN until every node sees the primary back).
    // A client resends an `unavailable` message with its client_msg_id, as this does.
    let after: Frame | null = null;
    await until(async () => (after = await clients[1].request("message", { content: "after", client_msg_id: "after-1" })).type === "ack", "the message after recovery acked", 10_000);
    expect(after!.data.seq).toBe(4);
    for (const c of clients) await c.until(() => c.messages().some((m) => m.seq === 4), "seq 4 everywhere");
    for (const c of clients) expect(c.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    const late = await WsClient.connect(servers[0].wsUrl, { jwt, since: 0 });
    expect(late.replay!.data.messages.map((m: any) => m.content)).toEqual(["before 1", "before 2", "before 3", "after"]);
  }, 40_000);
  test("an instance SIGKILLed: a survivor forgets its connections within 30 s (user_left), through the cluster's {global} keys", async () => {
    const doomed = await startInstance(cluster);
    await killAndWatchForgotten(servers[0], doomed);
    expect(servers.map((s) => s.output).join("").match(/cleaned up after instance [0-9a-f-]{36} \(no heartbeat\): forgot 2 connections/g)).toHaveLength(1);
  }, 45_000);
});
