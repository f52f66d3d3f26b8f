/**
 * One `GET /api/stream` response (PROTOCOL.md section 6): Server-Sent Events written into
 * a ReadableStream that Bun drains at the pace of the client's socket. Its queue is the
 * stream's unsent data, so SEND_BUFFER_BYTES holds as for a WebSocket: a stream over it is
 * closed (the client resumes with Last-Event-ID), never buffered without bound. The engine
 * knows it as a listener Member: it hears the channel's messages, and is not presence.
 */
import type { Member } from "../engine";
import type { ChatMessage } from "../protocol";
import type { Principal } from "./request-auth";

/** Every engine builds a message frame as this prefix, the message JSON, and "}". */
const FRAME_PREFIX = '{"type":"message","data":';
const SEQ = /"seq":(\d+)/;
/** How long a client's EventSource waits before reconnecting (the `retry:` field). */
export const STREAM_RETRY_MS = 3_000;

const encoder = new TextEncoder();

/** The `message` event of a stored message's frame (as the engine delivers it). */
export function messageEventOfFrame(frame: string): string | null {
  if (!frame.startsWith(FRAME_PREFIX)) return null;
  const json = frame.slice(FRAME_PREFIX.length, -1);
  const seq = SEQ.exec(json)?.[1];
  return seq === undefined ? null : `id: ${seq}\nevent: message\ndata: ${json}\n\n`;
}

export function messageEvent(message: ChatMessage): string {
  return `id: ${message.seq}\nevent: message\ndata: ${JSON.stringify(message)}\n\n`;
}

export interface StreamOptions {
  sendBufferBytes: number;
  /** Called once, when the stream ends for whatever reason. */
  ended: (stream: EventStream) => void;
  /** Called when the stream is closed for being too slow. */
  tooSlow: () => void;
}

export class EventStream implements Member {
  readonly connectionId = `stream-${crypto.randomUUID()}`;
  readonly connectedAt = Date.now();
  readonly listener = true;
  displayName: string | null = null;
  readonly channel: string;
  readonly email: string;
  /** What the registry and the re-check need (see request-auth.ts, Credential). */
  readonly options: { email: string; credential: string; expiresAt: number; sessionVersion: number };
  readonly body: ReadableStream<Uint8Array>;
  closing = false;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Bytes of a replay allowed over the limit until the queue empties (as Connection.sendRequested). */
  private grace = 0;

  constructor(principal: Principal, private streamOptions: StreamOptions) {
    this.channel = principal.channel;
    this.email = principal.email;
    this.options = { email: principal.email, credential: principal.credential, expiresAt: principal.expiresAt, sessionVersion: principal.sessionVersion };
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        // Called when the client has taken everything queued: nothing is behind any more.
        pull: () => {
          this.grace = 0;
        },
        cancel: () => this.ended(),
      },
      { highWaterMark: 0, size: (chunk) => chunk?.byteLength ?? 0 },
    );
  }

  /** Queues text; `requested` for a replay, which may exceed the limit by its own size. */
  write(text: string, requested = false): void {
    if (this.closing) return;
    const bytes = encoder.encode(text);
    this.controller.enqueue(bytes);
    if (requested) this.grace = Math.max(this.grace, bytes.byteLength);
    if (-(this.controller.desiredSize ?? 0) > this.streamOptions.sendBufferBytes + this.grace) this.abort();
  }

  /** Too slow to keep up: drops what is queued and cuts the response (the client resumes). */
  private abort(): void {
    this.streamOptions.tooSlow();
    try {
      // No Error object: Bun prints one (with its stack) when it ends a body whose
      // sending has not started yet, and a slow reader is counted, not a fault.
      this.controller.error();
    } catch {}
    this.ended();
  }

  /** Ends the response (after what is queued). The code and reason are a socket's; a stream just ends. */
  close(_code?: number, _reason?: string): void {
    if (this.closing) return;
    try {
      this.controller.close();
    } catch {}
    this.ended();
  }

  private ended() {
    if (this.closing) return;
    this.closing = true;
    this.streamOptions.ended(this);
  }
}
