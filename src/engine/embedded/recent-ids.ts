/**
 * The client_msg_ids of the last DEDUP_WINDOW_MS with the rowid of the message each one
 * stored: the embedded engine's de-duplication, in memory instead of a random-key index
 * that every append would have written to (issue 14).
 *
 * Kept in typed arrays, not in Maps of strings: a Map entry per message held 168 B
 * of JS heap, and at 10,000 msg/s the collector's full marks of those entries stalled the
 * event loop for 100–200 ms (bench/results/findings.md). Here an entry is 24 B in a ring
 * (insertion order, for expiry) plus two 4 B slots of an open-addressing index, none of
 * which the collector looks into. Only two 32-bit hashes of the id are kept, so each
 * candidate a lookup finds is confirmed against the stored row (`storedAs` reads it, and
 * the lookup hands that row back): a hash collision can never make a new message look
 * like a duplicate.
 */

/** The contract asks for at least 24 hours; the hour more absorbs clock steps. */
export const DEDUP_WINDOW_MS = 25 * 3_600_000;

const MIN_CAPACITY = 1024;
const SEED_A = 0x9e3779b9;
const SEED_B = 0x85ebca6b;

export class RecentIds<Row> {
  /** Ring of entries in insertion order; absolute positions `head` … `tail` - 1 are live. */
  private hashA = new Uint32Array(MIN_CAPACITY);
  private hashB = new Uint32Array(MIN_CAPACITY);
  private rowids = new Float64Array(MIN_CAPACITY);
  private times = new Float64Array(MIN_CAPACITY);
  private head = 0;
  private tail = 0;
  /** Linear-probing index, twice the ring's size: ring slot + 1, or 0 for empty. */
  private slots = new Uint32Array(MIN_CAPACITY * 2);

  /** `storedAs`: the row `rowid` if it holds this channel's message with this client_msg_id, else null. */
  constructor(private storedAs: (rowid: number, channelId: number, clientMsgId: string) => Row | null) {}

  get size(): number {
    return this.tail - this.head;
  }

  /** The row of the message stored with this client_msg_id in the window, if any. */
  find(channelId: number, clientMsgId: string): Row | undefined {
    const a = hashOf(clientMsgId, channelId, SEED_A);
    const b = hashOf(clientMsgId, channelId, SEED_B);
    const mask = this.slots.length - 1;
    for (let s = a & mask; this.slots[s] !== 0; s = (s + 1) & mask) {
      const entry = this.slots[s] - 1;
      if (this.hashA[entry] !== a || this.hashB[entry] !== b) continue;
      const row = this.storedAs(this.rowids[entry], channelId, clientMsgId);
      if (row !== null) return row;
    }
    return undefined;
  }

  add(channelId: number, clientMsgId: string, rowid: number, at: number): void {
    if (this.size === this.hashA.length) this.resize(this.hashA.length * 2);
    const entry = this.tail & (this.hashA.length - 1);
    this.hashA[entry] = hashOf(clientMsgId, channelId, SEED_A);
    this.hashB[entry] = hashOf(clientMsgId, channelId, SEED_B);
    this.rowids[entry] = rowid;
    this.times[entry] = at;
    this.tail++;
    this.index(entry);
  }

  /** Takes back the entries added after `size` was `keep` (a transaction that rolled back). */
  truncate(keep: number): void {
    while (this.size > keep) {
      this.tail--;
      this.unindex(this.tail & (this.hashA.length - 1));
    }
  }

  /** Forgets the entries older than the window, oldest first. */
  expire(now: number): void {
    const cutoff = now - DEDUP_WINDOW_MS;
    const mask = this.hashA.length - 1;
    while (this.head < this.tail && this.times[this.head & mask] < cutoff) {
      this.unindex(this.head & mask);
      this.head++;
    }
    if (this.hashA.length > MIN_CAPACITY && this.size * 8 < this.hashA.length) this.resize(this.hashA.length / 2);
  }

  private index(entry: number): void {
    const mask = this.slots.length - 1;
    let s = this.hashA[entry] & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = entry + 1;
  }

  /** Removes the entry's slot and shifts its cluster back so that every probe still finds its entry. */
  private unindex(entry: number): void {
    const mask = this.slots.length - 1;
    let hole = this.hashA[entry] & mask;
    while (this.slots[hole] !== entry + 1) hole = (hole + 1) & mask;
    for (let s = (hole + 1) & mask; this.slots[s] !== 0; s = (s + 1) & mask) {
      const home = this.hashA[this.slots[s] - 1] & mask;
      // The entry at s may move into the hole unless its home lies cyclically in (hole, s].
      const staysPut = hole < s ? home > hole && home <= s : home > hole || home <= s;
      if (staysPut) continue;
      this.slots[hole] = this.slots[s];
      hole = s;
    }
    this.slots[hole] = 0;
  }

  /** Moves the live entries to a ring of `capacity` (keeping their order) and rebuilds the index. */
  private resize(capacity: number): void {
    const old = { hashA: this.hashA, hashB: this.hashB, rowids: this.rowids, times: this.times };
    const oldMask = old.hashA.length - 1;
    const count = this.size;
    this.hashA = new Uint32Array(capacity);
    this.hashB = new Uint32Array(capacity);
    this.rowids = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
    this.slots = new Uint32Array(capacity * 2);
    for (let i = 0; i < count; i++) {
      const from = (this.head + i) & oldMask;
      this.hashA[i] = old.hashA[from];
      this.hashB[i] = old.hashB[from];
      this.rowids[i] = old.rowids[from];
      this.times[i] = old.times[from];
      this.index(i);
    }
    this.head = 0;
    this.tail = count;
  }
}

function hashOf(clientMsgId: string, channelId: number, seed: number): number {
  return Bun.hash.murmur32v3(clientMsgId, (seed ^ channelId) >>> 0);
}
