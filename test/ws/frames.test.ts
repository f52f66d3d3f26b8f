/**
 * Frames (PROTOCOL.md section 2): every error code of the table with its `ref`, bad refs,
 * binary frames, limits in code points, 1009 for an oversized frame, 1007 for text that is
 * not UTF-8, ping, and the shape of acks and message frames. Any other bad frame never
 * closes the connection.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server";
import { RawWsClient, encodeClientFrame } from "../helpers/raw-ws";
import { TIMESTAMP } from "../helpers/timestamp";
import { WsClient, type Frame } from "../helpers/ws-client";
import { allHistory, connectUser, freshUser, startWsServer } from "./support";

let server: TestServer;
beforeAll(async () => {
  server = await startWsServer(); // MAX_MESSAGE_LENGTH 4000, MAX_FRAME_BYTES 65536 (defaults)
}, 30000);
afterAll(() => server?.stop(), 30000);

/** Sends raw text and waits for the next error frame after it. */
async function errorFor(client: WsClient, frame: string | object | Uint8Array): Promise<Frame> {
  const from = client.frames.length;
  client.send(frame);
  return client.waitFor((f) => f.type === "error", 5000, from);
}

function expectError(frame: Frame, code: string, ref?: string) {
  expect(frame.type).toBe("error");
  expect(frame.data.code).toBe(code);
  expect(typeof frame.data.message).toBe("string");
  expect(frame.data.message.length).toBeGreaterThan(5);
  if (ref === undefined) expect("ref" in frame).toBe(false);
  else expect(frame.ref).toBe(ref);
}

async function stillWorks(client: WsClient) {
  const reply = await client.request("ping");
  expect(reply.type).toBe("ack");
  expect(client.isOpen).toBe(true);
  expect(client.closeInfo).toBeNull();
}

describe("bad frames get bad_frame and never close the connection", () => {
  test("not JSON, not an object, arrays, binary, missing or non-string type; with and without ref", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    for (const text of ["not json", "{", "", "  ", '{"type":"ping"', "null", "42", '"ping"', "true", "[]", '[{"type":"ping"}]']) {
      expectError(await errorFor(c, text), "bad_frame");
    }
    expectError(await errorFor(c, new Uint8Array([1, 2, 3])), "bad_frame");
    expectError(await errorFor(c, new TextEncoder().encode(JSON.stringify({ type: "ping", ref: "bin" }))), "bad_frame");
    expectError(await errorFor(c, {}), "bad_frame");
    expectError(await errorFor(c, { data: {} }), "bad_frame");
    // a good ref on a frame with no or a non-string type: bad_frame carrying the ref
    expectError(await errorFor(c, { ref: "t1" }), "bad_frame", "t1");
    expectError(await errorFor(c, { type: 5, ref: "t2" }), "bad_frame", "t2");
    expectError(await errorFor(c, { type: null, ref: "t3" }), "bad_frame", "t3");
    expectError(await errorFor(c, { type: ["ping"], ref: "t4" }), "bad_frame", "t4");
    await stillWorks(c);
    // nothing was stored by any of that
    expect(await allHistory(c)).toEqual([]);
    c.close();
  });

  test("a bad ref (number, empty, 65 characters, object, null) gets bad_frame without ref", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    const badRefs: unknown[] = [5, "", "x".repeat(65), "😀".repeat(65), { a: 1 }, ["r"], true, null];
    for (const ref of badRefs) {
      for (const frame of [{ type: "ping", ref }, { type: "message", ref, data: { content: "never stored" } }, { type: "nope", ref }]) {
        const error = await errorFor(c, frame);
        expect({ ref, code: error.data.code, hasRef: "ref" in error }).toEqual({ ref, code: "bad_frame", hasRef: false });
      }
    }
    expect(await allHistory(c)).toEqual([]);
    // 1 and 64 characters (code points) are good refs, echoed exactly
    for (const ref of ["a", "x".repeat(64), "😀".repeat(64), "ref with spaces & ünïcödé"]) {
      const reply = await c.request("ping", undefined, { ref });
      expect(reply.type).toBe("ack");
      expect(reply.ref).toBe(ref);
    }
    await stillWorks(c);
    c.close();
  });

  test("an unknown type is unknown_type whatever its data (the server can't judge data of a type it doesn't know)", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    for (const data of [5, [], "x", null, {}]) {
      const reply = await c.request("bogus", data);
      expect({ data, code: reply.data.code }).toEqual({ data, code: "unknown_type" });
    }
    c.close();
  });

  test("unknown_type echoes the ref; the type is case-sensitive", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    for (const type of ["bogus", "", "PING", "Message", "authenticated", "ack", "user_joined", "__proto__", "constructor"]) {
      const reply = await c.request(type, {});
      expect({ type, reply: reply.type, code: reply.data.code, ref: typeof reply.ref }).toEqual({ type, reply: "error", code: "unknown_type", ref: "string" });
    }
    expectError(await errorFor(c, { type: "bogus" }), "unknown_type");
    await stillWorks(c);
    c.close();
  });
});

