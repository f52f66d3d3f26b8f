/** Reading what a stranger sends: bounded bodies, the Origin rule, the client address. */
import { isIPv6 } from "node:net";
import { utf8Text } from "../protocol/text";
import type { Config } from "./config";

export const MAX_BODY_BYTES = 16 * 1024;

export class BodyTooLarge extends Error {}
export class BodyNotUtf8 extends Error {}

/** Reads the body as text, refusing past 16 KiB whatever Content-Length says (BodyTooLarge) and bytes that are not UTF-8 (BodyNotUtf8). */
export async function readBody(request: Request): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new BodyTooLarge();
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  const text = utf8Text(Buffer.concat(chunks));
  if (text === null) throw new BodyNotUtf8();
  return text;
}

function normalisedOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return `${url.protocol}//${url.host}`; // URL drops default ports, so :80 and :443 compare equal
  } catch {
    return null;
  }
}

/** The server's own origin: PUBLIC_URL's, else http:// plus the request's Host. */
function ownOrigin(config: Config, request: Request): string | null {
  if (config.publicUrl) return normalisedOrigin(config.publicUrl);
  const host = request.headers.get("host");
  return host ? normalisedOrigin(`http://${host}`) : null;
}

/** True when the request has no Origin header or it is the server's own. */
export function originAllowed(config: Config, request: Request): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  // The confirm page is sent with `Referrer-Policy: no-referrer`, so browsers post its
  // form with `Origin: null`; Sec-Fetch-Site, which pages cannot forge, says it is ours.
  if (origin === "null") return request.headers.get("sec-fetch-site") === "same-origin";
  const given = normalisedOrigin(origin);
  return given !== null && given === ownOrigin(config, request);
}

/** The client address: the socket's peer, or with TRUST_PROXY the rightmost X-Forwarded-For entry. */
export function clientAddress(config: Config, request: Request, peer: string): string {
  if (!config.trustProxy) return peer;
  const forwarded = request.headers.get("x-forwarded-for");
  const rightmost = forwarded?.split(",").pop()?.trim();
  return rightmost || peer;
}

/**
 * The key a per-client rate limit counts under: an IPv4 address as it is, an IPv6 address
 * by its /64 (one host usually holds a whole /64, so per address it would have no limit).
 */
export function rateLimitKey(address: string): string {
  const ip = unmappedIpv4(address.replace(/%.*$/, "").toLowerCase()); // no zone id
  if (!isIPv6(ip)) return ip;
  const [head, tail] = ip.split("::"); // tail is undefined when nothing is elided
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) as the IPv4 address it is; any other as given. */
export function unmappedIpv4(address: string): string {
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
}
