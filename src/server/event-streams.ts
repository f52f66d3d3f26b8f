/**
 * This instance's open event streams (`GET /api/stream`): their deliveries, heartbeats and
 * ends. A stream joins the engine like a socket does (one join, one replay rule), as a
 * listener; stored messages reach it from the same engine delivery as the sockets'.
 * Sessions and tokens ending, addresses leaving the allow-list and expiry close streams
 * exactly as they close sockets.
 */
import type { ControlEvent, Engine } from "../engine";
import { CLOSE, emailOf, type ReplayData } from "../protocol";
import { ConnectionRegistry } from "./connection-registry";
import { EventStream, STREAM_RETRY_MS, messageEvent, messageEventOfFrame } from "./event-stream";
import { describeError, log } from "../log";
import type { Metrics } from "./metrics";
import type { Principal, RequestAuth } from "./request-auth";
import { tokenCredential } from "./request-auth";

/** A comment line this often keeps proxies from closing an idle stream (PROTOCOL.md section 6). */
export const STREAM_HEARTBEAT_MS = 25_000;
const EXPIRY_SWEEP_MS = 1_000;

export type StreamOpen = { ok: true; stream: EventStream } | { ok: false; refused: Awaited<ReturnType<RequestAuth["recheck"]>> & { ok: false } };

export class EventStreams {
  readonly registry = new ConnectionRegistry<EventStream>();
  private byChannel = new Map<string, Set<EventStream>>();
  private heartbeat: Timer;
  private expirySweep: Timer;

  constructor(
    private engine: Engine,
    private auth: RequestAuth,
    private metrics: Metrics,
    private sendBufferBytes: number,
    heartbeatMs = STREAM_HEARTBEAT_MS,
  ) {
    // One timer for every stream, not one each.
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
    this.heartbeat.unref();
    this.expirySweep = setInterval(() => this.registry.closeExpired(Date.now(), CLOSE.sessionEnded, "expired"), EXPIRY_SWEEP_MS);
    this.expirySweep.unref();
  }

  /**
   * Registers the stream (so every end reaches it from now on), checks its credential
   * again, then joins: the replay (if `since`) is written at the exact start of the live
   * messages. Throws EngineUnavailable when the store can't be reached.
   */
  async open(principal: Principal, since: number | null, epoch: string | null): Promise<StreamOpen> {
    const stream = new EventStream(principal, {
      sendBufferBytes: this.sendBufferBytes,
      ended: (ended) => this.ended(ended),
      tooSlow: () => this.metrics.slowConsumersDropped++,
    });
    stream.write(`retry: ${STREAM_RETRY_MS}\n\n`);
    this.registry.add(stream);
    try {
      const check = await this.auth.recheck(stream.options);
      if (!check.ok) {
        stream.close();
        return { ok: false, refused: check };
      }
      await this.engine.join(stream, { since, epoch }, (joined) => {
        if (stream.closing) return;
        let set = this.byChannel.get(stream.channel);
        if (!set) this.byChannel.set(stream.channel, (set = new Set()));
        set.add(stream);
        if (joined.replay) this.replay(stream, joined.replay, joined.epoch, since);
      });
    } catch (error) {
      stream.close();
      throw error;
    }
    if (stream.closing) this.leave(stream);
    return { ok: true, stream };
  }

  /** A stored message, from the engine: to every stream of its channel here. */
  deliver(channel: string, frame: string): void {
    const streams = this.byChannel.get(channel);
    if (!streams) return;
    const event = messageEventOfFrame(frame);
    if (event === null) return;
    for (const stream of streams) stream.write(event);
  }

  control(event: ControlEvent): void {
    if (event.kind === "session_revoked") this.registry.closeSession(event.jti, CLOSE.sessionEnded, "logged out");
    else if (event.kind === "token_revoked") this.registry.closeSession(tokenCredential(event.tokenId), CLOSE.sessionEnded, "token revoked");
    else if (event.kind === "user_sessions_ended") this.registry.closeUserSessions(event.email, CLOSE.sessionEnded, "logged out everywhere");
    // The client resumes with Last-Event-ID, above the store's tip now, so it gets a reset.
    else if (event.kind === "channel_rewound") this.registry.closeUser(emailOf(event.channel), CLOSE.goingAway, "message store restored");
  }

  closeAll(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.expirySweep);
    for (const stream of [...this.registry.all()]) stream.close();
  }

  /** `reset` first when the client's messages are from another store; `gap` when older ones were left out. */
  private replay(stream: EventStream, replay: ReplayData, epoch: string, since: number | null) {
    let text = "";
    if (replay.reset) text += `event: reset\ndata: ${JSON.stringify({ epoch })}\n\n`;
    else if (!replay.complete && replay.messages.length > 0)
      text += `event: gap\ndata: ${JSON.stringify({ after: since, before: replay.messages[0].seq })}\n\n`;
    for (const message of replay.messages) text += messageEvent(message);
    if (text !== "") stream.write(text, true);
  }

  private beat() {
    for (const stream of this.registry.all()) stream.write(": keepalive\n\n");
  }

  private ended(stream: EventStream) {
    this.registry.remove(stream);
    const set = this.byChannel.get(stream.channel);
    if (set?.delete(stream) && set.size === 0) this.byChannel.delete(stream.channel);
    this.leave(stream);
  }

  private leave(stream: EventStream) {
    this.engine.leave(stream).catch((error) => log.warn(`a stream's leave failed: ${describeError(error)}`));
  }
}
