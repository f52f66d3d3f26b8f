/**
 * Exactly-once, in-order local delivery on top of Redis pub/sub, which is at-most-once.
 *
 * For each channel with local sockets this instance keeps `delivered`, the last seq its
 * sockets were sent. A message from the feed (or from the reply to our own append) with
 * a seq at or below it is a duplicate and dropped; one above `delivered + 1` reveals a
 * gap, which is read from the stored log before anything later is delivered. After a
 * reconnect the whole tail after `delivered` is read once, so messages published while
 * the subscription was down arrive too.
 *
 * Joins run as exclusive tasks: while one runs nothing is delivered, so `delivered` is
 * the exact boundary between the joiner's replay (up to it) and its live stream (after).
 *
 * The sender's ack must precede its own copy, but the feed and the script's reply travel
 * on different connections. So a message from the feed waits until every append this
 * instance had started on the channel when it arrived has been answered (and acked);
 * appends are answered in order on one connection, so two counters say when.
 *
 * Over 250 lines on purpose: one algorithm whose invariants (`delivered`, the barriers,
 * the exclusive joins) every method relies on; split, they could not be read together.
 */
import { log } from "../../log";
import type { RedisMessageLog } from "./message-log-redis";

/** A channel without local sockets keeps its subscription this long, for quick rejoins. */
const LINGER_MS = 5_000;
const RETRY_MS = 1_000;

interface Pending {
  json: string;
  /** Delivered only once `done` reaches this (our appends started before it arrived). */
  barrier: number;
}

interface Feed {
  channel: string;
  /** The last seq delivered here; -1 until the feed is subscribed and knows the tip. */
  delivered: number;
  pending: Map<number, Pending>;
  sent: number;
  done: number;
  tasks: Array<() => Promise<void>>;
  busy: boolean;
  resync: boolean;
  /** A read of the log failed: gaps and resyncs wait for this retry, not the next pump. */
  retry: Timer | null;
  lingering: Timer | null;
}

export interface FeedHooks {
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): void;
  deliver(channel: string, json: string): void;
  hasLocalSockets(channel: string): boolean;
  /**
   * The store holds fewer messages than were delivered here (Redis restored from an older
   * snapshot): the channel's sockets hold seqs that new messages will take again.
   */
  rewound(channel: string): void;
}

export class ChannelFeeds {
  private feeds = new Map<string, Feed>();

  constructor(private log: RedisMessageLog, private hooks: FeedHooks) {}

  /** Runs `work` with delivery paused at `delivered`, after subscribing if needed. */
  exclusive<T>(channel: string, work: (delivered: number) => Promise<T>): Promise<T> {
    const feed = this.open(channel);
    return new Promise<T>((resolve, reject) => {
      feed.tasks.push(async () => {
        try {
          if (feed.delivered < 0) await this.sync(feed);
          resolve(await work(feed.delivered));
        } catch (error) {
          reject(error);
        }
      });
      this.pump(feed);
    });
  }

  /** A message seen on the feed. */
  offer(channel: string, seq: number, json: string): void {
    const feed = this.feeds.get(channel);
    if (!feed || seq <= feed.delivered) return;
    if (!feed.pending.has(seq)) feed.pending.set(seq, { json, barrier: feed.sent });
    this.pump(feed);
  }

  /** Call before sending an append; pass the result to `appendFinished`. */
  appendStarted(channel: string): object | null {
    const feed = this.feeds.get(channel);
    if (feed) feed.sent++;
    return feed ?? null;
  }

  /** After the append's ack: counts it, and delivers its message here unless the feed already did. */
  appendFinished(token: object | null, stored: { seq: number; json: string } | null): void {
    const feed = token as Feed | null;
    if (!feed) return;
    feed.done++;
    // Our own new message can't have been delivered before its answer: a seq at or below
    // `delivered` means the store went back.
    if (stored && stored.seq <= feed.delivered) this.rewind(feed, stored.seq - 1);
    if (stored && stored.seq > feed.delivered && !feed.pending.has(stored.seq)) feed.pending.set(stored.seq, { json: stored.json, barrier: 0 });
    if (this.feeds.get(feed.channel) === feed) this.pump(feed);
  }

  /** After a reconnect: read what the feed may have missed. */
  resyncAll(): void {
    for (const channel of this.feeds.keys()) this.resync(channel);
  }

  /** Reads what this channel's feed may have missed (its subscription moved or broke). */
  resync(channel: string): void {
    const feed = this.feeds.get(channel);
    if (!feed) return;
    feed.resync = true;
    cancelRetry(feed);
    this.pump(feed);
  }

  /** The dataset was replaced (new epoch): seqs start again from 1. */
  reset(): void {
    for (const feed of this.feeds.values()) {
      feed.pending.clear();
      if (feed.delivered >= 0) feed.delivered = 0;
      feed.resync = true;
      cancelRetry(feed);
      this.pump(feed);
    }
  }