describe("invalid_data for every field", () => {
  test("data itself: not an object", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    for (const type of ["message", "set_display_name", "history", "ping"]) {
      for (const data of [[], "x", 5, true]) {
        const reply = await c.request(type, data);
        expect({ type, data, code: reply.data?.code }).toEqual({ type, data, code: "invalid_data" });
      }
    }
    await stillWorks(c);
    c.close();
  });

  test("message: content missing or not a string; client_msg_id of a wrong type or length", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    const cases: unknown[] = [
      undefined,
      {},
      { content: null },
      { content: 5 },
      { content: ["hi"] },
      { content: { text: "hi" } },
      { content: "ok", client_msg_id: "" },
      { content: "ok", client_msg_id: "x".repeat(65) },
      { content: "ok", client_msg_id: 12 },
      { content: "ok", client_msg_id: ["a"] },
      { content: "ok", client_msg_id: {} },
    ];
    for (const data of cases) {
      const reply = await c.request("message", data);
      expect({ data, type: reply.type, code: reply.data.code }).toEqual({ data, type: "error", code: "invalid_data" });
    }
    expect(await allHistory(c)).toEqual([]);
    // boundaries that are fine: a 64-code-point client_msg_id
    const ok = await c.request("message", { content: "ok", client_msg_id: "🙂".repeat(64) });
    expect(ok.type).toBe("ack");
    c.close();
  });

  test("set_display_name: display_name missing or of a wrong type", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    for (const data of [undefined, {}, { display_name: 5 }, { display_name: ["x"] }, { display_name: { x: 1 } }, { display_name: true }]) {
      const reply = await c.request("set_display_name", data);
      expect({ data, code: reply.data.code }).toEqual({ data, code: "invalid_data" });
    }
    c.close();
  });

  test("history: before and limit out of range or of a wrong type", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    const cases = [
      { limit: 0 },
      { limit: 201 },
      { limit: -1 },
      { limit: 1.5 },
      { limit: "10" },
      { limit: true },
      { limit: 1e9 },
      { before: -1 },
      { before: 1.5 },
      { before: "10" },
      { before: [] },
      { before: 10, limit: 0 },
    ];
    for (const data of cases) {
      const reply = await c.request("history", data);
      expect({ data, code: reply.data.code }).toEqual({ data, code: "invalid_data" });
    }
    for (const data of [{ limit: 1 }, { limit: 200 }, { before: 0 }, { before: 1, limit: 1 }, {}]) {
      const reply = await c.request("history", data);
      expect({ data, type: reply.type }).toEqual({ data, type: "ack" });
    }
    await stillWorks(c);
    c.close();
  });
});

