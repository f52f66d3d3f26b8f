/**
 * Requests made by the application (messages, display name, history) wait here until a
 * connection is ready, and stay until answered: after a drop, every unanswered one is
 * sent again, in order. Messages keep their `client_msg_id`, so the server de-duplicates
 * a resend whose first copy was stored.
 */
import { RoomzError } from "./errors.js";
import { LinkClosed, type Link } from "./link.js";
import type { MessageAck } from "../protocol/frames.js";
import type { OutboxStorage, PendingSend, RestoredSend } from "./types.js";

interface Entry {
  type: string;
  data: unknown;
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** The link this entry was last sent on, so one link never sends it twice. */
  sentOn?: Link;
  /** Set for messages: what the storage keeps of it, so a reload can send it again. */
  pending?: PendingSend;
}

/** A message's frame data from what the storage keeps of it. */
function messageData(pending: PendingSend) {
  return { content: pending.content, client_msg_id: pending.client_msg_id, ...(pending.files?.length ? { files: pending.files } : {}) };
}

export class Outbox {
  private entries: Entry[] = [];
  private link: Link | null = null;
  /**
   * Messages a storage kept from an earlier run that no user of this one has claimed yet:
   * each is queued only for the user who typed it (`adopt`), and kept meanwhile, so a
   * message can never go out in another account's channel.
   */
  private saved: PendingSend[];
  /** What `adopt` queued again, until the application takes it (`takeRestored`). */
  private restored: RestoredSend[] = [];

  /** `storage`: where unanswered messages are kept (a browser's localStorage), if anywhere. */
  constructor(private readonly storage?: OutboxStorage) {
    this.saved = this.load();
  }

  get size(): number {
    return this.entries.length;
  }

  /** Queues a message; the storage keeps it until its ack. */
  addMessage(pending: PendingSend): Promise<MessageAck> {
    return this.add<MessageAck>("message", messageData(pending), pending);
  }

  /** The messages still waiting for their ack, oldest first. */
  unsent(): PendingSend[] {
    return this.entries.flatMap((e) => (e.pending ? [{ ...e.pending }] : []));
  }

  add<T>(type: string, data: unknown, pending?: PendingSend): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = { type, data, resolve: resolve as (v: unknown) => void, reject, pending };
      this.entries.push(entry);
      if (pending) this.persist();
      if (this.link) this.transmit(this.link, entry);
    });
  }

  private load(): PendingSend[] {
    try {
      return this.storage?.load().filter((p) => typeof p?.client_msg_id === "string" && typeof p.content === "string") ?? [];
    } catch {
      return [];
    }
  }

  /**
   * `user` is the one this client is signed in as: its messages of this run that did not
   * know their user yet are marked as theirs, and the saved ones it typed (or whose user
   * nobody recorded) are queued again, ahead of anything newer (see takeRestored).
   */
  adopt(user: string): void {
    for (const entry of this.entries) if (entry.pending && entry.pending.user === undefined) entry.pending.user = user;
    const mine = this.saved.filter((p) => p.user === undefined || p.user === user);
    this.saved = this.saved.filter((p) => !mine.includes(p));
    const adopted = mine.map((saved) => {
      const pending = { ...saved, user };
      let entry!: Entry;
      const ack = new Promise<MessageAck>((resolve, reject) => (entry = { type: "message", data: messageData(pending), resolve: resolve as (v: unknown) => void, reject, pending }));
      ack.catch(() => {}); // a restored send nobody awaits must not be an unhandled rejection
      this.restored.push({ ...pending, ack });
      return entry;
    });
    this.entries.unshift(...adopted);
    this.persist();
    if (this.link) for (const entry of adopted) this.transmit(this.link, entry);
  }

  /** The messages `adopt` queued again, each once (then []). */
  takeRestored(): RestoredSend[] {
    return this.restored.splice(0);
  }

  /** Starts sending through `link` (every waiting entry, in order), or pauses with null. */
  attach(link: Link | null): void {
    this.link = link;
    if (link) for (const entry of [...this.entries]) this.transmit(link, entry);
  }

  /** Rejects everything still waiting (closed, signed out). */
  failAll(error: RoomzError): void {
    const failed = this.entries.splice(0);
    if (failed.some((e) => e.pending)) this.persist();
    for (const entry of failed) entry.reject(error);
  }

  private transmit(link: Link, entry: Entry): void {
    if (entry.sentOn === link) return;
    entry.sentOn = link;
    link.request(entry.type, entry.data).then(
      (value) => this.settle(entry, () => entry.resolve(value)),
      (error) => {
        if (error instanceof LinkClosed) return; // stays queued for the next connection
        this.settle(entry, () => entry.reject(error));
      },
    );
  }

  private settle(entry: Entry, done: () => void): void {
    const index = this.entries.indexOf(entry);
    if (index < 0) return;
    this.entries.splice(index, 1);
    if (entry.pending) this.persist();
    done();
  }

  private persist(): void {
    try {
      this.storage?.save([...this.saved, ...this.entries.flatMap((e) => (e.pending ? [e.pending] : []))]);
    } catch {} // a full or refused storage costs the reload copy, never the send
  }
}
