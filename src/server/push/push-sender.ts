/**
 * Sends the Web Push of each stored message (PROTOCOL.md section 8) from the instance
 * that accepted it: one push per subscription of the user, except those registered by
 * the session that sent it; RFC 8291 encryption and RFC 8292 VAPID by the `web-push`
 * library, the request sent with fetch (web-push's own sender only speaks https.request,
 * see FINDINGS.md) without following redirects. Everything runs on a bounded work queue
 * after the ack: a slow or hanging push service never delays an ack or a delivery, and
 * costs at most the queue's memory; what does not fit is dropped and counted.
 */
import webPush from "web-push";
import type { ControlEvent, PushSubscriptionRecord, Store } from "../../engine";
import { PUSH_TTL_SECONDS, pushPayload, type ChatMessage } from "../../protocol";
import { log } from "../../log";
import type { Config } from "../config";
import type { Metrics } from "../metrics";
import { checkEndpoint } from "./endpoint-policy";
import { VapidHeaders } from "./vapid-headers";
import { WorkQueue } from "./work-queue";

/** Pushes (and per-message look-ups) waiting; past this they are dropped. */
const QUEUE_LIMIT = 2_000;
/** Requests to push services in flight at once. */
const CONCURRENCY = 8;
/** A push service that has not answered by then has failed this push. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Users remembered as having no subscription; past this many the memory starts over. */
const WITHOUT_SUBSCRIPTIONS_LIMIT = 100_000;

export class PushSender {
  private queue = new WorkQueue(QUEUE_LIMIT, CONCURRENCY, "push");
  /** Aborts the requests in flight at shutdown, so a hanging push service can't hold the process. */
  private stopping = new AbortController();
  private vapidHeaders: VapidHeaders;
  /**
   * Users whose subscriptions were read and found empty. Most users have none, and a
   * store read per message (a Redis round trip with REDIS_URL) cost S1 a third of its
   * rate (bench/results/findings.md); a change on any instance forgets the user here
   * (`push_subscriptions_changed`), so a new subscription is pushed to at once.
   */
  private withoutSubscriptions = new Set<string>();
  /** Counts changes heard, so a read that raced one is not remembered. */
  private changesHeard = 0;

  constructor(
    private config: Config,
    private store: Store,
    private metrics: Metrics,
  ) {
    this.vapidHeaders = new VapidHeaders(config.vapid);
  }

  /**
   * A message was stored and acknowledged on this instance: queue its pushes. Never
   * waits. `senderJti` is the sending session's (null for senders without one).
   */
  messageStored(email: string, message: ChatMessage, senderJti: string | null): void {
    if (this.withoutSubscriptions.has(email)) return;
    const body = JSON.stringify(pushPayload(message, message.files.map((file) => file.name)));
    if (!this.queue.offer(() => this.fanOut(email, body, senderJti))) this.metrics.pushed("dropped");
  }

  /** Every instance hears of a subscription saved or deleted anywhere (`subscriptionsChanged`). */
  control(event: ControlEvent): void {
    if (event.kind !== "push_subscriptions_changed") return;
    this.changesHeard++;
    this.withoutSubscriptions.delete(event.email);
  }

  /** Tells every instance, this one included, that the user's subscriptions changed. */
  async subscriptionsChanged(email: string): Promise<void> {
    const event: ControlEvent = { kind: "push_subscriptions_changed", email };
    this.control(event); // at once here, before the engine's round trip
    await this.store.engine.control(event);
  }

  private rememberWithout(email: string): void {
    if (this.withoutSubscriptions.size >= WITHOUT_SUBSCRIPTIONS_LIMIT) this.withoutSubscriptions.clear();
    this.withoutSubscriptions.add(email);
  }

  /** Stops taking work; what was waiting is dropped (and counted), what was in flight is cut. */
  close(): void {
    this.stopping.abort();
    for (let i = this.queue.close(); i > 0; i--) this.metrics.pushed("dropped");
  }

  private async fanOut(email: string, body: string, senderJti: string | null): Promise<void> {
    const changesBefore = this.changesHeard;
    const subscriptions = await this.store.push.pushSubscriptions(email);
    if (subscriptions.length === 0) {
      if (this.changesHeard === changesBefore) this.rememberWithout(email);
      return;
    }
    const version = await this.store.auth.sessionVersion(email);
    for (const subscription of subscriptions) {
      if (subscription.jti === senderJti) continue; // the sending browser already shows it
      if (!this.queue.offer(() => this.push(email, subscription, body, version))) this.metrics.pushed("dropped");
    }
  }

  /** A subscription lives as long as the session that registered it. */
  private async sessionLive(subscription: PushSubscriptionRecord, version: number): Promise<boolean> {
    if (subscription.sessionExpiresAt <= Date.now() || subscription.sessionVersion !== version) return false;
    return !(await this.store.auth.isRevoked(subscription.jti));
  }

  private async push(email: string, subscription: PushSubscriptionRecord, body: string, version: number): Promise<void> {
    if (!(await this.sessionLive(subscription, version))) {
      await this.store.push.deletePushSubscription(email, subscription.endpoint);
      return this.metrics.pushed("ended");
    }
    const verdict = await checkEndpoint(subscription.endpoint, this.config.pushEndpointAllow);
    if (!verdict.ok) {
      log.warn(`push: not sent to ${originOf(subscription.endpoint)}: ${verdict.reason}`);
      return this.metrics.pushed("refused");
    }
    const status = await this.send(subscription, body, verdict.url.origin);
    if (status >= 200 && status < 300) return this.metrics.pushed("sent");
    if (status === 404 || status === 410) {
      await this.store.push.deletePushSubscription(email, subscription.endpoint);
      return this.metrics.pushed("gone");
    }
    log.warn(`push: ${verdict.url.origin} answered ${status === 0 ? "nothing in time" : status}`);
    this.metrics.pushed("failed");
  }

  /** The push service's status, or 0 when it could not be reached or did not answer in time. */
  private async send(subscription: PushSubscriptionRecord, body: string, origin: string): Promise<number> {
    const details = webPush.generateRequestDetails({ endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } }, body, {
      headers: { Authorization: this.vapidHeaders.authorization(origin) },
      TTL: PUSH_TTL_SECONDS,
      urgency: "normal",
      contentEncoding: "aes128gcm",
    });
    const headers = Object.fromEntries(Object.entries(details.headers).map(([name, value]) => [name, String(value)]));
    try {
      const response = await fetch(details.endpoint, {
        method: details.method,
        headers,
        body: details.body === null ? null : new Uint8Array(details.body),
        redirect: "manual", // a redirect could point anywhere, private addresses included
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
      await response.body?.cancel();
      return response.status;
    } catch {
      return 0;
    }
  }
}

/** The endpoint's origin: its path is the subscription's secret and never logged. */
function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return "(not a URL)";
  }
}
