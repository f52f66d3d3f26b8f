/**
 * Connection.takeMessageSlot in-process (PROTOCOL.md section 2: more than
 * MESSAGE_RATE_LIMIT `message` frames in 10 s on a connection are `rate_limited`, with
 * `retry_after_ms`; rate limits are sliding windows). Time is passed in, so the window
 * slides without waiting. test/ws/rate-limit.test.ts proves the same over a socket.
 */
import { describe, expect, test } from "bun:test";
import { Connection, type ConnectionOptions } from "../../src/server/connection";
import { rateLimitKey } from "../../src/server/request";

const WINDOW = 10_000;
const T0 = 1_700_000_000_000;

/** A connection with only what takeMessageSlot reads: no socket is needed. */
function connection(rateLimit: number): Connection {
  return new Connection({ email: "rate@example.com", rateLimit } as ConnectionOptions);
}

/** Takes `count` slots at `at`; returns what each answered. */
function take(c: Connection, count: number, at: number): number[] {
  return Array.from({ length: count }, () => c.takeMessageSlot(at));
}

describe("the sliding 10 s message window", () => {
  test("the limit is allowed at once; one more is refused with the time until the oldest leaves the window", () => {
    const c = connection(5);
    expect(take(c, 5, T0)).toEqual([0, 0, 0, 0, 0]);
    expect(c.takeMessageSlot(T0)).toBe(WINDOW);
    expect(c.takeMessageSlot(T0 + 2_500)).toBe(WINDOW - 2_500);
    expect(c.takeMessageSlot(T0 + WINDOW - 1)).toBe(1);
  });

  test("a refused frame takes no slot: the wait only shrinks while refused", () => {
    const c = connection(3);
    take(c, 3, T0);
    const waits = [1_000, 2_000, 5_000, 9_999].map((dt) => c.takeMessageSlot(T0 + dt));
    expect(waits).toEqual([9_000, 8_000, 5_000, 1]);
    expect(c.takeMessageSlot(T0 + WINDOW)).toBe(0);
  });

  test("exactly 10 s after a frame its slot is free again, one slot per frame that left", () => {
    const c = connection(3);
    expect([c.takeMessageSlot(T0), c.takeMessageSlot(T0 + 1_000), c.takeMessageSlot(T0 + 2_000)]).toEqual([0, 0, 0]);
    expect(c.takeMessageSlot(T0 + WINDOW)).toBe(0); // the frame of T0 left
    expect(c.takeMessageSlot(T0 + WINDOW)).toBe(1_000); // the one of T0 + 1 s is still in
    expect(c.takeMessageSlot(T0 + WINDOW + 1_000)).toBe(0);
    expect(c.takeMessageSlot(T0 + WINDOW + 2_000)).toBe(0);
    // now the window holds T0+10 s, T0+11 s, T0+12 s
    expect(c.takeMessageSlot(T0 + WINDOW + 2_000)).toBe(8_000);
  });

  test("steady traffic at the limit's pace is never refused; at twice the pace half is, and no 10 s ever holds more than the limit", () => {
    const steady = connection(10);
    const pace = WINDOW / 10;
    expect(Array.from({ length: 100 }, (_, i) => steady.takeMessageSlot(T0 + i * pace)).filter((w) => w > 0)).toEqual([]);
    const eager = connection(10);
    const times = Array.from({ length: 200 }, (_, i) => T0 + (i * pace) / 2);
    const taken = times.filter((t) => eager.takeMessageSlot(t) === 0);
    expect(taken).toHaveLength(100);
    for (const t of taken) expect(taken.filter((u) => u > t - WINDOW && u <= t).length).toBeLessThanOrEqual(10);
  });

  test("waiting retry_after_ms is always enough, and not a millisecond more than needed", () => {
    const c = connection(4);
    let now = T0;
    let refusals = 0;
    for (let i = 0; i < 60; i++) {
      now += (i * 37) % 900; // irregular gaps
      const wait = c.takeMessageSlot(now);
      if (wait === 0) continue;
      refusals++;
      expect(c.takeMessageSlot(now + wait - 1)).toBe(1);
      now += wait;
      expect(c.takeMessageSlot(now)).toBe(0);
    }
    expect(refusals).toBeGreaterThan(5);
  });

  test("a limit of 1: one frame per 10 s", () => {
    const c = connection(1);
    expect(c.takeMessageSlot(T0)).toBe(0);
    expect(c.takeMessageSlot(T0 + 1)).toBe(WINDOW - 1);
    expect(c.takeMessageSlot(T0 + WINDOW)).toBe(0);
    expect(c.takeMessageSlot(T0 + WINDOW)).toBe(WINDOW);
  });

  test("connections have windows of their own", () => {
    const [a, b] = [connection(2), connection(2)];
    take(a, 2, T0);
    expect(a.takeMessageSlot(T0)).toBe(WINDOW);
    expect(take(b, 2, T0)).toEqual([0, 0]);
  });
});

describe("rateLimitKey", () => {
  test("IPv4 as it is; IPv6 by its /64, however it is written; a mapped IPv4 as IPv4", () => {
    expect(rateLimitKey("203.0.113.7")).toBe("203.0.113.7");
    expect(rateLimitKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    const one = rateLimitKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd");
    expect(one).toBe("2001:db8:1:2::/64");
    for (const same of ["2001:db8:1:2::1", "2001:0DB8:0001:0002:0:0:0:ffff", "2001:db8:1:2::1%eth0"]) expect(rateLimitKey(same)).toBe(one);
    expect(rateLimitKey("2001:db8:1:3::1")).not.toBe(one);
    expect(rateLimitKey("::1")).toBe("0:0:0:0::/64");
    expect(rateLimitKey("fe80::1")).toBe("fe80:0:0:0::/64");
  });
});
