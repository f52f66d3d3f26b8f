/**
 * PROTOCOL.md section 4: three instances on one Redis behave, for users, like one server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { requestToken } from "../helpers/server";
import { WsClient } from "../helpers/ws-client";
import { expectProblem } from "../helpers/problems";
import { expectSeqRun } from "../helpers/seq";
import { rawUpgrade } from "../helpers/upgrade";
import { connectEverywhere, freshUser, quiet, startCluster, startInstance, type Cluster } from "./support";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster(3);
}, 30_000);
afterAll(async () => {
  for (const server of cluster?.servers ?? []) expect(quiet(server)).toBe(true);
  await cluster?.stop();
});

describe("messages across instances", () => {
  test("concurrent sends through every instance: each connection everywhere gets every message once, in seq order, gapless; acks precede own copies", async () => {
    const { clients } = await connectEverywhere(cluster.servers, freshUser());
    const PER = 40;
    const acks = await Promise.all(
      clients.map(async (c, ci) => {
        const replies = Array.from({ length: PER }, (_, i) => c.request("message", { content: `${ci}|${i}` }, { timeoutMs: 20_000 }));
        return Promise.all(replies);
      }),
    );
    for (const reply of acks.flat()) expect(reply.type).toBe("ack");
    const total = PER * clients.length;
    for (const c of clients) {
      const messages = await c.waitForMessages(total);
      await Bun.sleep(100);
      expect(c.messages().length).toBe(total);
      expectSeqRun(messages.map((m) => m.seq), 1, total);
      expect(messages.map((m) => m.id)).toEqual(clients[0].messages().map((m) => m.id));
    }
    // each connection's messages were stored in the order it sent them
    for (let ci = 0; ci < clients.length; ci++) {
      const mine = clients[0].messages().filter((m) => m.content.startsWith(`${ci}|`)).map((m) => Number(m.content.split("|")[1]));
      expect(mine).toEqual(Array.from({ length: PER }, (_, i) => i));
    }
    // on every sending connection, the ack of a message comes before its own copy
    for (const c of clients) {
      const position = new Map<number, number>();
      c.frames.forEach((f, i) => f.type === "message" && position.set(f.data.seq, i));
      c.frames.forEach((f, i) => {
        if (f.type === "ack" && typeof f.data?.seq === "number") expect(i).toBeLessThan(position.get(f.data.seq)!);
      });
    }
  }, 40_000);

  test("client_msg_id de-duplication holds across instances: racing one id through three instances stores one message", async () => {
    const { clients } = await connectEverywhere(cluster.servers, freshUser());
    const id = crypto.randomUUID();
    const replies = await Promise.all(clients.map((c, i) => c.request("message", { content: `try ${i}`, client_msg_id: id })));
    expect(replies.map((r) => r.type)).toEqual(["ack", "ack", "ack"]);
    expect(replies.filter((r) => !r.data.duplicate).length).toBe(1);
    expect(new Set(replies.map((r) => `${r.data.id}/${r.data.seq}/${r.data.timestamp}`)).size).toBe(1);
    await Bun.sleep(300);
    for (const c of clients) expect(c.messages().length).toBe(1);
  });

  test("history and since see every instance's messages", async () => {
    const { jwt, clients } = await connectEverywhere(cluster.servers, freshUser());
    for (const [i, c] of clients.entries()) await c.sendMessage(`from instance ${i}`);
    const page = await clients[2].request("history", { limit: 10 });
    expect(page.data.messages.map((m: any) => m.content)).toEqual(["from instance 0", "from instance 1", "from instance 2"]);
    const late = await WsClient.connect(cluster.servers[1].wsUrl, { jwt, since: 1 });
    expect(late.replay!.data).toMatchObject({ complete: true, reset: false });
    expect(late.replay!.data.messages.map((m: any) => m.seq)).toEqual([2, 3]);
    expect(late.authenticated.data.epoch).toBe(clients[0].authenticated.data.epoch);
  });

  test("joins racing live sends on other instances: replay then live, no overlap, no gap", async () => {
    const { jwt, clients } = await connectEverywhere(cluster.servers.slice(0, 1), freshUser());
    const sender = clients[0];
    let sent = 0;
    let sending = true;
    const pump = (async () => {
      while (sending && sent < 400) {
        await Promise.all(Array.from({ length: 5 }, () => sender.request("message", { content: `m${++sent}` })));
      }
    })();
    const joiners: WsClient[] = [];
    for (let i = 0; i < 12; i++) {
      await Bun.sleep(10);
      joiners.push(await WsClient.connect(cluster.servers[1 + (i % 2)].wsUrl, { jwt, since: 0 }));
    }
    sending = false;
    await pump;
    const last = sent; // every send was acked: a fresh channel holds seqs 1..sent
    for (const j of joiners) {
      await j.until(() => (j.messages().at(-1)?.seq ?? j.replay!.data.messages.at(-1)?.seq ?? 0) >= last, `seq ${last}`);
      await Bun.sleep(50);
      const seqs = [...j.replay!.data.messages.map((m: any) => m.seq), ...j.messages().map((m) => m.seq)];
      expectSeqRun(seqs, 1, last);
      j.close();
    }
    // some joins did land in the middle of the traffic
    expect(joiners.some((j) => j.replay!.data.messages.length > 0 && j.messages().length > 0)).toBe(true);
  }, 30_000);
});

describe("sign-in and sessions across instances", () => {
  test("a link requested on one instance verifies on another, once", async () => {
    const email = freshUser();
    const token = await requestToken(cluster.servers[0], email);
    const verify = (i: number) =>
      fetch(`${cluster.servers[i].url}/auth/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token }) });
    const [first, second] = await Promise.all([verify(1), verify(2)]);
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([200, 400]);
    const failed = first.status === 400 ? first : second;
    expect(((await failed.json()) as { code: string }).code).toBe("invalid_token");
  });

  test("magic-link rate limits count across instances", async () => {
    const limited = await Promise.all([0, 1].map(() => startInstance(cluster.redis, { MAGIC_LINK_RATE_LIMIT: "3" })));
    try {
      const email = freshUser();
      const ask = (i: number) =>
        fetch(`${limited[i % 2].url}/auth/request-magic-link`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email }) });
      for (let i = 0; i < 3; i++) expect((await ask(i)).status).toBe(200);
      const refused = await ask(1);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await ask(0)).status).toBe(429);
    } finally {
      await Promise.all(limited.map((s) => s.stop()));
    }
  }, 20_000);

  test("logout on one instance closes that session's sockets on the others (4001); the session can't upgrade anywhere", async () => {
    const { jwt, clients } = await connectEverywhere(cluster.servers, freshUser());
    const logout = await fetch(`${cluster.servers[0].url}/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${jwt}` } });
    expect(logout.status).toBe(200);
    for (const c of clients) expect((await Promise.race([c.closed, Bun.sleep(5000).then(() => null)]))?.code).toBe(4001);
    for (const server of cluster.servers) await expectProblem(await rawUpgrade(server.wsUrl, { jwt }), 401, "unauthenticated", "/ws");
  });

  test("logout-all on one instance closes every session's sockets on every instance", async () => {
    const email = freshUser();
    const a = await connectEverywhere(cluster.servers, email);
    const b = await connectEverywhere(cluster.servers.slice(1), email);
    const other = await connectEverywhere(cluster.servers, freshUser());
    const res = await fetch(`${cluster.servers[2].url}/auth/logout-all`, { method: "POST", headers: { authorization: `Bearer ${b.jwt}` } });
    expect(res.status).toBe(200);
    for (const c of [...a.clients, ...b.clients]) expect((await Promise.race([c.closed, Bun.sleep(5000).then(() => null)]))?.code).toBe(4001);
    await Bun.sleep(200);
    for (const c of other.clients) expect(c.isOpen).toBe(true);
  });
});

describe("presence across instances", () => {
  test("connections, total_connections and remaining_connections count every instance", async () => {
    const { jwt, clients } = await connectEverywhere(cluster.servers, freshUser());
    const ids = clients.map((c) => c.connectionId);
    expect(clients[2].authenticated.data.connections.map((c: any) => c.connection_id)).toEqual(ids);
    await clients[0].waitFor((f) => f.type === "user_joined" && f.data.connection_id === ids[2] && f.data.total_connections === 3);
    const fourth = await WsClient.connect(cluster.servers[1].wsUrl, { jwt });
    for (const c of clients) await c.waitFor((f) => f.type === "user_joined" && f.data.connection_id === fourth.connectionId && f.data.total_connections === 4);
    await fourth.closeAndWait();
    for (const c of clients) await c.waitFor((f) => f.type === "user_left" && f.data.connection_id === fourth.connectionId && f.data.remaining_connections === 3);
    const named = await clients[1].request("set_display_name", { display_name: "Tablet" });
    expect(named.type).toBe("ack");
    await clients[0].waitFor((f) => f.type === "display_name_changed" && f.data.connection_id === ids[1] && f.data.user.display_name === "Tablet");
    const fifth = await WsClient.connect(cluster.servers[2].wsUrl, { jwt });
    expect(fifth.authenticated.data.connections.find((c: any) => c.connection_id === ids[1]).display_name).toBe("Tablet");
  });

  test("MAX_CONNECTIONS_PER_USER counts every instance", async () => {
    const capped = await Promise.all([0, 1].map(() => startInstance(cluster.redis, { MAX_CONNECTIONS_PER_USER: "3" })));
    try {
      const { jwt } = await connectEverywhere(capped, freshUser());
      await WsClient.connect(capped[1].wsUrl, { jwt });
      await expectProblem(await rawUpgrade(capped[0].wsUrl, { jwt }), 429, "rate_limited", "/ws");
    } finally {
      await Promise.all(capped.map((s) => s.stop()));
    }
  }, 20_000);
});
