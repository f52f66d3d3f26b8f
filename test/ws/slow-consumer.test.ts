/**
 * Slow consumers (PROTOCOL.md sections 2 and 3): a connection that stops reading while
 * its channel is busy closes with 4008 once its unsent data passes SEND_BUFFER_BYTES,
 * without a hole in what it did receive; /metrics counts it; the user's other
 * connections keep receiving everything.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server";
import { expectSeqRun } from "../helpers/seq";
import { within } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";
import { connectUser, freshUser, metric, startWsServer } from "./support";

let server: TestServer;
beforeAll(async () => {
  server = await startWsServer({ SEND_BUFFER_BYTES: "65536" });
}, 30000);
afterAll(() => server?.stop(), 30000);

describe("slow consumer", () => {
  test("a connection that stops reading closes with 4008, counted in /metrics; the others get every message", async () => {
    const email = freshUser();
    const { jwt, clients: [sender, watcher, slow] } = await connectUser(server, email, 3);
    const { clients: [stranger] } = await connectUser(server, freshUser());
    const droppedBefore = await metric(server, "roomz_slow_consumers_dropped_total");
    expect(slow.pause()).toBe(true);

    const chunk = "z".repeat(3900);
    // Windows of 8 (31 KB), and the next only once the readers have the last: what they
    // have not read stays under SEND_BUFFER_BYTES even when the kernel's socket buffers are
    // tiny and this process is slow, so only the paused connection can fall behind.
    const WINDOW = 8;
    let sent = 0;
    const MAX = 12000; // ~47 MB: far more than any socket buffer
    while (sent < MAX && !slow.closeInfo) {
      const replies = [];
      for (let i = 0; i < WINDOW; i++) replies.push(sender.request("message", { content: `${sent + i} ${chunk}` }, { timeoutMs: 30000 }));
      for (const r of await Promise.all(replies)) expect(r.type).toBe("ack");
      sent += WINDOW;
      await watcher.waitForMessages(sent, 30000);
      await sender.waitForMessages(sent, 30000);
      if ((await metric(server, "roomz_slow_consumers_dropped_total")) > droppedBefore) break;
    }
    expect(await metric(server, "roomz_slow_consumers_dropped_total")).toBe(droppedBefore + 1);
    if (process.env.WS_DEBUG) console.log("sent before the drop", sent);
    // let the slow one read again: its stream ends with 4008, and holds no hole before that
    slow.resume();
    const closed = await within(slow.closed, 10000, "the slow connection's close");
    expect(closed.code).toBe(4008);
    const got = slow.messages().map((m) => m.seq);
    // The delivery that pushed it over the limit is queued before the close frame, so it
    // may hold everything up to the last window (seen with Redis, which delivers in bursts).
    expect(got.length).toBeLessThanOrEqual(sent);
    if (got.length > 0) expectSeqRun(got, 1, got.length);

    // the other connections received every message, in order, and stay open
    const all = await watcher.waitForMessages(sent, 30000);
    expectSeqRun(all.map((m) => m.seq), 1, sent);
    expectSeqRun((await sender.waitForMessages(sent, 30000)).map((m) => m.seq), 1, sent);
    for (const c of [sender, watcher, stranger]) {
      expect(c.closeInfo).toBeNull();
      expect((await c.request("ping")).type).toBe("ack");
    }
    expect(stranger.messages()).toEqual([]);
    // the rest of the user's connections heard it leave
    await watcher.waitFor((f) => f.type === "user_left" && f.data.connection_id === slow.connectionId, 10000);

    // reconnecting with since gets exactly what was missed
    const last = got.at(-1) ?? 0;
    const again = await WsClient.connect(server.wsUrl, { jwt, since: last });
    const replay = again.replay!.data;
    const missed = sent - last;
    if (missed <= 500) {
      expect(replay.complete).toBe(true);
      expectSeqRun(replay.messages.map((m: any) => m.seq), last + 1, missed);
    } else {
      expect(replay.complete).toBe(false);
      expectSeqRun(replay.messages.map((m: any) => m.seq), sent - 499, 500);
    }
    for (const c of [sender, watcher, stranger, again]) c.close();
  }, 60000);
  test("[v2] replies count too: a connection that sends pings and never reads closes with 4008", async () => {
    const { clients: [flooder, other] } = await connectUser(server, freshUser(), 2);
    expect(flooder.pause()).toBe(true);
    const ping = JSON.stringify({ type: "ping", ref: "p".repeat(64) });
    const MAX = 400_000; // ~50 MB of acks: far more than any socket buffer holds
    let sent = 0;
    // The server's close sits behind the acks we don't read; `other` hears the flooder leave.
    const left = () => other.ofType("user_left").some((f) => f.data.connection_id === flooder.connectionId);
    while (sent < MAX && !left()) {
      for (let i = 0; i < 2000; i++) flooder.send(ping);
      sent += 2000;
      expect((await other.request("ping")).type).toBe("ack"); // the server stays responsive
    }
    flooder.resume();
    const closed = await within(flooder.closed, 15000, "the flooder's close");
    expect(closed.code).toBe(4008);
    expect(sent).toBeLessThan(MAX);
    expect(other.closeInfo).toBeNull();
    other.close();
  }, 60000);
});
