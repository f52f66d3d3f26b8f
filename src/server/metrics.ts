/**
 * Counters, gauges and the ack histogram of this instance, in the Prometheus text format
 * (0.0.4), served only by the METRICS_LISTEN listener (metrics-listener.ts). Every
 * labelled series exists from the start, at 0. Names and labels: docs/protocol.md.
 */
import { family, processMetrics } from "./process-metrics";

/** Every reason a sign-in or session is refused for (docs/protocol.md, "Sessions"). */
export const AUTH_FAILURE_REASONS = ["missing", "invalid", "expired", "revoked", "ended", "not_allowed", "bad_origin", "invalid_token", "expired_token", "token", "insufficient_scope"];
/** What answered `unavailable`: a reply to a WebSocket frame, a /ws upgrade, an HTTP request. */
export type UnavailableWhat = "frame" | "upgrade" | "http";
/** Which limit refused with `rate_limited`. */
export type RateLimit = "message" | "magic_link" | "connections";
/** What became of one Web Push (docs/protocol.md, "Web Push"). */
export type PushResult = "sent" | "gone" | "ended" | "refused" | "failed" | "dropped";
/** Upper bounds of the ack histogram's buckets, in seconds. */
const ACK_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface Gauges {
  connections: number;
  users: number;
  /** Whether the Redis engine can reach Redis; null with the embedded engine. */
  redisConnected: boolean | null;
}

export class Metrics {
  messagesAccepted = 0;
  messagesDelivered = 0;
  slowConsumersDropped = 0;
  magicLinks = { requested: 0, sent: 0, refused: 0, failed: 0 };
  private authFailures = new Map<string, number>(AUTH_FAILURE_REASONS.map((reason) => [reason, 0]));
  private unavailables: Record<UnavailableWhat, number> = { frame: 0, upgrade: 0, http: 0 };
  private rateLimits: Record<RateLimit, number> = { message: 0, magic_link: 0, connections: 0 };
  private pushes: Record<PushResult, number> = { sent: 0, gone: 0, ended: 0, refused: 0, failed: 0, dropped: 0 };
  /** Per bucket (not cumulative), plus one for over the last bound. */
  private ackBuckets = new Array<number>(ACK_BUCKETS.length + 1).fill(0);
  private ackSum = 0;
  private ackCount = 0;

  constructor(private gauges: () => Gauges) {}

  authFailure(reason: string): void {
    this.authFailures.set(reason, (this.authFailures.get(reason) ?? 0) + 1);
  }

  unavailable(what: UnavailableWhat): void {
    this.unavailables[what]++;
  }

  rateLimited(limit: RateLimit): void {
    this.rateLimits[limit]++;
  }

  pushed(result: PushResult): void {
    this.pushes[result]++;
  }

  /** An `error` reply to a WebSocket frame: `unavailable` and `rate_limited` are counted. */
  frameRefused(code: string): void {
    if (code === "unavailable") this.unavailables.frame++;
    else if (code === "rate_limited") this.rateLimits.message++;
  }

  /** A `message` frame acknowledged `ms` milliseconds after it was handled. */
  observeAck(ms: number): void {
    const seconds = ms / 1000;
    let i = 0;
    while (i < ACK_BUCKETS.length && seconds > ACK_BUCKETS[i]) i++;
    this.ackBuckets[i]++;
    this.ackSum += seconds;
    this.ackCount++;
  }

  /** An upgrade refused before upgrading, by the status of its problem document. */
  upgradeRefused(status: number): void {
    if (status === 503) this.unavailables.upgrade++;
    else if (status === 429) this.rateLimits.connections++;
  }

  async render(): Promise<string> {
    const { connections, users, redisConnected } = this.gauges();
    let cumulative = 0;
    const buckets: Array<[string, number]> = ACK_BUCKETS.map((bound, i) => [`_bucket{le="${bound}"}`, (cumulative += this.ackBuckets[i])]);
    const lines = [
      ...family("roomz_connections_open", "gauge", "Open WebSocket connections on this instance.", [["", connections]]),
      ...family("roomz_users_connected", "gauge", "Users with at least one open connection on this instance.", [["", users]]),
      ...family("roomz_messages_accepted_total", "counter", "Messages stored and acknowledged.", [["", this.messagesAccepted]]),
      ...family("roomz_messages_delivered_total", "counter", "Message frames handed to connections.", [["", this.messagesDelivered]]),
      ...family("roomz_message_ack_seconds", "histogram", "Time from handling a message frame to sending its ack, in seconds.", [
        ...buckets,
        ['_bucket{le="+Inf"}', this.ackCount],
        ["_sum", this.ackSum],
        ["_count", this.ackCount],
      ]),
      ...family("roomz_magic_links_total", "counter", "Magic links by outcome.", labelled("result", this.magicLinks)),
      ...family("roomz_auth_failures_total", "counter", "Refused sign-ins and sessions by reason.", labelled("reason", Object.fromEntries(this.authFailures))),
      ...family("roomz_unavailable_total", "counter", "Requests answered `unavailable` (store unreachable or failing, or shutting down).", labelled("what", this.unavailables)),
      ...family("roomz_rate_limited_total", "counter", "Requests refused with `rate_limited`, by limit.", labelled("limit", this.rateLimits)),
      ...family("roomz_push_total", "counter", "Web Pushes by outcome (sent, gone, ended, refused, failed, dropped).", labelled("result", this.pushes)),
      ...family("roomz_slow_consumers_dropped_total", "counter", "Connections closed (4008) for not keeping up.", [["", this.slowConsumersDropped]]),
      ...(redisConnected === null ? [] : family("roomz_redis_connected", "gauge", "1 while this instance's link to Redis is up, else 0.", [["", redisConnected ? 1 : 0]])),
      ...(await processMetrics()),
    ];
    return lines.join("\n") + "\n";
  }
}

function labelled(label: string, counts: Record<string, number>): Array<[string, number]> {
  return Object.entries(counts).map(([value, n]) => [`{${label}="${value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"}`, n]);
}
