/**
 * The embedded engine's de-dup table (src/engine/embedded/recent-ids.ts) against a plain
 * Map model: random adds, lookups, expiries and rollbacks, through growth, shrinking and
 * the index's backward-shift deletions. The engine contract suite covers it end to end
 * (duplicates across restarts); this finds the table's own edge cases.
 */
import { describe, expect, test } from "bun:test";
import { DEDUP_WINDOW_MS, RecentIds } from "../../src/engine/embedded/recent-ids";

interface Stored {
  channelId: number;
  clientMsgId: string;
}

/** A log of rows (rowid → what it stored), the table over it, and the model beside it. */
function setup() {
  const rows = new Map<number, Stored>();
  // The row handed back is its rowid here, so a lookup's answer reads as the rowid found.
  const ids = new RecentIds<number>((rowid, channelId, clientMsgId) => {
    const row = rows.get(rowid);
    return row !== undefined && row.channelId === channelId && row.clientMsgId === clientMsgId ? rowid : null;
  });
  return { rows, ids };
}

/** A tiny deterministic generator, so a failure replays. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("RecentIds", () => {
  test("finds what was added, per channel, and nothing else", () => {
    const { rows, ids } = setup();
    rows.set(1, { channelId: 1, clientMsgId: "a" });
    ids.add(1, "a", 1, 0);
    expect(ids.find(1, "a")).toBe(1);
    expect(ids.find(2, "a")).toBeUndefined();
    expect(ids.find(1, "b")).toBeUndefined();
  });

  test("a candidate the row does not confirm is no duplicate (a hash collision)", () => {
    const { rows, ids } = setup();
    rows.set(7, { channelId: 1, clientMsgId: "something else" });
    ids.add(1, "a", 7, 0);
    expect(ids.find(1, "a")).toBeUndefined();
  });

  test("expires oldest first, only past the window", () => {
    const { rows, ids } = setup();
    for (let i = 1; i <= 3; i++) {
      rows.set(i, { channelId: 1, clientMsgId: `m${i}` });
      ids.add(1, `m${i}`, i, i * 1000);
    }
    ids.expire(2000 + DEDUP_WINDOW_MS);
    expect(ids.find(1, "m1")).toBeUndefined();
    expect(ids.find(1, "m2")).toBe(2);
    expect(ids.find(1, "m3")).toBe(3);
    expect(ids.size).toBe(2);
  });

  test("truncate takes back the newest entries", () => {
    const { rows, ids } = setup();
    for (let i = 1; i <= 5; i++) {
      rows.set(i, { channelId: 1, clientMsgId: `m${i}` });
      ids.add(1, `m${i}`, i, 0);
    }
    ids.truncate(3);
    expect([1, 2, 3, 4, 5].map((i) => ids.find(1, `m${i}`))).toEqual([1, 2, 3, undefined, undefined]);
  });

  test("agrees with a Map through 200,000 random operations, growth and shrinking", () => {
    const { rows, ids } = setup();
    const model = new Map<string, number>();
    const order: Array<{ key: string; at: number }> = [];
    let head = 0;
    const next = random(14);
    let now = 0;
    let rowid = 0;
    let largest = 0;
    for (let step = 0; step < 200_000; step++) {
      const r = next();
      // Bursts of adds, then long quiet spells that expire most of the table.
      now += step % 50_000 < 30_000 ? 1_000 : 40_000;
      if (r < 0.6) {
        const channelId = Math.floor(next() * 50);
        const clientMsgId = `id-${Math.floor(next() * 1e9)}`;
        const key = `${channelId}/${clientMsgId}`;
        if (model.has(key)) continue;
        rowid++;
        rows.set(rowid, { channelId, clientMsgId });
        ids.add(channelId, clientMsgId, rowid, now);
        model.set(key, rowid);
        order.push({ key, at: now });
      } else if (r < 0.9) {
        // Half lookups of live keys, half of keys never added.
        const live = order.length > head && next() < 0.5;
        const pick = live ? order[head + Math.floor(next() * (order.length - head))].key : `${Math.floor(next() * 50)}/nope-${step}`;
        const [channelId, clientMsgId] = [Number(pick.split("/")[0]), pick.slice(pick.indexOf("/") + 1)];
        expect(ids.find(channelId, clientMsgId)).toBe(model.get(pick));
      } else if (r < 0.99) {
        ids.expire(now);
        while (head < order.length && order[head].at < now - DEDUP_WINDOW_MS) model.delete(order[head++].key);
      } else {
        const keep = Math.max(0, ids.size - Math.floor(next() * 20));
        ids.truncate(keep);
        while (order.length - head > keep) model.delete(order.pop()!.key);
      }
      expect(ids.size).toBe(order.length - head);
      largest = Math.max(largest, ids.size);
    }
    for (const [key, id] of model) expect(ids.find(Number(key.split("/")[0]), key.slice(key.indexOf("/") + 1))).toBe(id);
    expect(largest).toBeGreaterThan(5_000);
  });

  test("steady churn at half load: deletions in clusters that wrap around the index's end", () => {
    const { rows, ids } = setup();
    const live: Array<{ channelId: number; clientMsgId: string; rowid: number }> = [];
    const next = random(7);
    // About 1,000 live entries, so the smallest index (2,048 slots) stays nearly half full.
    const step = DEDUP_WINDOW_MS / 1_000;
    for (let rowid = 1; rowid <= 300_000; rowid++) {
      const now = rowid * step;
      const entry = { channelId: rowid % 7, clientMsgId: `c-${Math.floor(next() * 1e9)}-${rowid}`, rowid };
      rows.set(rowid, entry);
      ids.add(entry.channelId, entry.clientMsgId, rowid, now);
      live.push(entry);
      ids.expire(now);
      while (live[0].rowid * step < now - DEDUP_WINDOW_MS) live.shift();
      if (rowid % 97 === 0) for (const e of live) expect(ids.find(e.channelId, e.clientMsgId)).toBe(e.rowid);
    }
    expect(ids.size).toBe(live.length);
  });
});
