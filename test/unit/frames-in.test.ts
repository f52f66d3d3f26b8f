/**
 * parseClientFrame in-process (PROTOCOL.md section 2, "Frames" and "Client to server"):
 * every error code of the bad-frame table that a frame's text decides, `ref` rules,
 * `client_msg_id`, display names, history ranges, and lengths in code points. The socket
 * tests (test/ws/frames.test.ts) prove the same codes reach the wire.
 */
import { describe, expect, test } from "bun:test";
import { parseClientFrame, type ClientRequest, type FrameError } from "../../src/server/frames-in";

const LIMITS = { maxMessageLength: 10 };
const parse = (frame: unknown) => parseClientFrame(typeof frame === "string" ? frame : JSON.stringify(frame), LIMITS);

/** The error `frame` gets; fails when it was accepted or its message is not a sentence. */
function refusal(frame: unknown): FrameError {
  const result = parse(frame);
  if (!("code" in result)) throw new Error(`accepted: ${JSON.stringify(frame)} → ${JSON.stringify(result)}`);
  expect(result.message.length).toBeGreaterThan(10);
  return result;
}

function accepted(frame: unknown): ClientRequest {
  const result = parse(frame);
  if ("code" in result) throw new Error(`refused: ${JSON.stringify(frame)} → ${JSON.stringify(result)}`);
  return result;
}

const message = (data: unknown, ref?: string) => ({ type: "message", ...(ref === undefined ? {} : { ref }), data });

describe("bad_frame", () => {
  test("not JSON, or JSON that is not an object", () => {
    for (const text of ["", "{", "nope", "{'type':'ping'}", "[]", "[{}]", "1", "null", '"ping"', "true"])
      expect({ text, ...refusal(text) }).toMatchObject({ text, code: "bad_frame" });
  });

  test("`type` missing or not a string (the ref, when good, is kept)", () => {
    for (const frame of [{ ref: "a" }, { type: 1, ref: "a" }, { type: null, ref: "a" }, { type: ["ping"], ref: "a" }, { type: { x: 1 }, ref: "a" }])
      expect(refusal(frame)).toMatchObject({ code: "bad_frame", ref: "a" });
  });

  test("a bad `ref`: the error carries no ref at all", () => {
    for (const ref of ["", "x".repeat(65), "😀".repeat(65), 5, null, true, {}, ["a"]]) {
      const error = refusal({ type: "ping", ref });
      expect({ ref, code: error.code }).toEqual({ ref, code: "bad_frame" });
      expect(error).not.toHaveProperty("ref");
    }
  });

  // PROTOCOL.md: "every `message` frame counts" toward MESSAGE_RATE_LIMIT; the socket counts a
  // refused frame only when the error names its type, and this one does not.
  test("a `message` frame with a bad ref still says it was a message (so it counts toward the rate limit)", () => {
    expect(refusal(message({ content: "hi" }, "")).type).toBe("message");
  });
});

describe("refs", () => {
  test("1 to 64 code points, echoed on acceptance and on every later refusal", () => {
    for (const ref of ["a", "x".repeat(64), "😀".repeat(64), "r-1 with spaces"]) {
      expect(accepted({ type: "ping", ref })).toEqual({ type: "ping", ref });
      expect(refusal({ type: "nope", ref }).ref).toBe(ref);
      expect(refusal(message({ content: " " }, ref)).ref).toBe(ref);
    }
  });

  test("left out (or undefined) means no ref", () => {
    expect(accepted({ type: "ping" }).ref).toBeUndefined();
    expect(refusal({ type: "nope" })).not.toHaveProperty("ref");
  });
});

describe("unknown_type and invalid_data", () => {
  test("an unknown type, whatever else the frame holds; the type is named back", () => {
    for (const type of ["nope", "PING", "Message", "ack", "error", "authenticated", "__proto__", "constructor", ""])
      expect(refusal({ type, ref: "u", data: { content: "x" } })).toMatchObject({ code: "unknown_type", ref: "u", type });
  });

  test("`data` of the wrong type for any known type", () => {
    for (const type of ["message", "set_display_name", "history", "ping"])
      for (const data of [5, "x", true, [], [1]]) expect(refusal({ type, data })).toMatchObject({ code: "invalid_data", type });
  });

  test("unknown members are ignored; `data` may be left out or null when all of it is optional", () => {
    expect(accepted({ type: "ping", extra: 1, data: { also: "ignored" } })).toEqual({ type: "ping" });
    expect(accepted({ type: "ping", data: null })).toEqual({ type: "ping" });
    expect(accepted({ type: "history" })).toEqual({ type: "history", before: null, limit: 50 });
  });
});

