/**
 * The channel logs in SQLite: one append-only table for every channel (schema 2 in
 * database.ts). Appends are batched: everything accepted in one turn of the event loop is
 * written in one transaction, and nobody hears of a message (no ack, no delivery) before
 * that transaction commits.
 *
 * Kept in memory, all rebuilt from the log: channel ids, each channel's last seq (read
 * through the (channel_id, seq) index when first needed), and the client_msg_ids of the
 * last DEDUP_WINDOW_MS (recent-ids.ts), so de-duplication costs no index write. Memory
 * grows with the messages of the last day, never with the history.
 */
import type { Database } from "bun:sqlite";
import { channelOf, emailOf, type ChatMessage } from "../../protocol";
import type { NewMessage } from "../engine";
import { DEDUP_WINDOW_MS, RecentIds } from "./recent-ids";

interface LogRow {
  channel_id: number;
  seq: number;
  id: string;
  client_msg_id: string | null;
  connection_id: string;
  display_name: string | null;
  content: string;
  created_at: number;
}

const COLUMNS = "channel_id, seq, id, client_msg_id, connection_id, display_name, content, created_at";

export class SqliteMessageLog {
  /** Names by id and ids by name, of every channel in the database. */
  private names = new Map<number, string>();
  private ids = new Map<string, number>();
  /** The last seq of each channel this process has touched; the database lock makes it ours alone. */
  private lastSeq = new Map<number, number>();
  private recent = new RecentIds();
  private q;

