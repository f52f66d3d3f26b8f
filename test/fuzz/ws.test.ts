/**
 * WebSocket fuzzing (issue 9) with a fixed seed: thousands of generated frames (broken and
 * deeply nested JSON, huge numbers, odd Unicode with lone surrogates, binary frames, wrong
 * types in every field, prototype keys). Every frame gets exactly one `ack` or `error`
 * whose code is in the contract's table, no bad frame closes the connection, oversized
 * frames close with 1009, and the server stays alive with bounded memory.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { allServerOutput, signIn, startServer, type TestServer } from "../helpers/server";
import { encodeClientFrame, RawWsClient } from "../helpers/raw-ws";
import { rawUpgrade } from "../helpers/upgrade";
import { WsClient } from "../helpers/ws-client";
import { FRAME_ERROR_CODES, leakViolations, problemViolations, rssBytes, STACK_TRACE, stackTraceLines } from "../security/support";
import { Rng } from "./prng";

const SEED = 0xf022_0009;
const FRAMES = 4000;
const BATCH = 100;

let server: TestServer;
let jwt: string;
let rssStart = 0;
beforeAll(async () => {
  server = await startServer({ env: { JWT_SECRET_KEY: "ws-fuzz-secret-key-0123456789abcdefghijkl", MESSAGE_RATE_LIMIT: "1000" } });
  jwt = await signIn(server, "alice@example.com");
  const warm = await WsClient.connect(server.wsUrl, { jwt });
  for (let i = 0; i < 50; i++) await warm.request("ping", {});
  warm.close();
  rssStart = rssBytes(server.proc.pid);
});
afterAll(async () => {
  await server?.stop("SIGKILL");
});

type Generated = { payload: string | Uint8Array; kind: string };

function generateFrame(rng: Rng, i: number): Generated {
  const ref = () => (rng.chance(0.8) ? `f${i}` : rng.value());
  const kind = rng.int(0, 13);
  switch (kind) {
    case 0:
      return { kind: "message", payload: JSON.stringify({ type: "message", ref: `f${i}`, data: { content: rng.chance(0.25) ? "m".repeat(rng.pick([1, 4000, 4001, 6000])) : rng.oddString(rng.pick([10, 200, 5000])), client_msg_id: rng.chance(0.5) ? `c${rng.int(0, 50)}` : rng.value() } }) };
    case 1:
      return { kind: "known type, random data", payload: JSON.stringify({ type: rng.pick(["ping", "history", "set_display_name", "message"]), ref: ref(), data: rng.value() }) };
    case 2: {
      const frame: Record<string, unknown> = {};
      if (rng.chance(0.9)) frame.type = rng.value();
      if (rng.chance(0.7)) frame.ref = ref();
      if (rng.chance(0.7)) frame.data = rng.value();
      return { kind: "random object", payload: JSON.stringify(frame) };
    }
    case 3:
      return { kind: "not an object", payload: JSON.stringify(rng.value()) ?? "undefined" };
    case 4: {
      const valid = JSON.stringify({ type: "message", ref: `f${i}`, data: { content: rng.oddString(40) } });
      const cut = rng.int(0, valid.length - 1);
      const broken = rng.chance(0.5) ? valid.slice(0, cut) : valid.slice(0, cut) + rng.pick(["\u0000", "}", "{", ",", '"', "\\", "]]"]) + valid.slice(cut + 1);
      return { kind: "broken JSON", payload: broken };
    }
    case 5: {
      const open = rng.pick(["[", '{"a":', '{"type":"ping","data":{"x":']);
      // As deep as fits in one frame (the 64 KiB limit has its own test).
      const depth = Math.min(rng.pick([100, 1000, 10_000, 30_000]), Math.floor(60_000 / Math.max(2, open.length)));
      return { kind: "deeply nested", payload: rng.chance(0.5) ? open.repeat(depth) : `{"type":"ping","ref":"f${i}","data":{"x":${"[".repeat(depth)}${"]".repeat(depth)}}}` };
    }
    case 6:
      return { kind: "binary", payload: rng.bytes(rng.int(0, 2000)) };
    case 7: {
      const n = rng.pick(["1e999", "-1e999", "123456789012345678901234567890", "0.0000000000000000001", "-0", "1E2", "9007199254740993", "0x10", "NaN", "Infinity", "01"]);
      return { kind: "huge number", payload: `{"type":"history","ref":"f${i}","data":{"${rng.pick(["before", "limit"])}":${n}}}` };
    }
    case 8:
      return { kind: "escaped lone surrogates", payload: `{"type":"${rng.pick(["message", "set_display_name"])}","ref":"f${i}","data":{"content":"a\\ud800b\\udfff","display_name":"\\udc00x"}}` };
    case 9:
      return { kind: "duplicate keys", payload: `{"type":"ping","type":"message","ref":"f${i}","data":{"content":"a"},"data":null}` };
    case 10:
      return {
        kind: "prototype keys",
        payload: rng.pick([
          `{"type":"message","ref":"f${i}","data":{"__proto__":{"content":"polluted"}}}`,
          `{"__proto__":{"type":"ping"},"ref":"f${i}"}`,
          `{"type":"constructor","ref":"f${i}"}`,
          `{"type":"__proto__","ref":"f${i}"}`,
          `{"type":"hasOwnProperty","ref":"f${i}","data":{"constructor":{"prototype":{"x":1}}}}`,
        ]),
      };
    case 11:
      return { kind: "empty and blank", payload: rng.pick(["", " ", "\n", "{}", "[]", "null", '""', `{"type":""}`, `{"type":"message","ref":"f${i}","data":{"content":"\\u2028\\u3000\\t "}}`]) };
    case 12:
      return { kind: "odd ref", payload: JSON.stringify({ type: "ping", ref: rng.pick(["", "x".repeat(65), "😀".repeat(64), "😀".repeat(65), 5, null, ["a"], { a: 1 }, "\ud800"]) }) };
    default:
      return { kind: "history ranges", payload: JSON.stringify({ type: "history", ref: `f${i}`, data: { before: rng.pick([0, 1, -1, 2 ** 53, 1.5, "5", null]), limit: rng.pick([0, 1, 200, 201, -1, 1.5, "5", null, 1e9]) } }) };
  }
}

function replies(ws: WsClient): number {
  return ws.frames.filter((f) => f.type === "ack" || f.type === "error").length;
}

describe("fuzz: WebSocket frames", () => {
  test(`${FRAMES} generated frames (seed ${SEED.toString(16)}): one ack or error each, known codes only, the connection never closes`, async () => {
    const rng = new Rng(SEED);
    const observer = await WsClient.connect(server.wsUrl, { jwt });
    const kinds = new Map<string, number>();
    const known = new Set(["authenticated", "ack", "error", "message", "user_joined", "user_left", "display_name_changed", "history"]);
    const errors: any[] = [];
    let acks = 0;
    // A fresh connection every PER_CONNECTION frames keeps each under the message rate
    // limit, so every validation answer is reachable (every message frame counts).
    const PER_CONNECTION = 400;
    for (let first = 0; first < FRAMES; first += PER_CONNECTION) {
      const ws = await WsClient.connect(server.wsUrl, { jwt });
      let sent = 0;
      for (let start = first; start < Math.min(FRAMES, first + PER_CONNECTION); start += BATCH) {
        for (let i = start; i < Math.min(FRAMES, first + PER_CONNECTION, start + BATCH); i++) {
          const frame = generateFrame(rng, i);
          kinds.set(frame.kind, (kinds.get(frame.kind) ?? 0) + 1);
          ws.send(frame.payload);
          sent++;
        }
        await ws.until(() => replies(ws) >= sent, `replies to ${sent} frames (have ${replies(ws)})`, 15000);
      }
      await Bun.sleep(100);
      expect(ws.isOpen).toBe(true);
      expect(ws.closeInfo).toBeNull();
      expect(replies(ws)).toBe(sent);
      expect(ws.oddities).toEqual([]);
      errors.push(...ws.frames.filter((f) => f.type === "error"));
      acks += ws.frames.filter((f) => f.type === "ack").length;
      expect(ws.frames.filter((f) => !known.has(f.type)).slice(0, 3)).toEqual([]);
      expect(ws.frames.filter((f) => STACK_TRACE.test(JSON.stringify(f))).slice(0, 3)).toEqual([]);
      await ws.closeAndWait();
    }
    const unknownCodes = errors.filter((f) => !FRAME_ERROR_CODES.includes(f.data?.code) || typeof f.data?.message !== "string");
    expect(unknownCodes.slice(0, 5)).toEqual([]);
    expect(observer.frames.filter((f) => !known.has(f.type)).slice(0, 3)).toEqual([]);
    expect(observer.isOpen).toBe(true);
    const codes = Object.fromEntries(FRAME_ERROR_CODES.map((c) => [c, errors.filter((f) => f.data.code === c).length]));
    console.log(`WS fuzz: ${FRAMES} frames, ${acks} acks, errors ${JSON.stringify(codes)}; kinds ${JSON.stringify(Object.fromEntries(kinds))}`);
    // The fuzzer did reach the interesting answers.
    for (const code of ["bad_frame", "unknown_type", "invalid_data", "empty_message", "message_too_long"]) expect({ code, n: codes[code] > 0 }).toEqual({ code, n: true });
    observer.close();
  }, 60000);

  test("over MESSAGE_RATE_LIMIT message frames in 10 s (invalid ones counted too): rate_limited with retry_after_ms, the connection stays", async () => {
    const ws = await WsClient.connect(server.wsUrl, { jwt });
    for (let i = 0; i < 1000; i++) ws.send(i % 2 ? { type: "message", data: { content: " " } } : { type: "message", data: { content: 5 } });
    const over = await ws.request("message", { content: "one too many" });
    expect(over.type).toBe("error");
    expect(over.data.code).toBe("rate_limited");
    expect(over.data.retry_after_ms).toBeGreaterThan(0);
    expect(over.data.retry_after_ms).toBeLessThanOrEqual(10000);
    expect((await ws.request("ping", {})).type).toBe("ack");
    ws.close();
  });

  test("oversized frames close with 1009 (text and binary); the client reconnects with since and loses nothing", async () => {
    const ws = await WsClient.connect(server.wsUrl, { jwt });
    const before = await ws.sendMessage("before the big frame");
    for (const big of ["x".repeat(65537), new Uint8Array(70_000), JSON.stringify({ type: "message", data: { content: "y".repeat(70_000) } })]) {
      const victim = await WsClient.connect(server.wsUrl, { jwt });
      victim.send(big);
      const closed = await Promise.race([victim.closed, Bun.sleep(5000).then(() => null)]);
      expect(closed?.code).toBe(1009);
    }
    const again = await WsClient.connect(server.wsUrl, { jwt, since: before.seq - 1 });
    expect(again.replay!.data.messages.map((m: any) => m.id)).toContain(before.id);
    expect(ws.isOpen).toBe(true); // other connections of the user are unaffected
    ws.close();
    again.close();
  });

  test("protocol-level violations (invalid UTF-8 text, unknown opcode) end only that connection, per RFC 6455", async () => {
    const bystander = await WsClient.connect(server.wsUrl, { jwt });
    for (const [bytes, opcode, code] of [[new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 0x1, 1007], [new TextEncoder().encode("x"), 0x3, 1002]] as const) {
      const raw = await RawWsClient.connect(server.wsUrl, { jwt });
      await raw.until(() => raw.frames.length > 0, "authenticated");
      raw.write(encodeClientFrame(bytes as Uint8Array, opcode));
      await raw.until(() => raw.closeInfo !== null, "the close frame").catch(() => {});
      expect(raw.closeInfo?.code).toBe(code);
    }
    expect((await bystander.request("ping", {})).type).toBe("ack");
    bystander.close();
  });

  test("frames written before `authenticated` (same packet as the upgrade) are all answered, none dropped", async () => {
    const early = Array.from({ length: 100 }, (_, i) => ({ type: "ping", ref: `early${i}` }));
    const raw = await RawWsClient.connect(server.wsUrl, { jwt }, early);
    await raw.until(() => raw.frames.filter((f) => f.type === "ack").length >= 100, "100 acks", 10000);
    expect(raw.frames[0].type).toBe("authenticated");
    expect(raw.frames.filter((f) => f.type === "ack").map((f) => f.ref)).toEqual(early.map((f) => f.ref));
    expect(raw.closeInfo).toBeNull();
    raw.close();
  });

  test("a lone surrogate in content: the live frame, the ack'd message and history agree on the stored content", async () => {
    const ws = await WsClient.connect(server.wsUrl, { jwt });
    ws.send('{"type":"message","ref":"lone","data":{"content":"a\\ud800b","client_msg_id":"lone-surrogate"}}');
    const ack = await ws.waitFor((f) => f.ref === "lone");
    expect(ack.type === "ack" || ack.data.code === "invalid_data").toBe(true);
    if (ack.type === "ack") {
      const live = await ws.waitFor((f) => f.type === "message" && f.data.client_msg_id === "lone-surrogate");
      const page = await ws.request("history", { limit: 5 });
      const stored = page.data.messages.find((m: any) => m.client_msg_id === "lone-surrogate");
      // "Each element of messages is exactly the data of a message frame." (Compared escaped,
      // so the report shows \ud800 against \ufffd rather than two identical-looking glyphs.)
      const escaped = (text: string) => text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
      expect({ history: escaped(stored.content) }).toEqual({ history: escaped(live.data.content) });
      expect(stored).toEqual(live.data);
    }
    ws.close();
  });

  test("upgrades with generated since/epoch values and odd upgrade headers: 101 or a problem document, never 5xx", async () => {
    const rng = new Rng(SEED + 1);
    const bad: string[] = [];
    for (let i = 0; i < 150; i++) {
      const since = rng.pick(["0", "1", "-1", "1.5", "1e3", "", " 1", "9".repeat(15), "9".repeat(16), "0x10", "abc", rng.oddString(20), "NaN", "00", undefined]);
      const epoch = rng.pick([undefined, "", "x".repeat(rng.pick([1, 100, 5000])), rng.oddString(30)]);
      const headers: Record<string, string> = {};
      if (rng.chance(0.2)) headers["sec-websocket-version"] = rng.pick(["8", "99", "", "13, 8"]);
      if (rng.chance(0.2)) headers["sec-websocket-key"] = rng.pick(["", "short", "x".repeat(200)]);
      if (rng.chance(0.1)) headers["sec-websocket-protocol"] = rng.pick(["chat", "x".repeat(500), ","]);
      if (rng.chance(0.1)) headers["sec-websocket-extensions"] = rng.pick(["permessage-deflate; client_max_window_bits=99", "x-unknown", ";;"]);
      let res;
      try {
        res = await rawUpgrade(server.wsUrl, { jwt, since, epoch, headers });
      } catch (error) {
        bad.push(`#${i} since=${JSON.stringify(since)}: no answer (${error})`);
        continue;
      }
      if (res.status === 101) continue;
      // RFC 6455 4.4: an unsupported version gets 426 with the versions we speak (Bun answers it itself).
      if (res.status === 426 && headers["sec-websocket-version"] !== undefined && headers["sec-websocket-version"] !== "13") {
        if (res.headers.get("sec-websocket-version") !== "13") bad.push(`#${i}: 426 without Sec-WebSocket-Version: 13`);
        continue;
      }
      const v = problemViolations({ status: res.status, contentType: res.headers.get("content-type") ?? "", body: res.body, path: "/ws" });
      if (res.status >= 500 || v.length) bad.push(`#${i} since=${JSON.stringify(since)} headers=${JSON.stringify(headers).slice(0, 80)} → ${res.status} ${v.join(", ")}`);
      // since that is not a non-negative integer: 400 before upgrading.
      if (since !== undefined && !/^\d+$/.test(since) && res.status !== 400) bad.push(`#${i} since=${JSON.stringify(since)} → ${res.status}, expected 400`);
    }
    expect(bad.slice(0, 20)).toEqual([]);
  }, 30000);

  test("after all of it: alive, /healthz 200, RSS bounded, no stack trace, error log or secret in the output", async () => {
    expect(server.proc.exitCode).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ws = await WsClient.connect(server.wsUrl, { jwt });
    expect((await ws.request("ping", {})).type).toBe("ack");
    ws.close();
    const rss = rssBytes(server.proc.pid);
    console.log(`WS fuzz RSS: start ${(rssStart / 2 ** 20).toFixed(1)} MB, end ${(rss / 2 ** 20).toFixed(1)} MB`);
    expect(rss).toBeLessThan(2 * rssStart + 50 * 2 ** 20);
    expect(stackTraceLines([server.output])).toEqual([]);
    expect(server.output.split("\n").filter((l) => / error /.test(l))).toEqual([]);
    expect(leakViolations(allServerOutput)).toEqual([]);
  });
});
