/**
 * The channel logs in Redis: one sorted set per channel, scored by seq, whose members are
 * the messages' JSON exactly as sent in `message` frames. Nothing expires: messages are
 * kept until an operator deletes them, like the embedded engine. The seq counter, the
 * message, its client_msg_id key and the publication to the feed are one script.
 */
import type { ChatMessage } from "../../protocol";
import type { NewMessage } from "../engine";
import type { Keyspace } from "./keys";
import type { Link } from "./redis-link";
import { APPEND } from "./scripts";

/** How long a client_msg_id is remembered; the contract asks for at least 24 hours. */
export const CLIENT_MSG_ID_TTL_SECONDS = 48 * 3600;
const RANGE_PAGE = 500;

export interface StoredMessage {
  seq: number;
  /** The message's JSON, as stored and as sent. */
  json: string;
}

export interface Appended {
  message: ChatMessage;
  json: string;
  duplicate: boolean;
}

export class RedisMessageLog {
  constructor(private link: Link, private keys: Keyspace) {}

  /** Stores the message with the channel's next seq (or finds its client_msg_id). */
  async append(input: NewMessage, now: number): Promise<Appended> {
    const draft: ChatMessage = {
      id: Bun.randomUUIDv7(),
      seq: -1,
      client_msg_id: input.clientMsgId,
      user: { id: input.channel, email: input.email, display_name: input.displayName },
      connection_id: input.connectionId,
      content: input.content,
      timestamp: new Date(now).toISOString(),
      files: input.files,
    };
    // `"seq":-1` is the first such text: `id` comes before it and is a UUID, and any quote
    // in the content is escaped. The script puts the real seq between the two halves.
    const json = JSON.stringify(draft);
    const at = json.indexOf('"seq":-1');
    const hasId = input.clientMsgId !== null;
    const keys = this.keys;
    const before = json.slice(0, at + 6);
    const after = json.slice(at + 8);
    const [duplicate, stored] = await this.link.script<[number, string | number]>(
      APPEND,
      [keys.seq(input.channel), keys.log(input.channel), keys.clientMsgId(input.channel, input.clientMsgId ?? "")],
      [before, after, String(CLIENT_MSG_ID_TTL_SECONDS), keys.feed(input.channel), hasId ? "1" : "0", keys.publish],
    );
    if (duplicate === 1) return { message: JSON.parse(String(stored)) as ChatMessage, json: String(stored), duplicate: true };
    // A new message: the script answers only its seq, and the JSON is what it stored.
    draft.seq = Number(stored);
    return { message: draft, json: before + draft.seq + after, duplicate: false };
  }

  /** The newest `limit` messages below `before`, ascending, and whether older ones exist. */
  async history(channel: string, before: number | null, limit: number) {
    const max = before === null ? "+inf" : `(${before}`;
    const rows = await this.link.run<string[]>("ZREVRANGEBYSCORE", [this.keys.log(channel), max, "-inf", "LIMIT", "0", String(limit + 1)]);
    return { messages: rows.slice(0, limit).reverse().map(parse), hasMore: rows.length > limit };
  }

  /** The newest `limit` messages in (since, upTo], ascending, and whether that is all of them. */
  async since(channel: string, since: number, upTo: number, limit: number) {
    if (upTo <= since) return { messages: [], complete: true };
    const rows = await this.link.run<string[]>("ZREVRANGEBYSCORE", [this.keys.log(channel), String(upTo), `(${since}`, "LIMIT", "0", String(limit + 1)]);
    return { messages: rows.slice(0, limit).reverse().map(parse), complete: rows.length <= limit };
  }

  /** Every message in (after, upTo] (upTo null: to the end), ascending, read in pages. */
  async range(channel: string, after: number, upTo: number | null): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    let from = after;
    for (;;) {
      const rows = await this.link.run<string[]>("ZRANGEBYSCORE", [this.keys.log(channel), `(${from}`, upTo === null ? "+inf" : String(upTo), "LIMIT", "0", String(RANGE_PAGE)]);
      for (const json of rows) out.push({ seq: seqOf(json), json });
      if (rows.length < RANGE_PAGE) return out;
      from = out[out.length - 1].seq;
    }
  }

  async lastSeq(channel: string): Promise<number> {
    return Number((await this.link.run<string | null>("GET", [this.keys.seq(channel)])) ?? 0);
  }
}

function parse(json: string): ChatMessage {
  return JSON.parse(json) as ChatMessage;
}

/** The seq of a stored message, read without parsing it (it follows the id). */
export function seqOf(json: string): number {
  const at = json.indexOf('"seq":') + 6;
  return Number(json.slice(at, json.indexOf(",", at)));
}
