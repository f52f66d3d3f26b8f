/**
 * One WebSocket connection: who it belongs to, its display name, its message rate
 * window, and the checks on its send buffer. The engine knows it as a Member (data only).
 */
import type { ServerWebSocket } from "bun";
import type { Member } from "../engine";
import { CLOSE, channelOf } from "../protocol";

const RATE_WINDOW_MS = 10_000;
/** A slow consumer that never reads its close frame is cut off after this long. */
const CLOSE_GRACE_MS = 5_000;

export interface ConnectionOptions {
  /** The session's version (`ver`), checked again with jti and exp once the socket is registered. */
  sessionVersion: number;
  email: string;
  /** What ends it: the session's jti, or `token:<id>` (request-auth.ts). */
  credential: string;
  expiresAt: number;
  since: number | null;
  epoch: string | null;
  rateLimit: number;
  sendBufferBytes: number;
  metrics: { slowConsumersDropped: number };
}

export class Connection implements Member {
  readonly connectionId = crypto.randomUUID();
  readonly connectedAt = Date.now();
  readonly channel: string;
  displayName: string | null = null;
  ws!: ServerWebSocket<Connection>;
  /** Frames that arrived before the join finished; handled right after it, in order. */
  early: string[] | null = [];
  /**
   * Set while a message with files waits for them to be checked: the connection's later
   * messages wait behind it, so they are stored in the order they were sent.
   */
  messageQueue: Promise<void> | null = null;
  lastHeard = Date.now();
  closing = false;
  /** True while `corked` runs: its own check after the uncork stands for the ones inside. */
  corkedNow = false;
  /** Bytes of replies the client asked for (replays, history pages) allowed on top of the limit until they drain. */
  private grace = 0;
  private rateTimes: number[] = [];
  private rateNext = 0;

  /** `displayName`: a token's name, shown until the connection sets its own. */
  constructor(readonly options: ConnectionOptions, displayName: string | null = null) {
    this.channel = channelOf(options.email);
    this.displayName = displayName;
  }

  get email() {
    return this.options.email;
  }

  subscribe(topic: string): void {
    this.ws.subscribe(topic);
  }

  /** Every frame counts toward the send buffer, replies included ([v2]). */
  send(text: string): void {
    if (this.closing) return;
    this.ws.sendText(text);
    if (!this.corkedNow) this.checkBackpressure();
  }

  /**
   * Sends a reply the client asked for. A replay of long messages can be larger than the
   * send buffer limit by itself; a client reading it promptly is not falling behind.
   */
  sendRequested(text: string): void {
    if (this.closing) return;
    this.ws.sendText(text);
    this.grace = Math.max(this.grace, Buffer.byteLength(text));
    this.checkBackpressure();
  }

  /**
   * A stored message for this connection and, through the channel's topic, for the user's
   * other sockets here (`ws.publish` skips its own socket: `publishToSelf` is off). Before
   * a direct send uWS writes out this socket's queued topic frames, so the order holds.
   */
  sendAndPublish(text: string): void {
    this.ws.sendText(text);
    this.ws.publish(this.channel, text);
  }

  /**
   * Runs `writes` with the socket corked: what they send it leaves in one write. The send
   * buffer is checked once, after the uncork: only then does it hold what was written.
   */
  corked(writes: () => void): void {
    this.corkedNow = true;
    try {
      this.ws.cork(writes);
    } finally {
      this.corkedNow = false;
    }
    this.checkBackpressure();
  }

  /** Bun calls this once the socket's buffered data was written out. */
  drained(): void {
    if (this.ws.getBufferedAmount() <= this.options.sendBufferBytes) this.grace = 0;
  }

  checkBackpressure(): void {
    if (this.closing || this.ws.getBufferedAmount() <= this.options.sendBufferBytes + this.grace) return;
    this.options.metrics.slowConsumersDropped++;
    this.close(CLOSE.tooSlow, "too slow to keep up");
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.ws.close(code, reason);
  }

  /**
   * Counts a `message` frame in the sliding 10 s window; returns 0 when it is within the
   * limit, else the milliseconds until one more would be.
   */
  takeMessageSlot(now: number): number {
    const limit = this.options.rateLimit;
    if (this.rateTimes.length < limit) {
      this.rateTimes.push(now);
      return 0;
    }
    const oldest = this.rateTimes[this.rateNext];
    if (now - oldest < RATE_WINDOW_MS) return oldest + RATE_WINDOW_MS - now;
    this.rateTimes[this.rateNext] = now;
    this.rateNext = (this.rateNext + 1) % limit;
    return 0;
  }
}
