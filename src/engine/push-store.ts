/**
 * Web Push subscriptions (PROTOCOL.md section 8), kept by the engine so that with Redis
 * every instance sees every device's subscription. Each is one user's, keyed by its
 * endpoint, and remembers the session that registered it: a push is never sent to the
 * session that sent the message, and a subscription lives only as long as its session.
 */
export interface PushSubscriptionRecord {
  /** The push service's URL for this browser; unique per user. */
  endpoint: string;
  /** The browser's ECDH P-256 public key and auth secret, base64url (RFC 8291). */
  p256dh: string;
  auth: string;
  /** The name the device gave itself. */
  device: string;
  /** The registering session: its jti, version and expiry (ms). */
  jti: string;
  sessionVersion: number;
  sessionExpiresAt: number;
  /** When it was registered (ms). */
  createdAt: number;
}

export interface PushStore {
  /**
   * Stores a subscription, replacing the user's one with the same endpoint (the same
   * browser registering again: new keys, name or session). Atomic per user: false, and
   * nothing stored, when the user already holds `max` other subscriptions.
   */
  savePushSubscription(email: string, record: PushSubscriptionRecord, max: number): Promise<boolean>;
  /** Every subscription of the user, oldest first. */
  pushSubscriptions(email: string): Promise<PushSubscriptionRecord[]>;
  /** Deletes one; false when the user had none with this endpoint. */
  deletePushSubscription(email: string, endpoint: string): Promise<boolean>;
}
