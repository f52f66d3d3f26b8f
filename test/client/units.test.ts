/** The pure parts of the client core: ordering and de-duplication, backoff, addresses. */
import { describe, expect, test } from "bun:test";
import type { ChatMessage } from "../../src/client";
import { Backoff } from "../../src/client/backoff";
import { Sequencer } from "../../src/client/sequencer";
import { wsUrl } from "../../src/client/urls";

const msg = (seq: number) => ({ seq, id: `m${seq}`, content: `c${seq}` }) as ChatMessage;

describe("Sequencer", () => {
  test("delivers each seq once, in order, merging held and fetched messages", () => {
    const out: number[] = [];
    const s = new Sequencer((m) => out.push(m.seq));
    s.accept(msg(1));
    s.accept(msg(1));
    s.hold();
    s.accept(msg(5));
    s.accept(msg(4));
    s.release([msg(2), msg(3), msg(4)]);
    s.accept(msg(3));
    s.accept(msg(6));
    expect(out).toEqual([1, 2, 3, 4, 5, 6]);
    expect(s.lastSeq).toBe(6);
  });

  test("a baseline (the channel's head) hides what came before it", () => {
    const out: number[] = [];
    const s = new Sequencer((m) => out.push(m.seq));
    s.hold();
    s.accept(msg(7)); // arrived while the head was being read
    s.lastSeq = 7;
    s.release();
    s.accept(msg(8));
    expect(out).toEqual([8]);
  });

  test("held messages of a dropped connection are forgotten (the replay brings them again)", () => {
    const out: number[] = [];
    const s = new Sequencer((m) => out.push(m.seq));
    s.hold();
    s.accept(msg(1));
    s.dropHeld();
    s.accept(msg(2));
    expect(out).toEqual([2]);
  });
});

describe("Backoff", () => {
  test("grows exponentially with jitter and never exceeds 30 s by default", () => {
    const low = new Backoff(500, 30_000, () => 0);
    const high = new Backoff(500, 30_000, () => 1);
    const lows = Array.from({ length: 12 }, () => low.next());
    const highs = Array.from({ length: 12 }, () => high.next());
    expect(lows.slice(0, 4)).toEqual([250, 500, 1000, 2000]);
    expect(highs.slice(0, 4)).toEqual([500, 1000, 2000, 4000]);
    expect(Math.max(...highs)).toBe(30_000);
    expect(lows.at(-1)).toBe(15_000);
    high.reset();
    expect(high.next()).toBe(500);
  });
});

describe("wsUrl", () => {
  test("maps http to ws and https to wss, path /ws, with since and epoch", () => {
    expect(wsUrl("http://h:8000")).toBe("ws://h:8000/ws");
    expect(wsUrl("https://chat.example.com/base")).toBe("wss://chat.example.com/ws");
    expect(wsUrl("http://h", { since: 12, epoch: "e 1" })).toBe("ws://h/ws?since=12&epoch=e+1");
  });
});
