/**
 * The WebSocket upgrade request (PROTOCOL.md section 2): its URL and headers for every
 * client of the tests, and `rawUpgrade`, the request written by hand over TCP to read a
 * refusal's status, headers and problem document (a WebSocket object can't see them).
 */
import { rawHttp, type RawHttpAnswer } from "./tcp";

export interface ConnectOptions {
  /** The session JWT, sent as `Authorization: Bearer`. */
  jwt?: string;
  origin?: string;
  cookie?: string;
  since?: number | string;
  epoch?: string;
  /** Extra headers (win over the ones above). */
  headers?: Record<string, string>;
  /** Milliseconds to wait for `open` (default 10 s). */
  timeoutMs?: number;
}

export function wsUrlWith(base: string, options: Pick<ConnectOptions, "since" | "epoch">): string {
  const url = new URL(base);
  if (options.since !== undefined) url.searchParams.set("since", String(options.since));
  if (options.epoch !== undefined) url.searchParams.set("epoch", options.epoch);
  return url.toString();
}

export function upgradeHeaders(options: ConnectOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.jwt !== undefined) headers.authorization = `Bearer ${options.jwt}`;
  if (options.origin !== undefined) headers.origin = options.origin;
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  return { ...headers, ...options.headers };
}

/** The upgrade request as it goes on the wire, with a fresh Sec-WebSocket-Key. */
export function upgradeRequest(url: string, options: ConnectOptions): string {
  const u = new URL(wsUrlWith(url, options));
  const headers: Record<string, string> = {
    host: u.host,
    connection: "Upgrade",
    upgrade: "websocket",
    "sec-websocket-version": "13",
    "sec-websocket-key": Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64"),
    ...upgradeHeaders(options),
  };
  return `GET ${u.pathname}${u.search} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
}

/**
 * Sends the upgrade request by hand and reads the answer: for a refusal, the status,
 * headers and body; for a 101, status 101 and no body (the socket is then closed).
 */
export async function rawUpgrade(url: string, options: ConnectOptions = {}): Promise<RawHttpAnswer> {
  const u = new URL(url);
  const answer = await rawHttp(Number(u.port), upgradeRequest(url, options), 10_000, u.hostname);
  if (answer.status === 0) throw new Error(`no answer to the upgrade request: ${JSON.stringify(answer.raw.slice(0, 400))}`);
  return answer;
}
