/**
 * History and replay (PROTOCOL.md section 2): `history` paging, `since` replays (complete
 * and incomplete), `epoch` resets, and a replay racing live sends.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signIn, type TestServer } from "../helpers/server";
import { WsClient } from "../helpers/ws-client";
import { expectSeqRun } from "../helpers/seq";
import { allHistory, connectUser, freshUser, sendMany, startWsServer } from "./support";

let server: TestServer;
beforeAll(async () => {
  server = await startWsServer();
}, 30000);
afterAll(() => server?.stop(), 30000);

/** Seeds `count` messages into `email`'s channel through several connections at once. */
async function seed(email: string, count: number, connections = 4) {
  const { jwt, clients } = await connectUser(server, email, connections);
  const per = Math.ceil(count / connections);
  let left = count;
  await Promise.all(
    clients.map((c, i) => {
      const n = Math.min(per, left);
      left -= n;
      return sendMany(c, n, `seed ${i}`);
    }),
  );
  for (const c of clients) c.close();
  return jwt;
}

describe("history requests", () => {
  test("an empty channel gives [] and has_more false", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    for (const data of [undefined, {}, { limit: 200 }, { before: 1 }, { before: 1000, limit: 5 }]) {
      const reply = await c.request("history", data);
      expect(reply.type).toBe("ack");
      expect(reply.data).toEqual({ messages: [], has_more: false });
    }
    c.close();
  });

  test("paging with before and limit: newest `limit` below `before`, ascending by seq; default 50; has_more exact", async () => {
    const email = freshUser();
    const jwt = await seed(email, 260);
    const c = await WsClient.connect(server.wsUrl, { jwt });
    const seqsOf = (reply: any) => reply.data.messages.map((m: any) => m.seq);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

    const latest = await c.request("history");
    expect(seqsOf(latest)).toEqual(range(211, 260)); // default limit 50
    expect(latest.data.has_more).toBe(true);
    const noData = await c.request("history", {});
    expect(seqsOf(noData)).toEqual(range(211, 260));

    const max = await c.request("history", { limit: 200 });
    expect(seqsOf(max)).toEqual(range(61, 260));
    expect(max.data.has_more).toBe(true);
    const rest = await c.request("history", { before: 61, limit: 200 });
    expect(seqsOf(rest)).toEqual(range(1, 60));
    expect(rest.data.has_more).toBe(false);

    const one = await c.request("history", { limit: 1 });
    expect(seqsOf(one)).toEqual([260]);
    const beforeTen = await c.request("history", { before: 10, limit: 5 });
    expect(seqsOf(beforeTen)).toEqual([5, 6, 7, 8, 9]);
    expect(beforeTen.data.has_more).toBe(true);
    const exactStart = await c.request("history", { before: 6, limit: 5 });
    expect(seqsOf(exactStart)).toEqual([1, 2, 3, 4, 5]);
    expect(exactStart.data.has_more).toBe(false); // nothing older than seq 1
    const beforeFirst = await c.request("history", { before: 1 });
    expect(beforeFirst.data).toEqual({ messages: [], has_more: false });
    const beyond = await c.request("history", { before: 100000, limit: 3 });
    expect(seqsOf(beyond)).toEqual([258, 259, 260]);

    // paging back through everything gives every seq once
    const all = await allHistory(c);
    expectSeqRun(all.map((m) => m.seq), 1, 260);
    for (const m of all) expect(m.user.email).toBe(email);
    c.close();
  });
});