  constructor(private db: Database) {
    this.q = {
      channels: db.query<{ id: number; name: string }, []>("SELECT id, name FROM channels"),
      addChannel: db.query<{ id: number }, [string]>("INSERT INTO channels (name) VALUES (?) RETURNING id"),
      maxSeq: db.query<{ seq: number | null }, [number]>("SELECT max(seq) AS seq FROM log WHERE channel_id = ?"),
      insert: db.query<never, [number, number, string, string | null, string, string | null, string, number]>(`INSERT INTO log (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      byRowid: db.query<LogRow, [number]>(`SELECT ${COLUMNS} FROM log WHERE rowid = ?`),
      newestBelow: db.query<LogRow, [number, number, number]>(`SELECT ${COLUMNS} FROM log WHERE channel_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`),
      newestAbove: db.query<LogRow, [number, number, number]>(`SELECT ${COLUMNS} FROM log WHERE channel_id = ? AND seq > ? ORDER BY seq DESC LIMIT ?`),
      // Newest first, so the scan stops at the first row older than the window.
      recentIds: db.query<{ rowid: number; channel_id: number; client_msg_id: string | null; created_at: number }, []>(
        "SELECT rowid, channel_id, client_msg_id, created_at FROM log ORDER BY rowid DESC",
      ),
    };
    for (const { id, name } of this.q.channels.all()) this.remember(id, name);
    this.loadRecentIds(Date.now());
  }

  /** The ids of the window, read back from the log: a resend after a restart is still a duplicate. */
  private loadRecentIds(now: number) {
    const rows: Array<{ rowid: number; channelId: number; clientMsgId: string; at: number }> = [];
    // Clocks can step back a little: read an hour past the window before stopping.
    for (const row of this.q.recentIds.iterate()) {
      if (row.created_at < now - DEDUP_WINDOW_MS - 3_600_000) break;
      if (row.client_msg_id !== null) rows.push({ rowid: row.rowid, channelId: row.channel_id, clientMsgId: row.client_msg_id, at: row.created_at });
    }
    for (let i = rows.length - 1; i >= 0; i--) this.recent.add(rows[i].channelId, rows[i].clientMsgId, rows[i].rowid, rows[i].at);
  }

  private remember(id: number, name: string) {
    this.names.set(id, name);
    this.ids.set(name, id);
  }

  private channelId(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.q.addChannel.get(name)!.id;
      this.remember(id, name);
    }
    return id;
  }

  /** Stores every message of the batch in one transaction; throws (storing none) on failure. */
  appendBatch(batch: NewMessage[], now: number): Array<{ message: ChatMessage; duplicate: boolean }> {
    const added: Array<[number, string]> = [];
    try {
      const results = this.db.transaction(() => batch.map((message) => this.appendOne(message, now, added)))();
      this.recent.expire(now);
      return results;
    } catch (error) {
      // The rolled-back seqs, channel ids and client_msg_ids are free again.
      for (const [channelId, clientMsgId] of added) this.recent.remove(channelId, clientMsgId);
      this.lastSeq.clear();
      this.ids.clear();
      this.names.clear();
      for (const { id, name } of this.q.channels.all()) this.remember(id, name);
      throw error;
    }
  }

  private appendOne(input: NewMessage, now: number, added: Array<[number, string]>) {
    const channelId = this.channelId(input.channel);
    if (input.clientMsgId !== null) {
      const original = this.original(channelId, input.clientMsgId);
      if (original) return { message: original, duplicate: true };
    }
    const seq = this.tipOf(channelId) + 1;
    const id = Bun.randomUUIDv7();
    const rowid = Number(this.q.insert.run(channelId, seq, id, input.clientMsgId, input.connectionId, input.displayName, input.content, now).lastInsertRowid);
    this.lastSeq.set(channelId, seq);
    if (input.clientMsgId !== null) {
      this.recent.add(channelId, input.clientMsgId, rowid, now);
      added.push([channelId, input.clientMsgId]);
    }
    const message: ChatMessage = {
      id,
      seq,
      client_msg_id: input.clientMsgId,
      user: { id: input.channel, email: emailOf(input.channel), display_name: input.displayName },
      connection_id: input.connectionId,
      content: input.content,
      timestamp: new Date(now).toISOString(),
    };
    return { message, duplicate: false };
  }

  /** The stored message with this client_msg_id (in this batch too), within the window. */
  private original(channelId: number, clientMsgId: string): ChatMessage | null {
    const rowid = this.recent.get(channelId, clientMsgId);
    if (rowid === undefined) return null;
    const row = this.q.byRowid.get(rowid);
    return row ? this.toMessage(row) : null;
  }

  private tipOf(channelId: number): number {
    let last = this.lastSeq.get(channelId);
    if (last === undefined) {
      last = this.q.maxSeq.get(channelId)?.seq ?? 0;
      this.lastSeq.set(channelId, last);
    }
    return last;
  }

  /** The channel's last stored seq (0 when it is empty). */
  tip(channel: string): number {
    const id = this.ids.get(channel);
    return id === undefined ? 0 : this.tipOf(id);
  }

  /** The newest `limit` messages below `before`, ascending, and whether older ones exist. */
  history(channel: string, before: number | null, limit: number) {
    const id = this.ids.get(channel);
    if (id === undefined) return { messages: [], hasMore: false };
    const rows = this.q.newestBelow.all(id, before ?? Number.MAX_SAFE_INTEGER, limit + 1);
    return { messages: rows.slice(0, limit).reverse().map((row) => this.toMessage(row)), hasMore: rows.length > limit };
  }

  /** The newest `limit` messages above `since`, ascending, and whether that is all of them. */
  since(channel: string, since: number, limit: number) {
    const id = this.ids.get(channel);
    if (id === undefined) return { messages: [], complete: true };
    const rows = this.q.newestAbove.all(id, since, limit + 1);
    return { messages: rows.slice(0, limit).reverse().map((row) => this.toMessage(row)), complete: rows.length <= limit };
  }

  private toMessage(row: LogRow): ChatMessage {
    const channel = this.names.get(row.channel_id) ?? channelOf(`unknown-${row.channel_id}`);
    return {
      id: row.id,
      seq: row.seq,
      client_msg_id: row.client_msg_id,
      user: { id: channel, email: emailOf(channel), display_name: row.display_name },
      connection_id: row.connection_id,
      content: row.content,
      timestamp: new Date(row.created_at).toISOString(),
    };
  }
}
