/**
 * Requests made by the application (messages, display name, history) wait here until a
 * connection is ready, and stay until answered: after a drop, every unanswered one is
 * sent again, in order. Messages keep their `client_msg_id`, so the server de-duplicates
 * a resend whose first copy was stored.
 */
import { RoomzError } from "./errors.js";
import { LinkClosed, type Link } from "./link.js";
import type { OutboxStorage, PendingSend } from "./types.js";

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

export class Outbox {
  private entries: Entry[] = [];
  private link: Link | null = null;

  /** `storage`: where unanswered messages are kept (a browser's localStorage), if anywhere. */
  constructor(private readonly storage?: OutboxStorage) {}

  get size(): number {
    return this.entries.length;
  }

  add<T>(type: string, data: unknown, pending?: PendingSend): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = { type, data, resolve: resolve as (v: unknown) => void, reject, pending };
      this.entries.push(entry);
      if (pending) this.persist();
      if (this.link) this.transmit(this.link, entry);
    });
  }

  /** The messages a storage kept from an earlier run (a reload), as they were saved. */
  stored(): PendingSend[] {
    try {
      return this.storage?.load().filter((p) => typeof p?.client_msg_id === "string" && typeof p.content === "string") ?? [];
    } catch {
      return [];
    }
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
      this.storage?.save(this.entries.flatMap((e) => (e.pending ? [e.pending] : [])));
    } catch {} // a full or refused storage costs the reload copy, never the send
  }
}
