/**
 * `SseClient`: reads `GET /api/stream` (PROTOCOL.md section 6) the way an EventSource does,
 * keeping every event and comment line, so tests can wait for messages, resets and
 * heartbeats, and `close()` drops the connection mid-stream.
 */
import { until, Wakeup } from "./wait";

export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | null = null;
  ended = false;
  private readonly arrivals = new Wakeup();
  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {}

  /** Opens the stream; resolves once the answer's head is in (any status: read `response`). `init`: e.g. Bun's `tls`. */
  static async open(url: string, headers: Record<string, string> = {}, init: object = {}): Promise<SseClient> {
    const abort = new AbortController();
    const response = await fetch(url, { ...init, headers, signal: abort.signal });
    const client = new SseClient(response, abort);
    if (response.ok && response.body) void client.read(response.body);
    return client;
  }

  /** The `message` events' data, parsed, in arrival order. */
  messages(): any[] {
    return this.events.filter((e) => e.event === "message").map((e) => JSON.parse(e.data));
  }

  ofType(event: string): SseEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  get lastEventId(): string | null {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].id !== null) return this.events[i].id;
    return null;
  }

  until<T>(check: () => T, what: string, timeoutMs = 10_000): Promise<Exclude<T, false>> {
    return until(check, () => `${what}; got ${JSON.stringify(this.events.slice(-5))} ended=${this.ended}`, { timeoutMs, everyMs: 50, wakeup: this.arrivals });
  }

  /** Resolves once the server has ended the stream. */
  endedSoon(timeoutMs = 10_000): Promise<true> {
    return this.until(() => this.ended, "the stream to end", timeoutMs);
  }

  close(): void {
    this.abort.abort();
  }

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          this.parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        this.arrivals.wake();
      }
    } catch {}
    this.ended = true;
    this.arrivals.wake();
  }

  private parse(block: string) {
    const event: SseEvent = { event: "message", id: null, data: "" };
    let hasField = false;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
      else {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "retry") this.retry = Number(value);
        else if (field === "event") (event.event = value), (hasField = true);
        else if (field === "id") (event.id = value), (hasField = true);
        else if (field === "data") (event.data += (event.data ? "\n" : "") + value), (hasField = true);
      }
    }
    if (hasField) this.events.push(event);
  }
}