describe("message", () => {
  test("content is taken exactly as typed, with or without client_msg_id", () => {
    const content = " <i>\u200b& "; // 7 code points, as typed: no trimming, no escaping
    expect(accepted(message({ content }, "m"))).toEqual({ type: "message", ref: "m", content, clientMsgId: null, fileIds: [] });
    expect(accepted(message({ content, client_msg_id: null }))).toMatchObject({ content, clientMsgId: null });
    expect(accepted(message({ content, client_msg_id: "id-1", extra: 1 }))).toMatchObject({ content, clientMsgId: "id-1" });
  });

  test("[v2] files: 1 to 10 distinct file ids; with files the content may be empty; null or [] is none", () => {
    const ids = Array.from({ length: 11 }, () => crypto.randomUUID());
    expect(accepted(message({ content: "", files: [ids[0]] }))).toMatchObject({ content: "", fileIds: [ids[0]] });
    expect(accepted(message({ content: "ten", files: ids.slice(0, 10) }))).toMatchObject({ fileIds: ids.slice(0, 10) });
    expect(accepted(message({ content: "x", files: null }))).toMatchObject({ fileIds: [] });
    expect(refusal(message({ content: " ", files: [] }))).toMatchObject({ code: "empty_message" });
    for (const files of [ids, "x", [1], [ids[0], ids[0]], ["../etc/passwd"], [ids[0].toUpperCase()], {}])
      expect(refusal(message({ content: "x", files }, "f"))).toMatchObject({ code: "invalid_data", ref: "f", type: "message" });
  });

  test("content missing, not a string, or with a lone surrogate: invalid_data, and the error says it was a message", () => {
    for (const data of [{}, { content: null }, { content: 5 }, { content: ["x"] }, { content: "a\ud800b" }, { content: "\udc00" }])
      expect(refusal(message(data, "r"))).toMatchObject({ code: "invalid_data", ref: "r", type: "message" });
    expect(refusal({ type: "message" })).toMatchObject({ code: "invalid_data", type: "message" });
  });

  test("client_msg_id: a string of 1 to 64 code points, well formed", () => {
    for (const id of ["x".repeat(64), "😀".repeat(64), crypto.randomUUID()]) expect(accepted(message({ content: "x", client_msg_id: id }))).toMatchObject({ clientMsgId: id });
    for (const id of ["", "x".repeat(65), "😀".repeat(65), 5, {}, ["a"], "a\ud800"])
      expect({ id, ...refusal(message({ content: "x", client_msg_id: id })) }).toMatchObject({ id, code: "invalid_data", type: "message" });
  });

  test("empty or only Unicode White_Space: empty_message", () => {
    for (const content of ["", " ", "\n\t\r", "\u00a0\u2003\u3000\u2028\u0085", " ".repeat(1000)])
      expect(refusal(message({ content }, "e"))).toMatchObject({ code: "empty_message", ref: "e", type: "message" });
    // Not White_Space, so content: zero-width space, U+180E, the BOM.
    for (const content of ["\u200b", "\u180e", "\ufeff"]) expect(accepted(message({ content }))).toMatchObject({ content });
  });

  test("over MAX_MESSAGE_LENGTH code points: message_too_long, never cut; the limit itself is fine", () => {
    expect(accepted(message({ content: "x".repeat(10) }))).toMatchObject({ content: "x".repeat(10) });
    expect(accepted(message({ content: "😀".repeat(10) }))).toMatchObject({ content: "😀".repeat(10) }); // 20 UTF-16 units
    expect(accepted(message({ content: "e\u0301".repeat(5) }))).toMatchObject({ content: "e\u0301".repeat(5) }); // no normalisation: 10
    for (const content of ["x".repeat(11), "😀".repeat(11), "e\u0301".repeat(5) + "x"])
      expect(refusal(message({ content }, "l"))).toMatchObject({ code: "message_too_long", ref: "l", type: "message" });
    expect(refusal(message({ content: "x".repeat(11) })).message).toContain("10");
  });
});

describe("set_display_name", () => {
  const setName = (display_name: unknown) => ({ type: "set_display_name", ref: "n", data: { display_name } });

  test("trimmed of Unicode White_Space; empty after trimming, or null, clears it", () => {
    expect(accepted(setName("  Phone \u3000"))).toEqual({ type: "set_display_name", ref: "n", displayName: "Phone" });
    expect(accepted(setName("a  b"))).toMatchObject({ displayName: "a  b" });
    for (const cleared of [null, "", "   ", "\u00a0\u2003"]) expect(accepted(setName(cleared))).toMatchObject({ displayName: null });
  });

  test("1 to 50 code points after trimming", () => {
    for (const name of ["x".repeat(50), "😀".repeat(50), `  ${"x".repeat(50)}  `]) expect(accepted(setName(name))).toMatchObject({ displayName: name.trim() });
    for (const name of ["x".repeat(51), "😀".repeat(51)]) expect(refusal(setName(name))).toMatchObject({ code: "invalid_data", ref: "n", type: "set_display_name" });
  });

  test("no control characters (Cc, Cf), no lone surrogates, a string or null", () => {
    for (const name of ["a\u0000b", "a\u0007", "a\u0085b", "a\u200bb", "\u202eevil", "a\ufeffb", "a\ud800b", 5, true, {}, ["x"], undefined])
      expect({ name, ...refusal(setName(name)) }).toMatchObject({ name, code: "invalid_data" });
    expect(refusal({ type: "set_display_name", data: {} }).code).toBe("invalid_data");
  });
});

describe("history", () => {
  const history = (data: unknown) => ({ type: "history", ref: "h", data });

  test("before: a non-negative integer seq, or left out / null; limit: 1 to 200, default 50", () => {
    expect(accepted(history({}))).toEqual({ type: "history", ref: "h", before: null, limit: 50 });
    expect(accepted(history({ before: null, limit: null }))).toMatchObject({ before: null, limit: 50 });
    expect(accepted(history({ before: 0, limit: 1 }))).toMatchObject({ before: 0, limit: 1 });
    expect(accepted(history({ before: Number.MAX_SAFE_INTEGER, limit: 200 }))).toMatchObject({ before: Number.MAX_SAFE_INTEGER, limit: 200 });
  });

  test("anything else is invalid_data", () => {
    for (const before of [-1, 1.5, "5", true, [], {}, 2 ** 53]) expect({ before, ...refusal(history({ before })) }).toMatchObject({ before, code: "invalid_data", ref: "h" });
    for (const limit of [0, 201, -1, 1.5, "10", true, [], {}]) expect({ limit, ...refusal(history({ limit })) }).toMatchObject({ limit, code: "invalid_data", ref: "h" });
  });
});
