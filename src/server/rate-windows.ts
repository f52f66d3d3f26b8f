/**
 * Sliding 10 s windows of `POST /api/messages`, one per token or session (PROTOCOL.md
 * section 6), on this instance: MESSAGE_RATE_LIMIT posts, as a WebSocket connection may
 * send that many `message` frames. Empty windows are forgotten as they age out.
 */
const WINDOW_MS = 10_000;
const SWEEP_EVERY = 1_000;

export class RateWindows {
  private windows = new Map<string, number[]>();
  private takes = 0;

  constructor(private limit: number) {}

  /** Counts one post for `key`; 0 when within the limit, else the milliseconds until one more would be. */
  take(key: string, now: number): number {
    if (++this.takes % SWEEP_EVERY === 0) this.sweep(now);
    let times = this.windows.get(key);
    if (!times) this.windows.set(key, (times = []));
    while (times.length > 0 && now - times[0] >= WINDOW_MS) times.shift();
    if (times.length >= this.limit) return times[0] + WINDOW_MS - now;
    times.push(now);
    return 0;
  }

  private sweep(now: number) {
    for (const [key, times] of this.windows) if (times.length === 0 || now - times[times.length - 1] >= WINDOW_MS) this.windows.delete(key);
  }
}
