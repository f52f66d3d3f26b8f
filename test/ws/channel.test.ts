/**
 * The user's channel (PROTOCOL.md section 2): fan-out to every connection of the user and
 * to no other, seq gapless per channel, ack before the sender's own copy, client_msg_id
 * de-duplication, display names, and presence (user_joined / user_left).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signIn, type TestServer } from "../helpers/server";
import { WsClient } from "../helpers/ws-client";
import { expectSeqRun } from "../helpers/seq";
import { TIMESTAMP } from "../helpers/timestamp";
import { allHistory, connectUser, freshUser, startWsServer } from "./support";

let server: TestServer;
beforeAll(async () => {
  server = await startWsServer();
}, 30000);
afterAll(() => server?.stop(), 30000);

describe("fan-out and seq", () => {
  test("several users sending concurrently: every connection of a user gets all of its messages, gapless from 1, and nothing of another user", async () => {
    const USERS = 4;
    const CONNECTIONS = 3;
    const PER_CONNECTION = 40;
    const users = await Promise.all(
      Array.from({ length: USERS }, async () => {
        const email = freshUser();
        const { clients } = await connectUser(server, email, CONNECTIONS);
        return { email, clients };
      }),
    );
    // everyone sends at once, without waiting for acks
    await Promise.all(
      users.flatMap(({ email, clients }) =>
        clients.map(async (c, ci) => {
          const replies = [];
          for (let i = 0; i < PER_CONNECTION; i++) replies.push(c.request("message", { content: `${email}|${ci}|${i}` }, { timeoutMs: 20000 }));
          for (const r of await Promise.all(replies)) expect(r.type).toBe("ack");
        }),
      ),
    );
    const total = CONNECTIONS * PER_CONNECTION;
    for (const { email, clients } of users) {
      for (const c of clients) {
        const messages = await c.waitForMessages(total);
        await Bun.sleep(20);
        expect(c.messages().length).toBe(total); // no more than that
        for (const m of messages) {
          expect(m.user.email).toBe(email);
          expect(m.content.startsWith(`${email}|`)).toBe(true);
        }
        expectSeqRun(messages.map((m) => m.seq), 1, total);
        // each connection's messages arrive in the order it sent them
        for (let ci = 0; ci < CONNECTIONS; ci++) {
          const mine = messages.filter((m) => m.content.startsWith(`${email}|${ci}|`)).map((m) => Number(m.content.split("|")[2]));
          expect(mine).toEqual(Array.from({ length: PER_CONNECTION }, (_, i) => i));
          // and carry the sending connection's id
          const sender = messages.find((m) => m.content.startsWith(`${email}|${ci}|`));
          expect(sender.connection_id).toBe(clients[ci].connectionId);
        }
        // every connection saw the same sequence
        expect(messages.map((m) => m.id)).toEqual(clients[0].messages().map((m) => m.id));
      }
    }
    for (const { clients } of users) for (const c of clients) c.close();
  });

  test("on the sending connection the ack comes before that message's frame; acks carry the seq the frame has", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    const refs: string[] = [];
    for (let i = 0; i < 50; i++) {
      const ref = `o${i}`;
      refs.push(ref);
      c.send({ type: "message", ref, data: { content: `order ${i}` } });
    }
    await c.waitForMessages(50);
    for (const ref of refs) {
      const ackIndex = c.frames.findIndex((f) => f.type === "ack" && f.ref === ref);
      expect(ackIndex).toBeGreaterThanOrEqual(0);
      const ack = c.frames[ackIndex];
      const msgIndex = c.frames.findIndex((f) => f.type === "message" && f.data.id === ack.data.id);
      expect({ ref, ackFirst: ackIndex < msgIndex }).toEqual({ ref, ackFirst: true });
      expect(c.frames[msgIndex].data.seq).toBe(ack.data.seq);
    }
    expectSeqRun(c.messages().map((m) => m.seq), 1, 50);
    c.close();
  });

  test("seq is per channel: each user's channel starts at 1", async () => {
    const { clients: [a] } = await connectUser(server, freshUser());
    const { clients: [b] } = await connectUser(server, freshUser());
    expect((await a.sendMessage("a1")).seq).toBe(1);
    expect((await a.sendMessage("a2")).seq).toBe(2);
    expect((await b.sendMessage("b1")).seq).toBe(1);
    expect((await a.sendMessage("a3")).seq).toBe(3);
    expect((await b.sendMessage("b2")).seq).toBe(2);
    await Bun.sleep(50);
    expect(a.messages().map((m) => m.content)).toEqual(["a1", "a2", "a3"]);
    expect(b.messages().map((m) => m.content)).toEqual(["b1", "b2"]);
    a.close();
    b.close();
  });

  test("a refused message (invalid, empty, too long) uses no seq", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    expect((await c.sendMessage("first")).seq).toBe(1);
    await c.request("message", { content: " " });
    await c.request("message", { content: "x".repeat(4001) });
    await c.request("message", {});
    expect((await c.sendMessage("second")).seq).toBe(2);
    c.close();
  });
});

describe("client_msg_id de-duplication", () => {
  test("the same id again is acked duplicate:true with the original id, seq and timestamp, whatever the content, and not broadcast", async () => {
    const { clients: [a, b] } = await connectUser(server, freshUser(), 2);
    const first = await a.sendMessage("original", "dup-1");
    expect(first.duplicate).toBe(false);
    await b.waitForMessages(1);
    await Bun.sleep(20);
    const again = await a.sendMessage("original", "dup-1");
    expect(again).toEqual({ ...first, duplicate: true });
    const otherContent = await b.sendMessage("different content", "dup-1");
    expect(otherContent).toEqual({ ...first, duplicate: true });
    const next = await a.sendMessage("next", "dup-2");
    expect(next.seq).toBe(first.seq + 1);
    await b.waitForMessages(2);
    await Bun.sleep(100);
    for (const c of [a, b]) expect(c.messages().map((m) => m.content)).toEqual(["original", "next"]);
    expect((await allHistory(a)).map((m) => [m.seq, m.content, m.client_msg_id])).toEqual([
      [1, "original", "dup-1"],
      [2, "next", "dup-2"],
    ]);
    a.close();
    b.close();
  });

  test("across a reconnect: resending after the connection is gone is a duplicate", async () => {
    const email = freshUser();
    const { jwt, clients: [a, watcher] } = await connectUser(server, email, 2);
    const first = await a.sendMessage("sent before the drop", "reconnect-id");
    await a.closeAndWait();
    const again = await WsClient.connect(server.wsUrl, { jwt: await signIn(server, email), since: first.seq - 1 });
    expect(again.replay!.data.messages.map((m: any) => m.client_msg_id)).toEqual(["reconnect-id"]);
    const resent = await again.sendMessage("sent before the drop", "reconnect-id");
    expect(resent).toEqual({ ...first, duplicate: true });
    await Bun.sleep(100);
    expect(watcher.messages().length).toBe(1);
    expect(again.messages().length).toBe(0);
    expect((await allHistory(again)).length).toBe(1);
    again.close();
    watcher.close();
    void jwt;
  });

  test("ids are per channel: another user's same id is not a duplicate", async () => {
    const { clients: [a] } = await connectUser(server, freshUser());
    const { clients: [b] } = await connectUser(server, freshUser());
    const id = crypto.randomUUID();
    expect((await a.sendMessage("mine", id)).duplicate).toBe(false);
    const theirs = await b.sendMessage("theirs", id);
    expect(theirs.duplicate).toBe(false);
    expect(theirs.seq).toBe(1);
    a.close();
    b.close();
  });

  test("two connections racing one id store one message: one duplicate:false, same id/seq/timestamp, one broadcast", async () => {
    const { clients } = await connectUser(server, freshUser(), 3);
    const [a, b, observer] = clients;
    const ROUNDS = 30;
    const results = await Promise.all(
      Array.from({ length: ROUNDS }, (_, i) => {
        const id = `race-${i}`;
        return Promise.all([a.sendMessage(`from a ${i}`, id), b.sendMessage(`from b ${i}`, id)]);
      }),
    );
    for (const [x, y] of results) {
      expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
      expect({ id: x.id, seq: x.seq, timestamp: x.timestamp }).toEqual({ id: y.id, seq: y.seq, timestamp: y.timestamp });
    }
    await observer.waitForMessages(ROUNDS);
    await Bun.sleep(150);
    const seen = observer.messages();
    expect(seen.length).toBe(ROUNDS);
    expect(new Set(seen.map((m) => m.client_msg_id)).size).toBe(ROUNDS);
    expectSeqRun(seen.map((m) => m.seq), 1, ROUNDS);
    for (const c of [a, b]) expect(c.messages().length).toBe(ROUNDS);
    for (const c of clients) c.close();
  });
});

describe("set_display_name", () => {
  test("trimmed; acked with the stored value; null, empty and white space clear it; 50 code points fine, 51 invalid; control characters invalid", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    const set = async (display_name: unknown) => c.request("set_display_name", { display_name });
    expect((await set("  Alice  ")).data).toEqual({ display_name: "Alice" });
    expect((await set("\u3000Bob\u00a0\n")).data).toEqual({ display_name: "Bob" });
    expect((await set(null)).data).toEqual({ display_name: null });
    expect((await set("Carol")).data).toEqual({ display_name: "Carol" });
    expect((await set("")).data).toEqual({ display_name: null });
    expect((await set("Dave")).data).toEqual({ display_name: "Dave" });
    expect((await set("   \t ")).data).toEqual({ display_name: null });
    expect((await set("x".repeat(50))).data).toEqual({ display_name: "x".repeat(50) });
    expect((await set("😀".repeat(50))).data).toEqual({ display_name: "😀".repeat(50) });
    expect((await set(`  ${"y".repeat(50)}  `)).data).toEqual({ display_name: "y".repeat(50) });
    expect((await set("Ünïcødé 名前")).data).toEqual({ display_name: "Ünïcødé 名前" });
    for (const bad of ["x".repeat(51), "😀".repeat(51), "a\u0000b", "bell\u0007", "tab\tinside", "new\nline", "del\u007f", "zw\u200bsp", "rtl\u202eoverride", "soft\u00adhyphen", "\u0085x\u0001"]) {
      const reply = await set(bad);
      expect({ bad, type: reply.type, code: reply.data.code }).toEqual({ bad, type: "error", code: "invalid_data" });
    }
    // a refused name leaves the current one
    expect((await set("Zed")).data).toEqual({ display_name: "Zed" });
    await set("x".repeat(51));
    await c.sendMessage("still Zed");
    const [m] = await c.waitForMessages(1);
    expect(m.user.display_name).toBe("Zed");
    c.close();
  });

  test("display_name_changed goes to the user's other connections only; later messages carry the name; old ones keep theirs", async () => {
    const email = freshUser();
    const { clients: [a, b, c] } = await connectUser(server, email, 3);
    const { clients: [stranger] } = await connectUser(server, freshUser());
    await a.sendMessage("before");
    await a.request("set_display_name", { display_name: " Phone " });
    for (const other of [b, c]) {
      const changed = await other.waitFor((f) => f.type === "display_name_changed");
      expect(changed.data).toEqual({ user: { id: `user:${email}`, email, display_name: "Phone" }, connection_id: a.connectionId, timestamp: expect.stringMatching(TIMESTAMP) });
    }
    await Bun.sleep(100);
    expect(a.ofType("display_name_changed")).toEqual([]);
    expect(stranger.ofType("display_name_changed")).toEqual([]);
    await a.sendMessage("after");
    await b.sendMessage("from b");
    const messages = await c.waitForMessages(3);
    expect(messages.map((m) => [m.content, m.user.display_name])).toEqual([
      ["before", null],
      ["after", "Phone"],
      ["from b", null], // names are per connection
    ]);
    // a new connection sees a's name in its connections list
    const d = await WsClient.connect(server.wsUrl, { jwt: await signIn(server, email) });
    const entry = d.authenticated.data.connections.find((x: any) => x.connection_id === a.connectionId);
    expect(entry.display_name).toBe("Phone");
    // clearing also announces, and later messages carry null
    await a.request("set_display_name", { display_name: null });
    const cleared = await b.waitFor((f) => f.type === "display_name_changed" && f.data.user.display_name === null);
    expect(cleared.data.connection_id).toBe(a.connectionId);
    await a.sendMessage("cleared");
    const all = await c.waitForMessages(4);
    expect(all[3].user.display_name).toBeNull();
    // history keeps each message's name as it was when sent
    expect((await allHistory(d)).map((m) => m.user.display_name)).toEqual([null, "Phone", null, null]);
    for (const x of [a, b, c, d, stranger]) x.close();
  });
});

describe("presence", () => {
  test("user_joined and user_left go to the user's other connections with counts; never to other users", async () => {
    const email = freshUser();
    const jwt = await signIn(server, email);
    const { clients: [stranger] } = await connectUser(server, freshUser());
    const a = await WsClient.connect(server.wsUrl, { jwt });
    const b = await WsClient.connect(server.wsUrl, { jwt });
    const joinedB = await a.waitFor((f) => f.type === "user_joined");
    expect(joinedB.data).toEqual({ user: { id: `user:${email}`, email, display_name: null }, connection_id: b.connectionId, timestamp: expect.stringMatching(TIMESTAMP), total_connections: 2 });
    const c = await WsClient.connect(server.wsUrl, { jwt });
    for (const x of [a, b]) {
      const j = await x.waitFor((f) => f.type === "user_joined" && f.data.connection_id === c.connectionId);
      expect(j.data.total_connections).toBe(3);
    }
    await b.closeAndWait();
    for (const x of [a, c]) {
      const left = await x.waitFor((f) => f.type === "user_left");
      expect(left.data).toEqual({ user: { id: `user:${email}`, email, display_name: left.data.user.display_name }, connection_id: b.connectionId, timestamp: expect.stringMatching(TIMESTAMP), remaining_connections: 2 });
      expect(left.data.user.display_name).toBeNull(); // b never set a name
    }
    c.close(); // not waiting: an abrupt close still announces
    const lastLeft = await a.waitFor((f) => f.type === "user_left" && f.data.connection_id === c.connectionId);
    expect(lastLeft.data.remaining_connections).toBe(1);
    await Bun.sleep(100);
    // nobody is told about themselves; strangers hear nothing
    expect(a.ofType("user_joined").map((f) => f.data.connection_id)).toEqual([b.connectionId, c.connectionId]);
    expect(c.ofType("user_joined")).toEqual([]);
    expect(stranger.ofType("user_joined").concat(stranger.ofType("user_left"))).toEqual([]);
    expect(a.ofType("user_left").map((f) => f.data.connection_id)).toEqual([b.connectionId, c.connectionId]);
    a.close();
    stranger.close();
  });

  test("a terminated (not cleanly closed) connection is announced as left", async () => {
    const email = freshUser();
    const { clients: [a, b] } = await connectUser(server, email, 2);
    (b.ws as any).terminate();
    const left = await a.waitFor((f) => f.type === "user_left", 10000);
    expect(left.data.connection_id).toBe(b.connectionId);
    expect(left.data.remaining_connections).toBe(1);
    a.close();
  });
});