describe("since replay", () => {
  test("since=0 on an empty channel and since at the last seq give an empty, complete replay right after authenticated; since above it is a reset", async () => {
    const email = freshUser();
    const jwt = await signIn(server, email);
    const empty = await WsClient.connect(server.wsUrl, { jwt, since: 0 });
    expect(empty.frames[0].type).toBe("authenticated");
    expect(empty.frames[1]).toEqual({ type: "history", data: { messages: [], complete: true, reset: false } });
    const ahead = await WsClient.connect(server.wsUrl, { jwt, since: 5 });
    expect(ahead.frames[1]).toEqual({ type: "history", data: { messages: [], complete: true, reset: true } });
    ahead.close();
    await empty.sendMessage("one");
    await empty.sendMessage("two");
    const atTip = await WsClient.connect(server.wsUrl, { jwt, since: 2 });
    expect(atTip.frames[1]).toEqual({ type: "history", data: { messages: [], complete: true, reset: false } });
    atTip.close();
    // [v2] the store went back in time (a restored backup): start over from the newest messages
    for (const since of ["3", "1000", "99999999999999999999"]) {
      const c = await WsClient.connect(server.wsUrl, { jwt, since });
      expect(c.frames[1].type).toBe("history");
      expect(c.frames[1].data.reset).toBe(true);
      expect(c.frames[1].data.complete).toBe(true);
      expect(c.frames[1].data.messages.map((m: any) => m.content)).toEqual(["one", "two"]);
      c.close();
    }
    const fromOne = await WsClient.connect(server.wsUrl, { jwt, since: 1 });
    expect(fromOne.replay!.data.messages.map((m: any) => m.content)).toEqual(["two"]);
    expect(fromOne.replay!.data.complete).toBe(true);
    // the replay's elements are exactly message frames' data
    expect(fromOne.replay!.data.messages[0]).toEqual(empty.messages()[1]);
    fromOne.close();
    empty.close();
  });

  test("complete and incomplete: more than 500 later messages give the newest 500 with complete:false; history pages back the rest", async () => {
    const email = freshUser();
    const jwt = await seed(email, 620);
    const epoch = (await WsClient.connect(server.wsUrl, { jwt })).authenticated.data.epoch;

    const full = await WsClient.connect(server.wsUrl, { jwt, since: 0, epoch });
    const r = full.replay!.data;
    expect(r.complete).toBe(false);
    expect(r.reset).toBe(false);
    expectSeqRun(r.messages.map((m: any) => m.seq), 121, 500);
    // pages back with history to close the gap
    const older = await full.request("history", { before: 121, limit: 200 });
    expectSeqRun(older.data.messages.map((m: any) => m.seq), 1, 120);
    expect(older.data.has_more).toBe(false);

    const since119 = await WsClient.connect(server.wsUrl, { jwt, since: 119 });
    expect(since119.replay!.data.complete).toBe(false); // 501 later messages
    expectSeqRun(since119.replay!.data.messages.map((m: any) => m.seq), 121, 500);

    const since120 = await WsClient.connect(server.wsUrl, { jwt, since: 120 });
    expect(since120.replay!.data.complete).toBe(true); // exactly 500
    expectSeqRun(since120.replay!.data.messages.map((m: any) => m.seq), 121, 500);

    const since600 = await WsClient.connect(server.wsUrl, { jwt, since: 600, epoch });
    expect(since600.replay!.data.complete).toBe(true);
    expectSeqRun(since600.replay!.data.messages.map((m: any) => m.seq), 601, 20);

    // epoch mismatch: the newest 500 with reset:true, whatever since says
    for (const since of [0, 600, 620, 5000]) {
      const reset = await WsClient.connect(server.wsUrl, { jwt, since, epoch: "some-other-epoch" });
      expect(reset.replay!.data.reset).toBe(true);
      expect(reset.replay!.data.complete).toBe(false); // older messages exist
      expectSeqRun(reset.replay!.data.messages.map((m: any) => m.seq), 121, 500);
      reset.close();
    }
    for (const c of [full, since119, since120, since600]) c.close();
  });

  test("epoch mismatch on a small channel: every message, reset:true, complete:true; epoch without since gives no replay", async () => {
    const email = freshUser();
    const { jwt, clients: [c] } = await connectUser(server, email);
    await sendMany(c, 3, "small");
    const reset = await WsClient.connect(server.wsUrl, { jwt, since: 3, epoch: "x" });
    expect(reset.replay!.data.reset).toBe(true);
    expect(reset.replay!.data.complete).toBe(true);
    expect(reset.replay!.data.messages.map((m: any) => m.seq)).toEqual([1, 2, 3]);
    const same = await WsClient.connect(server.wsUrl, { jwt, since: 3, epoch: c.authenticated.data.epoch });
    expect(same.replay!.data).toEqual({ messages: [], complete: true, reset: false });
    const noSince = await WsClient.connect(server.wsUrl, { jwt, epoch: "x" });
    await noSince.request("ping");
    expect(noSince.ofType("history")).toEqual([]);
    for (const x of [c, reset, same, noSince]) x.close();
  });

  test("a client that reads promptly is not closed (4008) by its own since replay of 500 long messages", async () => {
    // 500 messages of 4000 emoji: an 8 MB replay, more than the default SEND_BUFFER_BYTES (1 MiB).
    const email = freshUser();
    const { jwt, clients: [writer] } = await connectUser(server, email);
    const content = "😀".repeat(4000);
    // Ten in flight at a time: the writer gets its own copies too, and a busy test
    // process must not make the writer itself a slow consumer.
    for (let sent = 0; sent < 500; sent += 10) {
      const replies = Array.from({ length: 10 }, () => writer.request("message", { content }, { timeoutMs: 30000 }));
      for (const r of await Promise.all(replies)) expect(r.type).toBe("ack");
    }
    writer.close();
    const reader = await WsClient.connect(server.wsUrl, { jwt, since: 0 }); // Bun's client reads as fast as it can
    expect(reader.replay!.data.messages.length).toBe(500);
    await Bun.sleep(1000);
    expect(reader.closeInfo).toBeNull();
    expect((await reader.request("ping")).type).toBe("ack");
    reader.close();
  }, 30000);

  test("a replay racing live sends: every later seq arrives exactly once, in order, replay first", async () => {
    const email = freshUser();
    const { jwt, clients: senders } = await connectUser(server, email, 3);
    await sendMany(senders[0], 20, "before");
    let stop = false;
    let sent = 20;
    const sending = Promise.all(
      senders.map(async (s, i) => {
        for (let batch = 0; !stop; batch++) {
          await sendMany(s, 10, `live ${i}.${batch}`);
          sent += 10;
        }
      }),
    );
    // joiners arrive while the messages stream in, each from a different `since`
    const joiners: Array<{ client: WsClient; since: number }> = [];
    for (let k = 0; k < 15; k++) {
      await Bun.sleep(10);
      const since = Math.max(0, senders[0].messages().length - (k % 3) * 7); // the newest seq seen, or a little before it
      joiners.push({ client: await WsClient.connect(server.wsUrl, { jwt, since }), since });
    }
    await Bun.sleep(50);
    stop = true;
    await sending;
    const last = sent;
    let raced = 0;
    for (const { client, since } of joiners) {
      const replay = client.replay!.data;
      expect(replay.complete).toBe(true);
      const replayed = replay.messages.map((m: any) => m.seq);
      await client.until(() => (client.messages().at(-1)?.seq ?? replayed.at(-1) ?? since) >= last, `seq ${last}`, 20000);
      const seqs = [...replayed, ...client.messages().map((m) => m.seq)];
      expectSeqRun(seqs, since + 1, last - since);
      if (replayed.length > 0 && client.messages().length > 0) raced++;
      // the history frame came before any live message frame
      const historyIndex = client.frames.findIndex((f) => f.type === "history");
      const firstMessage = client.frames.findIndex((f) => f.type === "message");
      if (firstMessage >= 0) expect(historyIndex).toBeLessThan(firstMessage);
      client.close();
    }
    expect(raced).toBeGreaterThan(5); // the race did happen: replays and live traffic met
    for (const s of senders) s.close();
  });
});
