/**
 * The client_msg_ids of the last DEDUP_WINDOW_MS, per channel, with the rowid of the
 * message each one stored: the embedded engine's de-duplication, in memory instead of a
 * random-key index that every append would have written to (issue 14). Entries leave in
 * the order they came, once older than the window.
 */

/** The contract asks for at least 24 hours; the hour more absorbs clock steps. */
export const DEDUP_WINDOW_MS = 25 * 3_600_000;

export class RecentIds {
  private byChannel = new Map<number, Map<string, number>>();
  /** Insertion order, for expiry: entries from `head` on are live. */
  private channels: number[] = [];
  private ids: string[] = [];
  private times: number[] = [];
  private head = 0;

  get(channelId: number, clientMsgId: string): number | undefined {
    return this.byChannel.get(channelId)?.get(clientMsgId);
  }

  add(channelId: number, clientMsgId: string, rowid: number, at: number): void {
    let ids = this.byChannel.get(channelId);
    if (!ids) this.byChannel.set(channelId, (ids = new Map()));
    ids.set(clientMsgId, rowid);
    this.channels.push(channelId);
    this.ids.push(clientMsgId);
    this.times.push(at);
  }

  /** Takes back an id whose transaction rolled back. */
  remove(channelId: number, clientMsgId: string): void {
    this.byChannel.get(channelId)?.delete(clientMsgId);
  }

  expire(now: number): void {
    const cutoff = now - DEDUP_WINDOW_MS;
    while (this.head < this.times.length && this.times[this.head] < cutoff) {
      const ids = this.byChannel.get(this.channels[this.head]);
      ids?.delete(this.ids[this.head]);
      if (ids?.size === 0) this.byChannel.delete(this.channels[this.head]);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.channels = this.channels.slice(this.head);
      this.ids = this.ids.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}
