/**
 * The loops over this instance's connections: a WebSocket ping to each every 25 s, sent
 * a slice each second (one silent for 60 s is cut), sessions ending within a second of
 * their `exp`, and the closing of them all at shutdown.
 */
import { CLOSE } from "../protocol";
import type { Connection } from "./connection";
import type { ConnectionRegistry } from "./connection-registry";

/**
 * Pings go out a slice each second, not to every connection at once (4,000 pings took
 * 4 ms). A slice every 100 ms cut S3's p99 a little at 500 msg/s but raised p99 at
 * 10,000 msg/s by half (bench/results/findings.md), so the tick stays at a second.
 */
const PING_TICK_MS = 1_000;
const SILENT_LIMIT_MS = 60_000;
const EXPIRY_SWEEP_MS = 1_000;
/** After the 1001s: time for clients to answer, so their sockets end cleanly, not reset. */
const CLOSE_LINGER_MS = 100;

export class ConnectionLoops {
  private keepalive: Timer;
  private expirySweep: Timer;
  private pingCursor: Iterator<Connection> | null = null;
  /** Pings due but not yet sent: a fraction of one per tick when there are few connections. */
  private pingsOwed = 0;

  /** `pingEveryMs`: how often each connection is pinged (25 s). */
  constructor(
    private registry: ConnectionRegistry,
    private pingEveryMs: number,
  ) {
    this.keepalive = setInterval(() => this.pingSlice(), PING_TICK_MS);
    this.keepalive.unref();
    // One timer reading only the seconds that have passed (see ConnectionRegistry), not one per connection.
    this.expirySweep = setInterval(() => registry.closeExpired(Date.now(), CLOSE.sessionEnded, "session expired"), EXPIRY_SWEEP_MS);
    this.expirySweep.unref();
  }

  /** The next share of the connections, so that each is pinged about every `pingEveryMs`. */
  private pingSlice() {
    const now = Date.now();
    this.pingsOwed += (this.registry.size * PING_TICK_MS) / this.pingEveryMs;
    for (; this.pingsOwed >= 1; this.pingsOwed--) {
      let next = this.pingCursor?.next();
      if (!next || next.done) {
        // A round ends: the next starts at once, so that a round takes exactly its ticks.
        this.pingCursor = this.registry.all()[Symbol.iterator]();
        next = this.pingCursor.next();
        if (next.done) {
          this.pingsOwed = 0;
          return;
        }
      }
      const connection = next.value;
      if (now - connection.lastHeard > SILENT_LIMIT_MS) connection.ws.terminate();
      else connection.ws.ping();
    }
  }

  /**
   * Closes every connection with 1001 (after the engine has drained). Bun reports a socket
   * closed the moment `close()` is called, even with data still queued behind the close
   * frame, and that data dies with the process: so each socket is closed once its own
   * queue is empty (the rest after `limitMs`), and then the clients get a moment to
   * answer. Resolves false when some queue did not empty in time.
   */
  async closeAll(limitMs: number): Promise<boolean> {
    clearInterval(this.keepalive);
    clearInterval(this.expirySweep);
    const deadline = Date.now() + limitMs;
    const hadConnections = this.registry.size > 0;
    let left = [...this.registry.all()];
    for (;;) {
      left = left.filter((connection) => {
        if (connection.ws.getBufferedAmount() > 0) return true;
        connection.close(CLOSE.goingAway, "server restarting");
        return false;
      });
      if (left.length === 0 || Date.now() >= deadline) break;
      await Bun.sleep(10);
    }
    for (const connection of left) connection.close(CLOSE.goingAway, "server restarting");
    if (hadConnections) await Bun.sleep(Math.min(CLOSE_LINGER_MS, Math.max(0, deadline - Date.now())));
    return left.length === 0;
  }
}
