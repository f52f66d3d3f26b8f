/**
 * Durability across the server's end (PROTOCOL.md section 2): an acked message survives
 * SIGKILL; SIGTERM under traffic stores and acks (or refuses with `unavailable`) every
 * message frame it received, closes every socket with 1001, and a reconnect with `since`
 * gets every later seq exactly once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signIn, type TestServer } from "../helpers/server";
import { expectSeqRun } from "../helpers/seq";
import { within } from "../helpers/wait";
import { WsClient, type Frame } from "../helpers/ws-client";
import { allHistory, freshUser, startWsServer } from "./support";

let server: TestServer;
beforeAll(async () => {
  server = await startWsServer();
}, 30000);
afterAll(() => server?.stop("SIGKILL"), 30000);

describe("restarts", () => {
  test("a message acked, then SIGKILL and restart: it is in history with its id and seq; the next seq follows; the epoch stays", async () => {
    const email = freshUser();
    const jwt = await signIn(server, email);
    const c = await WsClient.connect(server.wsUrl, { jwt });
    const epoch = c.authenticated.data.epoch;
    const acks = [];
    for (let i = 1; i <= 4; i++) acks.push(await c.sendMessage(`before kill ${i}`, `kill-${i}`));
    // and one that is acked right before the kill, with no pause
    const lastAck = await c.sendMessage("the last word", "kill-last");
    acks.push(lastAck);
    await server.stop("SIGKILL");
    const gone = await within(c.closed, 5000, "close after SIGKILL");
    expect(gone.code).not.toBe(1000);
    await server.start();

    const again = await WsClient.connect(server.wsUrl, { jwt, since: 3, epoch });
    expect(again.authenticated.data.epoch).toBe(epoch); // same store, same epoch
    expect(again.replay!.data.reset).toBe(false);
    expect(again.replay!.data.messages.map((m: any) => m.content)).toEqual(["before kill 4", "the last word"]);
    const history = await allHistory(again);
    expect(history.map((m) => ({ id: m.id, seq: m.seq, timestamp: m.timestamp, duplicate: false, files: [] as unknown[] }))).toEqual(acks);
    const next = await again.sendMessage("after restart");
    expect(next.seq).toBe(lastAck.seq + 1);
    // de-duplication survives the restart too
    expect(await again.sendMessage("the last word", "kill-last")).toEqual({ ...lastAck, duplicate: true });
    again.close();
  });

  test("SIGTERM under traffic: every socket gets 1001; every acked message is present after restart, no refused one is; since gives each later seq once", async () => {
    const USERS = 3;
    const CONNECTIONS = 3;
    const users = [];
    for (let u = 0; u < USERS; u++) {
      const email = freshUser();
      const jwt = await signIn(server, email);
      const clients = [];
      for (let i = 0; i < CONNECTIONS; i++) clients.push(await WsClient.connect(server.wsUrl, { jwt }));
      users.push({ email, jwt, clients });
    }
    // every connection sends continuously, 8 in flight at a time, each with a client_msg_id
    type Outcome = { id: string; content: string; reply: Frame | null };
    const outcomes: Outcome[][] = users.map(() => []);
    let stopping = false;
    const senders = users.flatMap((user, u) =>
      user.clients.map(async (c, ci) => {
        let n = 0;
        while (!c.closeInfo) {
          const batch = [];
          for (let k = 0; k < 8 && !c.closeInfo; k++, n++) {
            const outcome: Outcome = { id: `${u}-${ci}-${n}`, content: `user ${u} conn ${ci} #${n}`, reply: null };
            outcomes[u].push(outcome);
            batch.push(
              c
                .request("message", { content: outcome.content, client_msg_id: outcome.id }, { timeoutMs: 15000 })
                .then((reply) => (outcome.reply = reply))
                .catch(() => {}),
            );
          }
          await Promise.all(batch);
          if (!stopping) await Bun.sleep(1);
        }
      }),
    );
    await Bun.sleep(600);
    stopping = true;
    const termAt = Date.now();
    server.proc.kill("SIGTERM");
    const closes = await Promise.all(users.flatMap((u) => u.clients.map((c) => within(c.closed, 12000, "close after SIGTERM"))));
    const closedWithin = Date.now() - termAt;
    expect(closes.map((c) => c.code)).toEqual(closes.map(() => 1001));
    expect(closedWithin).toBeLessThan(10000);
    await Promise.all(senders);
    expect(await within(server.proc.exited, 12000, "exit after SIGTERM")).toBe(0);
    await server.start();

    for (let u = 0; u < USERS; u++) {
      const { jwt, clients } = users[u];
      const acked = outcomes[u].filter((o) => o.reply?.type === "ack");
      const refused = outcomes[u].filter((o) => o.reply?.type === "error");
      expect(acked.length).toBeGreaterThan(20);
      if (process.env.WS_DEBUG) console.log(`user ${u}: sent ${outcomes[u].length}, acked ${acked.length}, refused ${refused.length}, seen ${clients.map((c) => c.messages().length)}`);
      for (const o of refused) expect({ id: o.id, code: o.reply!.data.code }).toEqual({ id: o.id, code: "unavailable" });

      const probe = await WsClient.connect(server.wsUrl, { jwt });
      const history = await allHistory(probe);
      probe.close();
      expectSeqRun(history.map((m) => m.seq), 1, history.length);
      const byClientId = new Map(history.map((m) => [m.client_msg_id, m]));
      for (const o of acked) {
        const stored = byClientId.get(o.id);
        expect({ id: o.id, stored: stored ? { id: stored.id, seq: stored.seq, content: stored.content } : null }).toEqual({
          id: o.id,
          stored: { id: o.reply!.data.id, seq: o.reply!.data.seq, content: o.content },
        });
      }
      for (const o of refused) expect({ refused: o.id, stored: byClientId.has(o.id) }).toEqual({ refused: o.id, stored: false });
      // a message frame the server received was acked or refused: none stored without its ack
      const unanswered = outcomes[u].filter((o) => o.reply === null && byClientId.has(o.id)).map((o) => o.id);
      expect(unanswered).toEqual([]);
      // what each socket saw before the close is a gapless prefix
      for (const c of clients) {
        const seen = c.messages().map((m) => m.seq);
        if (seen.length) expectSeqRun(seen, 1, seen.length);
      }

      // each old socket reconnects with since = the last seq it saw, while others send
      const last = history.length;
      const reconnected = await Promise.all(clients.map((c) => WsClient.connect(server.wsUrl, { jwt, since: c.messages().at(-1)?.seq ?? 0, epoch: c.authenticated.data.epoch })));
      const sender = reconnected[0];
      for (let i = 0; i < 5; i++) await sender.sendMessage(`after restart ${i}`);
      for (let k = 0; k < clients.length; k++) {
        const since = clients[k].messages().at(-1)?.seq ?? 0;
        const r = reconnected[k];
        expect(r.replay!.data.reset).toBe(false);
        const replayed = r.replay!.data.messages.map((m: any) => m.seq);
        if (last - since > 500) expect(r.replay!.data.complete).toBe(false);
        await r.until(() => (r.messages().at(-1)?.seq ?? 0) >= last + 5, `seq ${last + 5}`);
        const from = last - since > 500 ? last - 499 : since + 1;
        expectSeqRun([...replayed, ...r.messages().map((m) => m.seq)], from, last + 5 - from + 1);
      }
      for (const r of reconnected) r.close();
    }
  }, 60000);
});
