/**
 * Requests made by the application (messages, display name, history) wait here until a
 * connection is ready, and stay until answered: after a drop, every unanswered one is
 * sent again, in order. Messages keep their `client_msg_id`, so the server de-duplicates
 * a resend whose first copy was stored.
 */
import { RoomzError } from "./errors.js";
import { LinkClosed, type Link } from "./link.js";

interface Entry {
  type: string;
  data: unknown;
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** The link this entry was last sent on, so one link never sends it twice. */
  sentOn?: Link;
}

export class Outbox {
  private entries: Entry[] = [];
  private link: Link | null = null;

  get size(): number {
    return this.entries.length;
  }

  add<T>(type: string, data: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = { type, data, resolve: resolve as (v: unknown) => void, reject };
      this.entries.push(entry);
      if (this.link) this.transmit(this.link, entry);
    });
  }

  /** Starts sending through `link` (every waiting entry, in order), or pauses with null. */
  attach(link: Link | null): void {
    this.link = link;
    if (link) for (const entry of [...this.entries]) this.transmit(link, entry);
  }

  /** Rejects everything still waiting (closed, signed out). */
  failAll(error: RoomzError): void {
    for (const entry of this.entries.splice(0)) entry.reject(error);
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
    done();
  }
}
