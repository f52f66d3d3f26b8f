/**
 * The channel logs in SQLite: one append-only table for every channel (schema 2 in
 * database.ts). Appends are batched: everything accepted in one turn of the event loop is
 * written in one transaction, and nobody hears of a message (no ack, no delivery) before
 * that transaction commits.
 *
 * Each row points at its channel's previous row (`prev`); every 64th seq of a channel has
 * a mark. Seqs are gapless, so the row of any seq is found from the nearest mark above it
 * (or the channel's last row) in at most 63 steps back, and a page of history is that
 * many steps more: no index is written per message (bench/micro/store-append.ts).
 *
 * Kept in memory, all read back from the database at start: channel names, ids, last
 * seq and last row, and the client_msg_ids of the last day (recent-ids.ts). Memory grows
 * with channels and the last day's messages, never with the history. The last seqs and
 * rows are written to `channels` at most once a second (and at close), with the log's
 * rowid they are current as of (`meta.tips_as_of`); at start the rows after it are read
 * to bring them up to date, so a crash loses nothing.
 */
import type { Database } from "bun:sqlite";
import { emailOf, type ChatMessage, type FileInfo } from "../../protocol";
import type { NewMessage } from "../engine";
import { DEDUP_WINDOW_MS, RecentIds } from "./recent-ids";

interface LogRow {
  channel_id: number;
  seq: number;
  prev: number | null;
  id: string;
  client_msg_id: string | null;
  connection_id: string;
  display_name: string | null;
  content: string;
  created_at: number;
  files: string | null;
}

interface Channel {
  id: number;
  name: string;
  lastSeq: number;
  lastRow: number | null;
}

const COLUMNS = "channel_id, seq, prev, id, client_msg_id, connection_id, display_name, content, created_at, files";
const MARK_EVERY = 64;
const PERSIST_TIPS_EVERY_MS = 1_000;
/** A page is read by one range scan when the log rows it spans are at most this many times its own. */
const SCAN_SPREAD = 4;

export class SqliteMessageLog {
  private byName = new Map<string, Channel>();
  private byId = new Map<number, Channel>();
  private recent = new RecentIds<LogRow>((rowid, channelId, clientMsgId) => {
    const row = this.q.row.get(rowid);
    return row !== null && row.channel_id === channelId && row.client_msg_id === clientMsgId ? row : null;
  });
  /** Channels whose last seq and row in memory are ahead of their row in `channels`. */
  private dirty = new Set<Channel>();
  private tipsPersistedAt = 0;
  private q;

