/**
 * The VAPID `Authorization` header per push service origin (RFC 8292), signed once and
 * reused until an hour before it expires (12 h): signing the ES256 JWT was 60% of a
 * push's CPU (bench/micro/push-request.ts: 267 µs per push signing each time, 107 µs
 * reusing the header). Push services accept a JWT for up to 24 h.
 */
import webPush from "web-push";
import type { Vapid } from "./vapid";

const LIFETIME_S = 12 * 3600;
const RENEW_BEFORE_S = 3600;
/** Origins are few (the browsers' push services); a flood of odd ones only costs re-signing. */
const MAX_ORIGINS = 256;

export class VapidHeaders {
  private byOrigin = new Map<string, { authorization: string; expiresAt: number }>();

  constructor(private vapid: Vapid) {}

  authorization(origin: string): string {
    const now = Math.floor(Date.now() / 1000);
    const held = this.byOrigin.get(origin);
    if (held && held.expiresAt - RENEW_BEFORE_S > now) return held.authorization;
    const expiresAt = now + LIFETIME_S;
    const { publicKey, privateKey, subject } = this.vapid;
    const { Authorization } = webPush.getVapidHeaders(origin, subject, publicKey, privateKey, "aes128gcm", expiresAt);
    if (this.byOrigin.size >= MAX_ORIGINS) this.byOrigin.clear();
    this.byOrigin.set(origin, { authorization: Authorization, expiresAt });
    return Authorization;
  }
}
