/**
 * A fake Resend API on a local port: records every POST /emails and answers like Resend,
 * or fails on demand (500, or 422 with Resend's error shape). Point the server's `resend`
 * SDK at it with RESEND_BASE_URL=<fake.url> (the SDK reads that variable; see
 * node_modules/resend: `${baseUrl}${path}` with path "/emails").
 */
import type { Server } from "bun";
import { until, Wakeup } from "./wait";

export interface SentEmail {
  authorization: string | null;
  contentType: string | null;
  body: {
    from?: string;
    to?: string | string[];
    subject?: string;
    text?: string;
    html?: string;
    [key: string]: unknown;
  };
  at: number;
}

/** "hold": record the email, then answer only when `release()` is called. */
export type FakeResendMode = "ok" | 500 | 422 | "hold";

export class FakeResend {
  emails: SentEmail[] = [];
  /** Every request, whatever its path, for checking nothing else was called. */
  requests: Array<{ method: string; path: string }> = [];
  mode: FakeResendMode = "ok";
  private server: Server<undefined>;
  private readonly arrivals = new Wakeup();
  private held: Array<() => void> = [];

  constructor() {
    this.server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request) => this.handle(request),
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  private async handle(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    this.requests.push({ method: request.method, path });
    if (request.method !== "POST" || path !== "/emails")
      return Response.json({ statusCode: 404, name: "not_found", message: "The requested endpoint does not exist." }, { status: 404 });
    let body: SentEmail["body"] = {};
    try {
      body = (await request.json()) as SentEmail["body"];
    } catch {}
    this.emails.push({ authorization: request.headers.get("authorization"), contentType: request.headers.get("content-type"), body, at: Date.now() });
    this.arrivals.wake();
    if (this.mode === "hold") await new Promise<void>((answer) => this.held.push(answer));
    if (this.mode === 500) return new Response("upstream exploded", { status: 500, headers: { "content-type": "text/plain" } });
    if (this.mode === 422)
      return Response.json(
        { statusCode: 422, name: "validation_error", message: "The `to` field is invalid." },
        { status: 422 },
      );
    return Response.json({ id: crypto.randomUUID() });
  }

  /** Resolves with the first recorded email to `to` at index `from` or later. */
  waitForEmail(to: string, from = 0, timeoutMs = 5000): Promise<SentEmail> {
    const found = () => this.emails.slice(from).find((e) => [e.body.to].flat().includes(to)) ?? false;
    const got = () => `an email to ${to}; got ${JSON.stringify(this.emails.map((e) => e.body.to))}`;
    return until(found, got, { timeoutMs, everyMs: 100, wakeup: this.arrivals });
  }

  /** How many requests are waiting for `release()`. */
  get holding(): number {
    return this.held.length;
  }

  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  stop(): void {
    this.release();
    this.server.stop(true);
  }
}

export function startFakeResend(): FakeResend {
  return new FakeResend();
}
