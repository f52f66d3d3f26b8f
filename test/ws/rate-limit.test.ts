/**
 * MESSAGE_RATE_LIMIT (PROTOCOL.md sections 2 and 3): more than the limit of `message`
 * frames in a sliding 10 s window on one connection get `rate_limited` with
 * `data.retry_after_ms`, without a disconnect; after the window they are accepted again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server";
import { within } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";
import { allHistory, connectUser, freshUser, startWsServer } from "./support";

const LIMIT = 5;
let server: TestServer;
beforeAll(async () => {
  // small configured limits too: MAX_MESSAGE_LENGTH and MAX_FRAME_BYTES (>= 12 x 100 + 1024)
  server = await startWsServer({ MESSAGE_RATE_LIMIT: String(LIMIT), MAX_MESSAGE_LENGTH: "100", MAX_FRAME_BYTES: "4096" });
}, 30000);
afterAll(() => server?.stop(), 30000);

describe("message rate limit", () => {
  test("over the limit: rate_limited with retry_after_ms and the ref, not stored, not sent, no disconnect; accepted again after the window", async () => {
    const { jwt, clients: [c, watcher] } = await connectUser(server, freshUser(), 2);
    const started = Date.now();
    for (let i = 0; i < LIMIT; i++) expect((await c.request("message", { content: `m${i}` })).type).toBe("ack");
    const refused = await c.request("message", { content: "one too many" }, { ref: "over" });
    expect(refused.type).toBe("error");
    expect(refused.ref).toBe("over");
    expect(refused.data.code).toBe("rate_limited");
    expect(typeof refused.data.message).toBe("string");
    const retry = refused.data.retry_after_ms;
    expect(Number.isInteger(retry)).toBe(true);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(10000);
    expect(retry).toBeGreaterThan(10000 - (Date.now() - started) - 1000);
    // other frames are not limited; the connection stays open
    expect((await c.request("ping")).type).toBe("ack");
    expect((await c.request("history", { limit: 10 })).type).toBe("ack");
    expect((await c.request("set_display_name", { display_name: "busy" })).type).toBe("ack");
    // the limit is per connection: another connection of the user still sends
    const sibling = await WsClient.connect(server.wsUrl, { jwt });
    expect((await sibling.sendMessage("from the sibling")).seq).toBe(LIMIT + 1);
    // still limited shortly before retry_after_ms has passed
    await Bun.sleep(Math.max(0, retry - 1500));
    const stillRefused = await c.request("message", { content: "too early" });
    expect(stillRefused.data.code).toBe("rate_limited");
    expect(stillRefused.data.retry_after_ms).toBeLessThanOrEqual(1600);
    await Bun.sleep(stillRefused.data.retry_after_ms + 100);
    const accepted = await c.request("message", { content: "after the window" });
    expect(accepted.type).toBe("ack");
    expect(accepted.data.seq).toBe(LIMIT + 2);
    await watcher.waitForMessages(LIMIT + 2);
    await Bun.sleep(50);
    const contents = watcher.messages().map((m) => m.content);
    expect(contents).not.toContain("one too many");
    expect(contents).not.toContain("too early");
    expect((await allHistory(c)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(c.closeInfo).toBeNull();
    for (const x of [c, watcher, sibling]) x.close();
  }, 30000);

  test("duplicates (same client_msg_id) count toward the limit", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    expect((await c.sendMessage("once", "same-id")).duplicate).toBe(false);
    for (let i = 1; i < LIMIT; i++) expect((await c.sendMessage("once", "same-id")).duplicate).toBe(true);
    const over = await c.request("message", { content: "new", client_msg_id: "other-id" });
    expect(over.data.code).toBe("rate_limited");
    c.close();
  });

  test("every message frame counts: refused ones (empty, too long) too", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    expect((await c.request("message", { content: "   " })).data.code).toBe("empty_message");
    expect((await c.request("message", { content: "\u3000" })).data.code).toBe("empty_message");
    expect((await c.request("message", { content: "x".repeat(101) })).data.code).toBe("message_too_long");
    expect((await c.request("message", { content: "ok 1" })).type).toBe("ack");
    expect((await c.request("message", { content: "ok 2" })).type).toBe("ack");
    const sixth = await c.request("message", { content: "the sixth message frame in 10 s" });
    expect({ type: sixth.type, code: sixth.data.code }).toEqual({ type: "error", code: "rate_limited" });
    c.close();
  });

  test("configured MAX_MESSAGE_LENGTH and MAX_FRAME_BYTES are the limits", async () => {
    const { jwt, clients: [c] } = await connectUser(server, freshUser());
    expect((await c.request("message", { content: "😀".repeat(100) })).type).toBe("ack");
    expect((await c.request("message", { content: "😀".repeat(101) })).data.code).toBe("message_too_long");
    const frame = (n: number) => `{"type":"ping","ref":"pad","data":{"pad":"${"p".repeat(n - 45)}"}}`;
    expect(frame(4096).length).toBe(4096);
    c.send(frame(4096));
    expect((await c.waitFor((f) => f.ref === "pad")).type).toBe("ack");
    c.send(frame(4097));
    expect((await within(c.closed, 5000, "close")).code).toBe(1009);
    const again = await WsClient.connect(server.wsUrl, { jwt });
    expect((await again.request("ping")).type).toBe("ack");
    again.close();
  });
});