  /** The last local socket of the channel left: unsubscribe after a while unless one rejoins. */
  release(channel: string): void {
    const feed = this.feeds.get(channel);
    if (!feed || feed.lingering) return;
    feed.lingering = setTimeout(() => {
      feed.lingering = null;
      if (this.hooks.hasLocalSockets(channel) || feed.busy || feed.tasks.length > 0 || feed.sent !== feed.done) return;
      this.feeds.delete(channel);
      this.hooks.unsubscribe(channel);
    }, LINGER_MS);
    feed.lingering.unref();
  }

  close(): void {
    for (const feed of this.feeds.values()) {
      if (feed.lingering) clearTimeout(feed.lingering);
      cancelRetry(feed);
    }
    this.feeds.clear();
  }

  private open(channel: string): Feed {
    let feed = this.feeds.get(channel);
    if (!feed) {
      feed = { channel, delivered: -1, pending: new Map(), sent: 0, done: 0, tasks: [], busy: false, resync: false, retry: null, lingering: null };
      this.feeds.set(channel, feed);
    }
    if (feed.lingering) clearTimeout(feed.lingering);
    feed.lingering = null;
    return feed;
  }

  /** Subscribes, then reads the tip: anything stored later arrives on the subscription. */
  private async sync(feed: Feed) {
    await this.hooks.subscribe(feed.channel);
    const tip = await this.log.lastSeq(feed.channel);
    if (feed.delivered < 0) feed.delivered = tip;
    feed.resync = false;
  }

  private pump(feed: Feed): void {
    if (feed.busy) return;
    if (feed.delivered >= 0) this.deliverReady(feed);
    const task = feed.tasks.shift();
    if (task) return this.runBusy(feed, task);
    if (feed.delivered < 0 || feed.retry) return;
    if (feed.resync) {
      feed.resync = false;
      return this.fill(feed, feed.delivered, null);
    }
    if (feed.pending.has(feed.delivered + 1)) return; // waiting for our own acks
    let lowest = Infinity;
    let barrier = 0;
    for (const [seq, item] of feed.pending) {
      if (seq <= feed.delivered) feed.pending.delete(seq);
      else if (seq < lowest) [lowest, barrier] = [seq, item.barrier];
    }
    // A gap. Our own unanswered appends may hold the missing seqs; else read the log.
    if (lowest !== Infinity && barrier <= feed.done) this.fill(feed, feed.delivered, lowest - 1);
  }

  private deliverReady(feed: Feed) {
    for (;;) {
      const next = feed.pending.get(feed.delivered + 1);
      if (!next || next.barrier > feed.done) return;
      feed.pending.delete(feed.delivered + 1);
      feed.delivered++;
      this.hooks.deliver(feed.channel, next.json);
    }
  }

  private runBusy(feed: Feed, work: () => Promise<void>) {
    feed.busy = true;
    work().finally(() => {
      feed.busy = false;
      this.pump(feed);
    });
  }

  /** After a resync found nothing new: false (and rewound) when the store's tip is below `after`. */
  private async stillAt(feed: Feed, after: number): Promise<boolean> {
    const tip = await this.log.lastSeq(feed.channel).catch(() => after);
    if (tip >= after || feed.delivered !== after) return true;
    this.rewind(feed, tip);
    return false;
  }

  private rewind(feed: Feed, tip: number) {
    log.warn(`channel ${feed.channel}: the store went back from seq ${feed.delivered} to ${tip} (restored from an older snapshot?); its connections resume`);
    feed.pending.clear();
    feed.delivered = tip;
    this.hooks.rewound(feed.channel);
  }

  /** Reads (after, upTo] from the log into `pending`; a hole the log can't fill is skipped. */
  private fill(feed: Feed, after: number, upTo: number | null) {
    this.runBusy(feed, async () => {
      // Rows may include our appends not yet answered: they wait for their acks.
      const barrier = feed.sent;
      let rows;
      try {
        rows = await this.log.range(feed.channel, after, upTo);
      } catch {
        // Redis is down or slow: try again later (a reconnect also resyncs every feed).
        // Not at once: the pump that follows this task would read again and fail again,
        // a loop of microtasks that never lets the event loop run (seen: a frozen
        // instance growing to 18 GB while Redis was down).
        if (upTo === null) feed.resync = true;
        feed.retry ??= setTimeout(() => {
          feed.retry = null;
          this.pump(feed);
        }, RETRY_MS);
        feed.retry.unref();
        return;
      }
      if (feed.delivered !== after) return; // reset meanwhile
      if (upTo === null && rows.length === 0 && !(await this.stillAt(feed, after))) return;
      for (const row of rows) if (row.seq > after && !feed.pending.has(row.seq)) feed.pending.set(row.seq, { json: row.json, barrier });
      if (upTo !== null && !feed.pending.has(after + 1)) {
        log.warn(`channel ${feed.channel}: messages ${after + 1}..${upTo} are missing from the store; skipping them`);
        feed.delivered = upTo;
      }
    });
  }
}

/** Drops a scheduled retry: the caller is about to pump the feed itself. */
function cancelRetry(feed: Feed): void {
  if (feed.retry) clearTimeout(feed.retry);
  feed.retry = null;
}
