/**
 * The channel logs in SQLite. Appends are batched: everything accepted in one turn of
 * the event loop is written in one transaction, and nobody hears of a message (no ack,
 * no delivery) before that transaction commits.
 */
import type { Database } from "bun:sqlite";
import { emailOf, type ChatMessage } from "../../protocol";
import type { NewMessage } from "../engine";

interface MessageRow {
  channel: string;
  seq: number;
  id: string;
  client_msg_id: string | null;
  connection_id: string;
  display_name: string | null;
  content: string;
  created_at: number;
}

const COLUMNS = "channel, seq, id, client_msg_id, connection_id, display_name, content, created_at";

export function rowToMessage(row: MessageRow): ChatMessage {
  return {
    id: row.id,
    seq: row.seq,
    client_msg_id: row.client_msg_id,
    user: { id: row.channel, email: emailOf(row.channel), display_name: row.display_name },
    connection_id: row.connection_id,
    content: row.content,
    timestamp: new Date(row.created_at).toISOString(),
  };
}

export class SqliteMessageLog {
  /** The last seq of each channel this process has touched; the database lock makes it ours alone. */
  private lastSeq = new Map<string, number>();
  private q;

  constructor(private db: Database) {
    this.q = {
      maxSeq: db.query<{ seq: number | null }, [string]>("SELECT max(seq) AS seq FROM messages WHERE channel = ?"),
      byClientId: db.query<MessageRow, [string, string]>(
        `SELECT ${COLUMNS} FROM messages WHERE channel = ? AND client_msg_id = ?`,
      ),
      insert: db.query(`INSERT INTO messages (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      newestBelow: db.query<MessageRow, [string, number, number]>(
        `SELECT ${COLUMNS} FROM messages WHERE channel = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
      ),
      newestAbove: db.query<MessageRow, [string, number, number]>(
        `SELECT ${COLUMNS} FROM messages WHERE channel = ? AND seq > ? ORDER BY seq DESC LIMIT ?`,
      ),
    };
  }

  /** Stores every message of the batch in one transaction; throws (storing none) on failure. */
  appendBatch(batch: NewMessage[], now: number): Array<{ message: ChatMessage; duplicate: boolean }> {
    try {
      return this.db.transaction(() => batch.map((message) => this.appendOne(message, now)))();
    } catch (error) {
      this.lastSeq.clear(); // the rolled-back seqs are free again
      throw error;
    }
  }

  private appendOne(input: NewMessage, now: number) {
    if (input.clientMsgId !== null) {
      const original = this.q.byClientId.get(input.channel, input.clientMsgId);
      if (original) return { message: rowToMessage(original), duplicate: true };
    }
    const seq = this.nextSeq(input.channel);
    const row: MessageRow = {
      channel: input.channel,
      seq,
      id: Bun.randomUUIDv7(),
      client_msg_id: input.clientMsgId,
      connection_id: input.connectionId,
      display_name: input.displayName,
      content: input.content,
      created_at: now,
    };
    this.q.insert.run(row.channel, row.seq, row.id, row.client_msg_id, row.connection_id, row.display_name, row.content, row.created_at);
    return { message: rowToMessage(row), duplicate: false };
  }

  private nextSeq(channel: string): number {
    const next = this.tip(channel) + 1;
    this.lastSeq.set(channel, next);
    return next;
  }

  /** The channel's last stored seq (0 when it is empty). */
  tip(channel: string): number {
    let last = this.lastSeq.get(channel);
    if (last === undefined) {
      last = this.q.maxSeq.get(channel)?.seq ?? 0;
      this.lastSeq.set(channel, last);
    }
    return last;
  }

  /** The newest `limit` messages below `before`, ascending, and whether older ones exist. */
  history(channel: string, before: number | null, limit: number) {
    const rows = this.q.newestBelow.all(channel, before ?? Number.MAX_SAFE_INTEGER, limit + 1);
    return { messages: rows.slice(0, limit).reverse().map(rowToMessage), hasMore: rows.length > limit };
  }

  /** The newest `limit` messages above `since`, ascending, and whether that is all of them. */
  since(channel: string, since: number, limit: number) {
    const rows = this.q.newestAbove.all(channel, since, limit + 1);
    return { messages: rows.slice(0, limit).reverse().map(rowToMessage), complete: rows.length <= limit };
  }
}