describe("message content", () => {
  test("empty_message for empty or white-space-only content, Unicode spaces included; nothing stored", async () => {
    const { clients: [c, other] } = await connectUser(server, freshUser(), 2);
    const blanks = ["", " ", "   ", "\t", "\n", "\r\n", " \t\n\u000b\f\r", "\u00a0", "\u3000", "\u3000\u3000", "\u2003\u2009", "\u2028\u2029", "\u0085", "\u1680", "\u202f", "\u205f", "\u200a \u3000"];
    for (const content of blanks) {
      const reply = await c.request("message", { content });
      expect({ content, code: reply.data.code }).toEqual({ content, code: "empty_message" });
      expect(reply.ref).toBeDefined();
    }
    // not white space: these are content
    for (const content of ["\u200b", "\ufeff", ".", " a ", "\u3000x\u3000"]) {
      const reply = await c.request("message", { content });
      expect({ content, type: reply.type }).toEqual({ content, type: "ack" });
    }
    await Bun.sleep(100);
    expect(other.messages().map((m) => m.content)).toEqual(["\u200b", "\ufeff", ".", " a ", "\u3000x\u3000"]);
    expect((await allHistory(c)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    await stillWorks(c);
    c.close();
    other.close();
  });

  test("message_too_long counts code points: 4000 emoji are accepted, 4001 are not, never cut", async () => {
    const { clients: [c, other] } = await connectUser(server, freshUser(), 2);
    const okEmoji = "😀".repeat(4000); // 8000 UTF-16 units, 16000 bytes
    const okAck = await c.request("message", { content: okEmoji });
    expect(okAck.type).toBe("ack");
    const tooLong = await c.request("message", { content: "😀".repeat(4001) });
    expect(tooLong.type).toBe("error");
    expect(tooLong.data.code).toBe("message_too_long");
    const tooLongAscii = await c.request("message", { content: "a".repeat(4001) });
    expect(tooLongAscii.data.code).toBe("message_too_long");
    // 4000 ASCII and 4000 combined characters (base + combining mark = 2 code points each)
    expect((await c.request("message", { content: "a".repeat(4000) })).type).toBe("ack");
    expect((await c.request("message", { content: "e\u0301".repeat(2000) })).type).toBe("ack");
    expect((await c.request("message", { content: "e\u0301".repeat(2000) + "x" })).data.code).toBe("message_too_long");
    // the longest content written as JSON \u escapes (12 bytes per emoji) fits the frame limit
    const escaped = `{"type":"message","ref":"esc","data":{"content":"${"\\ud83d\\ude00".repeat(4000)}"}}`;
    expect(escaped.length).toBeLessThan(65536);
    c.send(escaped);
    const escAck = await c.waitFor((f) => f.ref === "esc");
    expect(escAck.type).toBe("ack");
    await other.waitForMessages(4);
    const contents = other.messages().map((m) => m.content);
    expect(contents[0]).toBe(okEmoji); // stored and sent exactly, not cut
    expect(contents[3]).toBe(okEmoji);
    expect(contents.map((t) => [...t].length)).toEqual([4000, 4000, 4000, 4000]);
    const history = await allHistory(c);
    expect(history.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(history[0].content).toBe(okEmoji);
    await stillWorks(c);
    c.close();
    other.close();
  });

  test("content is stored and sent exactly as typed (spaces, HTML, newlines, combining marks, emoji sequences)", async () => {
    const { clients: [c, other] } = await connectUser(server, freshUser(), 2);
    const samples = ["  padded  ", "<b>bold</b> & <script>alert(1)</script>", "line 1\nline 2\r\n\ttabbed", "quote \" backslash \\ ", "café e\u0301 ﬁ 𝔘𝔫𝔦", "🇫🇷👩‍👩‍👧"];
    for (const content of samples) expect((await c.request("message", { content })).type).toBe("ack");
    await other.waitForMessages(samples.length);
    expect(other.messages().map((m) => m.content)).toEqual(samples);
    expect((await allHistory(c)).map((m) => m.content)).toEqual(samples);
    c.close();
    other.close();
  });
});

describe("frame size", () => {
  test("a frame of exactly MAX_FRAME_BYTES is read (and refused on its merits); one byte more closes with 1009", async () => {
    const { jwt, clients: [c] } = await connectUser(server, freshUser());
    const other = await WsClient.connect(server.wsUrl, { jwt });
    const prefix = '{"type":"message","ref":"big","data":{"content":"';
    const suffix = '"}}';
    const exact = prefix + "a".repeat(65536 - prefix.length - suffix.length) + suffix;
    expect(Buffer.byteLength(exact)).toBe(65536);
    c.send(exact);
    const reply = await c.waitFor((f) => f.ref === "big");
    expect(reply.data.code).toBe("message_too_long");
    await stillWorks(c);

    const over = prefix + "a".repeat(65537 - prefix.length - suffix.length) + suffix;
    c.send(over);
    const closed = await Promise.race([c.closed, Bun.sleep(5000).then(() => null)]);
    expect(closed?.code).toBe(1009);
    // the other connection of the user is untouched
    await stillWorks(other);
    // and the user can reconnect
    const again = await WsClient.connect(server.wsUrl, { jwt });
    await stillWorks(again);
    again.close();
    other.close();
  });
});

describe("invalid UTF-8 [v2]", () => {
  test("a text frame that is not valid UTF-8 closes that connection with 1007; what it sent before is kept; it resumes with since", async () => {
    const { jwt, clients: [other] } = await connectUser(server, freshUser());
    const raw = await RawWsClient.connect(server.wsUrl, { jwt });
    raw.send({ type: "message", ref: "kept", data: { content: "before the bad frame" } });
    await raw.until(() => raw.frames.some((f) => f.ref === "kept"), "the ack");
    raw.write(encodeClientFrame(new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), 0x1)); // {"\xc3("}: a broken 2-byte sequence
    await raw.until(() => raw.closeInfo !== null, "the close frame");
    expect(raw.closeInfo!.code).toBe(1007);
    await stillWorks(other);
    const again = await WsClient.connect(server.wsUrl, { jwt, since: 0 });
    expect(again.replay!.data.messages.map((m: any) => m.content)).toEqual(["before the bad frame"]);
    again.close();
    other.close();
  });
});

describe("fragmented frames", () => {
  test("a text frame in fragments is one frame; fragments adding up to more than MAX_FRAME_BYTES close with 1009", async () => {
    const { jwt } = await connectUser(server, freshUser(), 0);
    const raw = await RawWsClient.connect(server.wsUrl, { jwt });
    await raw.until(() => raw.frames.some((f) => f.type === "authenticated"), "authenticated");
    const text = JSON.stringify({ type: "message", ref: "frag", data: { content: "fragmented hello" } });
    raw.write(encodeClientFrame(text.slice(0, 10), 0x1, false));
    raw.write(encodeClientFrame(text.slice(10, 20), 0x0, false));
    raw.write(encodeClientFrame(text.slice(20), 0x0, true));
    await raw.until(() => raw.frames.some((f) => f.type === "message"), "the message");
    expect(raw.frames.find((f) => f.ref === "frag")!.type).toBe("ack");
    expect(raw.frames.find((f) => f.type === "message")!.data.content).toBe("fragmented hello");
    const big = JSON.stringify({ type: "message", ref: "big", data: { content: "a".repeat(70000) } });
    for (let i = 0; i < big.length; i += 10000) raw.write(encodeClientFrame(big.slice(i, i + 10000), i === 0 ? 0x1 : 0x0, i + 10000 >= big.length));
    await raw.until(() => raw.closeInfo !== null, "the close frame");
    expect(raw.closeInfo!.code).toBe(1009);
    expect(raw.frames.some((f) => f.ref === "big")).toBe(false);
    raw.close();
  });
});

describe("ping and replies", () => {
  test("ping is acked with server_time; data may be left out; unknown data members are ignored", async () => {
    const { clients: [c] } = await connectUser(server, freshUser());
    const before = Date.now();
    const reply = await c.request("ping");
    expect(reply).toEqual({ type: "ack", ref: reply.ref, data: { server_time: expect.stringMatching(TIMESTAMP) } });
    expect(Math.abs(Date.parse(reply.data.server_time) - before)).toBeLessThan(5000);
    expect((await c.request("ping", {})).type).toBe("ack");
    expect((await c.request("ping", { extra: 1, nested: { a: [] } })).type).toBe("ack");
    // without ref: the ack carries no ref
    const from = c.frames.length;
    c.send({ type: "ping" });
    const bare = await c.waitFor((f) => f.type === "ack", 5000, from);
    expect("ref" in bare).toBe(false);
    expect(bare.data.server_time).toMatch(TIMESTAMP);
    // unknown top-level and data members on a message are ignored
    const sent = await c.request("message", { content: "with extras", colour: "red", client_msg_id: null });
    expect(sent.type).toBe("ack");
    c.send({ type: "message", data: { content: "no ref" }, extra: true });
    const noRefAck = await c.waitFor((f) => f.type === "ack" && !("ref" in f) && "seq" in f.data, 5000);
    expect(noRefAck.data.seq).toBe(2);
    c.close();
  });

  test("message ack and message frame: exact members and formats", async () => {
    const email = freshUser();
    const { clients: [a, b] } = await connectUser(server, email, 2);
    const ack = await a.request("message", { content: "hello", client_msg_id: "cm-1" });
    expect(Object.keys(ack).sort()).toEqual(["data", "ref", "type"]);
    expect(Object.keys(ack.data).sort()).toEqual(["duplicate", "files", "id", "seq", "timestamp"]);
    expect(ack.data).toEqual({ id: expect.any(String), seq: 1, timestamp: expect.stringMatching(TIMESTAMP), duplicate: false, files: [] });
    const [m] = await b.waitForMessages(1);
    const frame = b.frames.find((f) => f.type === "message")!;
    expect(Object.keys(frame).sort()).toEqual(["data", "type"]); // only ack and error carry ref
    expect(m).toEqual({
      id: ack.data.id,
      seq: 1,
      client_msg_id: "cm-1",
      user: { id: `user:${email}`, email, display_name: null },
      connection_id: a.connectionId,
      content: "hello",
      timestamp: ack.data.timestamp,
      files: [],
    });
    // without client_msg_id it is null, not left out
    await a.request("message", { content: "no id" });
    const [, m2] = await b.waitForMessages(2);
    expect(m2.client_msg_id).toBeNull();
    expect(m2.id).not.toBe(m.id);
    // history elements are exactly the message frames' data
    const history = await allHistory(b);
    expect(history).toEqual(b.messages());
    a.close();
    b.close();
  });
});
