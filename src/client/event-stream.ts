/**
 * Following `GET /api/stream` (PROTOCOL.md section 6) outside a browser: the messages of
 * the channel as they are stored, over plain HTTP, with a token of scope `read` (which
 * can't open a WebSocket). Reconnects with backoff and `Last-Event-ID`, so nothing is
 * missed or repeated across drops; stops for good on a refusal (401, 403).
 */
import type { ChatMessage } from "../protocol/frames.js";
import { Backoff } from "./backoff.js";
import { errorFromResponse, RoomzError, unreachable } from "./errors.js";
import type { ReconnectOptions } from "./types.js";
import { httpUrl, normalizeServer } from "./urls.js";

export interface FollowOptions {
  server: string;
  /** An access token with scope `read` or `full`, or a session JWT. */
  credential: string;
  /** Start after this seq (0: from the start); null or absent: only new messages. */
  since?: number | null;
  onMessage: (message: ChatMessage) => void;
  /** The store was reset or replaced: what was held is stale; the newest messages follow. */
  onReset?: (epoch: string) => void;
  /** The stream is open (again): what is stored from now on arrives. */
  onConnected?: () => void;
  /** A drop, with the wait before the next attempt. */
  onRetry?: (reason: string, retryInMs: number) => void;
  signal?: AbortSignal;
  reconnect?: ReconnectOptions;
}

/** Follows the stream until `signal` aborts (resolves null) or the server refuses (resolves that error). */
export async function followStream(options: FollowOptions): Promise<RoomzError | null> {
  const server = normalizeServer(options.server);
  const backoff = new Backoff(options.reconnect?.baseMs, options.reconnect?.maxMs);
  let lastId: string | null = options.since === null || options.since === undefined ? null : String(options.since);
  while (!options.signal?.aborted) {
    let reason: string;
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${options.credential}`, accept: "text/event-stream" };
      if (lastId !== null) headers["last-event-id"] = lastId;
      const res = await fetch(httpUrl(server, "/api/stream"), { headers, signal: options.signal });
      if (!res.ok) {
        const error = await errorFromResponse(res);
        if (res.status === 401 || res.status === 403) return error;
        reason = error.message;
      } else {
        options.onConnected?.();
        await readEvents(res.body!, (event) => {
          backoff.reset();
          if (event.type === "message") {
            lastId = event.id ?? lastId;
            options.onMessage(JSON.parse(event.data) as ChatMessage);
          } else if (event.type === "reset") options.onReset?.((JSON.parse(event.data) as { epoch: string }).epoch);
        });
        reason = "the stream ended";
      }
    } catch (error) {
      if (options.signal?.aborted) break;
      reason = unreachable(server, error).message;
    }
    const wait = backoff.next();
    options.onRetry?.(reason, wait);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      options.signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
  return null;
}

interface StreamEvent {
  type: string;
  id: string | null;
  data: string;
}

/** Parses Server-Sent Events (comments and `retry:` skipped) until the body ends. */
async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (event: StreamEvent) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, "\n");
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event: StreamEvent = { type: "message", id: null, data: "" };
      let fields = 0;
      for (const line of buffer.slice(0, end).split("\n")) {
        const colon = line.indexOf(":");
        if (colon === 0) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") (event.type = value), fields++;
        else if (field === "id") (event.id = value), fields++;
        else if (field === "data") (event.data += (fields > 0 && event.data ? "\n" : "") + value), fields++;
      }
      buffer = buffer.slice(end + 2);
      if (fields > 0 && event.data !== "") onEvent(event);
    }
  }
}
