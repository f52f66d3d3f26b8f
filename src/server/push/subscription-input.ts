/**
 * Validation, once, of what a browser sends to register or drop a push subscription
 * (PROTOCOL.md section 8): the PushSubscription JSON (`endpoint`, `keys.p256dh`,
 * `keys.auth`) and the device's name. Whether the endpoint may be reached is
 * endpoint-policy.ts's question.
 */
import { PUSH_DEVICE_NAME_MAX, codePoints, hasControlCharacters, trimWhiteSpace } from "../../protocol";

export interface SubscriptionInput {
  endpoint: string;
  p256dh: string;
  auth: string;
  device: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; detail: string };

const SHAPE = 'Send {"subscription": <the browser\'s PushSubscription JSON>, "device": "<a name for this device>"}.';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** base64url (padding allowed) decoding to exactly `bytes` bytes, the first one `first` when given. */
function isKey(value: unknown, bytes: number, first?: number): value is string {
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) return false;
  const decoded = Buffer.from(value, "base64url");
  return decoded.length === bytes && (first === undefined || decoded[0] === first);
}

export function parseSubscription(body: unknown): Parsed<SubscriptionInput> {
  if (!isObject(body) || !isObject(body.subscription)) return { ok: false, detail: SHAPE };
  const { endpoint, keys } = body.subscription;
  if (typeof endpoint !== "string" || endpoint === "") return { ok: false, detail: `The subscription has no endpoint. ${SHAPE}` };
  if (!isObject(keys) || !isKey(keys.p256dh, 65, 0x04) || !isKey(keys.auth, 16))
    return { ok: false, detail: "The subscription's keys must be p256dh (a P-256 public key) and auth (16 bytes), base64url, as the browser gives them." };
  if (typeof body.device !== "string") return { ok: false, detail: `The device needs a name. ${SHAPE}` };
  const device = trimWhiteSpace(body.device);
  if (device === "" || codePoints(device) > PUSH_DEVICE_NAME_MAX || hasControlCharacters(device))
    return { ok: false, detail: `The device name must be 1-${PUSH_DEVICE_NAME_MAX} characters without control characters.` };
  return { ok: true, value: { endpoint, p256dh: keys.p256dh.replace(/=+$/, ""), auth: keys.auth.replace(/=+$/, ""), device } };
}

export function parseEndpointOnly(body: unknown): Parsed<string> {
  if (!isObject(body) || typeof body.endpoint !== "string" || body.endpoint === "")
    return { ok: false, detail: 'Send {"endpoint": "<the subscription\'s endpoint>"}.' };
  return { ok: true, value: body.endpoint };
}
