/**
 * Delivers the channel's messages exactly once and in `seq` order. While a connection
 * is syncing (replay, gap fill) incoming messages are held; `release` merges the held
 * ones with what the sync fetched, sorts, and drops every `seq` already delivered.
 */
import type { ChatMessage } from "../protocol/frames.js";

export class Sequencer {
  /** The highest `seq` delivered (or the channel's head when this client started). */
  lastSeq = 0;
  private holding = false;
  private held: ChatMessage[] = [];

  constructor(private deliver: (message: ChatMessage) => void) {}

  hold(): void {
    this.holding = true;
  }

  accept(message: ChatMessage): void {
    if (this.holding) this.held.push(message);
    else this.emit(message);
  }

  release(fetched: ChatMessage[] = []): void {
    const all = [...fetched, ...this.held].sort((a, b) => a.seq - b.seq);
    this.held = [];
    this.holding = false;
    for (const message of all) this.emit(message);
  }

  /** Forgets held messages of a connection that went away; the next replay brings them again. */
  dropHeld(): void {
    this.held = [];
    this.holding = false;
  }

  private emit(message: ChatMessage): void {
    if (typeof message?.seq !== "number" || message.seq <= this.lastSeq) return;
    this.lastSeq = message.seq;
    this.deliver(message);
  }
}