  constructor(private db: Database) {
    this.q = {
      channels: db.query<{ id: number; name: string; last_seq: number; last_row: number | null }, []>("SELECT id, name, last_seq, last_row FROM channels"),
      addChannel: db.query<{ id: number }, [string]>("INSERT INTO channels (name) VALUES (?) RETURNING id"),
      setTip: db.query<never, [number, number | null, number]>("UPDATE channels SET last_seq = ?, last_row = ? WHERE id = ?"),
      tipsAsOf: db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'tips_as_of'"),
      setTipsAsOf: db.query<never, [string]>("INSERT OR REPLACE INTO meta (key, value) VALUES ('tips_as_of', ?)"),
      rowsAfter: db.query<{ rowid: number; channel_id: number; seq: number }, [number]>("SELECT rowid, channel_id, seq FROM log WHERE rowid > ? ORDER BY rowid"),
      insert: db.query<never, [number, number, number | null, string, string | null, string, string | null, string, number, string | null]>(
        `INSERT INTO log (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      mark: db.query<never, [number, number, number]>("INSERT INTO marks (channel_id, seq, row) VALUES (?, ?, ?)"),
      markAtOrAbove: db.query<{ seq: number; row: number }, [number, number]>("SELECT seq, row FROM marks WHERE channel_id = ? AND seq >= ? ORDER BY seq LIMIT 1"),
      markAtOrBelow: db.query<{ seq: number; row: number }, [number, number]>("SELECT seq, row FROM marks WHERE channel_id = ? AND seq <= ? ORDER BY seq DESC LIMIT 1"),
      row: db.query<LogRow, [number]>(`SELECT ${COLUMNS} FROM log WHERE rowid = ?`),
      span: db.query<LogRow, [number, number, number, number, number]>(
        `SELECT ${COLUMNS} FROM log WHERE rowid BETWEEN ? AND ? AND channel_id = ? AND seq BETWEEN ? AND ? ORDER BY rowid`,
      ),
      prevOf: db.query<{ prev: number | null }, [number]>("SELECT prev FROM log WHERE rowid = ?"),
      newestTimes: db.query<{ rowid: number; created_at: number }, []>("SELECT rowid, created_at FROM log ORDER BY rowid DESC"),
      idsFrom: db.query<{ rowid: number; channel_id: number; client_msg_id: string; created_at: number }, [number]>(
        "SELECT rowid, channel_id, client_msg_id, created_at FROM log WHERE rowid >= ? AND client_msg_id IS NOT NULL ORDER BY rowid",
      ),
    };
    this.loadChannels();
    this.loadRecentIds(Date.now());
  }

  /** The channels as stored, brought up to date with the log rows written after their tips were. */
  private loadChannels() {
    this.byName.clear();
    this.byId.clear();
    this.dirty.clear();
    for (const row of this.q.channels.all()) this.remember({ id: row.id, name: row.name, lastSeq: row.last_seq, lastRow: row.last_row });
    for (const row of this.q.rowsAfter.iterate(Number(this.q.tipsAsOf.get()?.value ?? 0))) {
      const channel = this.byId.get(row.channel_id)!;
      channel.lastSeq = row.seq;
      channel.lastRow = row.rowid;
      this.dirty.add(channel);
    }
  }

  /** Writes the dirty channels' tips, as of the log's last row; call inside a transaction. */
  private persistTips(now: number) {
    let asOf = 0;
    for (const channel of this.dirty) {
      this.q.setTip.run(channel.lastSeq, channel.lastRow, channel.id);
      asOf = Math.max(asOf, channel.lastRow ?? 0);
    }
    if (this.dirty.size > 0) this.q.setTipsAsOf.run(String(Math.max(asOf, Number(this.q.tipsAsOf.get()?.value ?? 0))));
    this.dirty.clear();
    this.tipsPersistedAt = now;
  }

  /** At close: the tips in `channels` become current, so the next start reads nothing more. */
  close() {
    if (this.dirty.size > 0) this.db.transaction(() => this.persistTips(Date.now()))();
  }

  private remember(channel: Channel) {
    this.byName.set(channel.name, channel);
    this.byId.set(channel.id, channel);
  }

  /** The ids of the window, read back from the log: a resend after a restart is still a duplicate. */
  private loadRecentIds(now: number) {
    // Newest first, to the first row older than the window; clocks can step back a little,
    // so an hour more is read. Then the ids from there on, in the order they were stored.
    let first: number | null = null;
    for (const row of this.q.newestTimes.iterate()) {
      if (row.created_at < now - DEDUP_WINDOW_MS - 3_600_000) break;
      first = row.rowid;
    }
    if (first === null) return;
    for (const row of this.q.idsFrom.iterate(first)) this.recent.add(row.channel_id, row.client_msg_id, row.rowid, row.created_at);
  }

  private channel(name: string): Channel {
    let channel = this.byName.get(name);
    if (!channel) {
      channel = { id: this.q.addChannel.get(name)!.id, name, lastSeq: 0, lastRow: null };
      this.remember(channel);
    }
    return channel;
  }

  /** Stores every message of the batch in one transaction; throws (storing none) on failure. */
  appendBatch(batch: NewMessage[], now: number): Array<{ message: ChatMessage; duplicate: boolean }> {
    const idsBefore = this.recent.size;
    const timestamp = new Date(now).toISOString();
    try {
      const results = this.db.transaction(() => {
        const stored = batch.map((message) => this.appendOne(message, now, timestamp));
        if (now - this.tipsPersistedAt >= PERSIST_TIPS_EVERY_MS) this.persistTips(now);
        return stored;
      })();
      this.recent.expire(now);
      return results;
    } catch (error) {
      // The rolled-back seqs, channels and client_msg_ids are free again.
      this.recent.truncate(idsBefore);
      this.loadChannels();
      throw error;
    }
  }

  private appendOne(input: NewMessage, now: number, timestamp: string) {
    const channel = this.channel(input.channel);
    if (input.clientMsgId !== null) {
      const original = this.recent.find(channel.id, input.clientMsgId);
      if (original) return { message: this.toMessage(original), duplicate: true };
    }
    const seq = channel.lastSeq + 1;
    const id = Bun.randomUUIDv7();
    const { clientMsgId, connectionId, displayName, content, files } = input;
    const filesJson = files.length > 0 ? JSON.stringify(files) : null;
    const row = Number(this.q.insert.run(channel.id, seq, channel.lastRow, id, clientMsgId, connectionId, displayName, content, now, filesJson).lastInsertRowid);
    if (seq % MARK_EVERY === 0) this.q.mark.run(channel.id, seq, row);
    channel.lastSeq = seq;
    channel.lastRow = row;
    this.dirty.add(channel);
    if (clientMsgId !== null) this.recent.add(channel.id, clientMsgId, row, now);
    const user = { id: input.channel, email: input.email, display_name: displayName };
    return { message: { id, seq, client_msg_id: clientMsgId, user, connection_id: connectionId, content, timestamp, files }, duplicate: false };
  }

  /** The channel's last stored seq (0 when it is empty). */
  tip(channel: string): number {
    return this.byName.get(channel)?.lastSeq ?? 0;
  }

  /** The newest `limit` messages below `before`, ascending, and whether older ones exist. */
  history(name: string, before: number | null, limit: number) {
    const channel = this.byName.get(name);
    const newest = Math.min(before === null ? Infinity : before - 1, channel?.lastSeq ?? 0);
    if (!channel || newest < 1) return { messages: [], hasMore: false };
    const messages = this.walkBack(channel, newest, limit);
    return { messages, hasMore: messages[0].seq > 1 };
  }

  /** The newest `limit` messages above `since`, ascending, and whether that is all of them. */
  since(name: string, since: number, limit: number) {
    const channel = this.byName.get(name);
    const above = (channel?.lastSeq ?? 0) - since;
    if (!channel || above <= 0) return { messages: [], complete: true };
    return { messages: this.walkBack(channel, channel.lastSeq, Math.min(limit, above)), complete: above <= limit };
  }

  /**
   * `count` messages ending with seq `newest`, ascending (seqs are gapless from 1). When
   * the marks around the page show that the channel's rows lie close together in the log
   * (a busy channel, or few channels), one range scan reads the page; otherwise the rows
   * are visited one by one along their `prev` pointers, so a quiet channel among many
   * never scans the others' rows.
   */
  private walkBack(channel: Channel, newest: number, count: number): ChatMessage[] {
    const oldest = newest - count + 1;
    const below = this.q.markAtOrBelow.get(channel.id, oldest);
    const above = newest === channel.lastSeq ? null : this.q.markAtOrAbove.get(channel.id, newest);
    const high = above ? above.row : channel.lastRow;
    if (below && high !== null && high - below.row <= SCAN_SPREAD * (count + 2 * MARK_EVERY)) {
      return this.toMessages(this.q.span.all(below.row, high, channel.id, oldest, newest));
    }
    return this.walkRows(channel, newest, count);
  }

  private walkRows(channel: Channel, newest: number, count: number): ChatMessage[] {
    let row = this.rowOf(channel, newest);
    const rows: LogRow[] = [];
    while (row !== null && rows.length < count) {
      const found = this.q.row.get(row);
      if (!found) break;
      rows.push(found);
      row = found.prev;
    }
    return this.toMessages(rows.reverse());
  }

  /** The rowid of `seq` in the channel: from the nearest mark at or above it, or the last row. */
  private rowOf(channel: Channel, seq: number): number | null {
    const mark = this.q.markAtOrAbove.get(channel.id, seq);
    let at = mark ? mark.seq : channel.lastSeq;
    let row = mark ? mark.row : channel.lastRow;
    while (row !== null && at > seq) {
      row = this.q.prevOf.get(row)?.prev ?? null;
      at--;
    }
    return row;
  }

  /**
   * A page of rows as messages. Rows of one commit share their time and rows of one device
   * their user: each page makes each timestamp string and user object once (a 500-message
   * replay allocated 1,000 of them, and its p99 was the collector's).
   */
  private toMessages(rows: LogRow[]): ChatMessage[] {
    const users = new Map<string | null, ChatMessage["user"]>();
    let time = NaN;
    let timestamp = "";
    return rows.map((row) => {
      if (row.created_at !== time) timestamp = new Date((time = row.created_at)).toISOString();
      let user = users.get(row.display_name);
      if (!user) users.set(row.display_name, (user = this.userOf(row)));
      return this.toMessage(row, user, timestamp);
    });
  }

  private userOf(row: LogRow): ChatMessage["user"] {
    const name = this.byId.get(row.channel_id)!.name;
    return { id: name, email: emailOf(name), display_name: row.display_name };
  }

  private toMessage(row: LogRow, user = this.userOf(row), timestamp = new Date(row.created_at).toISOString()): ChatMessage {
    return {
      id: row.id,
      seq: row.seq,
      client_msg_id: row.client_msg_id,
      user,
      connection_id: row.connection_id,
      content: row.content,
      timestamp,
      files: row.files === null ? [] : (JSON.parse(row.files) as FileInfo[]),
    };
  }
}
