/**
 * One WebSocket to the server: parses frames, matches replies to requests by `ref`, and
 * runs the application ping that notices half-open sockets. A Link never reconnects; the
 * client opens a new one. Once closed or killed it reports exactly once and goes silent.
 */
import type { ServerFrame } from "../protocol/frames.js";
import { errorFromFrame } from "./errors.js";
import { STOPPED_ANSWERING } from "./reasons.js";
import type { WebSocketConstructor, WebSocketLike } from "./types.js";

/** Rejection of requests whose link went away before the reply; the client re-sends them. */
export class LinkClosed extends Error {}

export interface LinkEvents {
  onOpen(): void;
  onFrame(frame: ServerFrame): void;
  /** `opened` says whether the upgrade succeeded; `code` is 1006 for an abnormal end. */
  onClose(code: number, reason: string, opened: boolean): void;
}

interface Pending {
  resolve(data: unknown): void;
  reject(error: Error): void;
}

let refCounter = 0;
const isBrowser = typeof (globalThis as { document?: unknown }).document !== "undefined";

export class Link {
  private socket: WebSocketLike;
  private pending = new Map<string, Pending>();
  private opened = false;
  private done = false;
  private pingTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    WebSocketImpl: WebSocketConstructor,
    url: string,
    session: string | null,
    private events: LinkEvents,
  ) {
    // Bun, Node (undici) and ws accept headers in a second argument; browsers send the cookie.
    const init = session && !isBrowser ? { headers: { authorization: `Bearer ${session}` } } : undefined;
    this.socket = init ? new WebSocketImpl(url, init) : new WebSocketImpl(url);
    this.socket.onopen = () => {
      this.opened = true;
      this.events.onOpen();
    };
    this.socket.onmessage = (event: { data: unknown }) => this.receive(event.data);
    this.socket.onclose = (event: { code: number; reason: string }) => this.finish(event.code, event.reason);
    this.socket.onerror = () => {}; // a close event always follows
  }

  /** Sends a request and resolves with its ack data, or rejects with the error frame as RoomzError. */
  request<T>(type: string, data?: unknown, timeoutMs?: number): Promise<T> {
    if (this.done) return Promise.reject(new LinkClosed());
    const ref = `r${++refCounter}`;
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = () => (clearTimeout(timer), this.pending.delete(ref));
      this.pending.set(ref, {
        resolve: (value) => (settle(), resolve(value as T)),
        reject: (error) => (settle(), reject(error)),
      });
      if (timeoutMs) timer = setTimeout(() => this.pending.get(ref)?.reject(new LinkClosed("timeout")), timeoutMs);
      try {
        this.socket.send(JSON.stringify(data === undefined ? { type, ref } : { type, ref, data }));
      } catch {
        this.pending.get(ref)?.reject(new LinkClosed());
      }
    });
  }

  /** Pings every `intervalMs`; a ping unanswered within `timeoutMs` kills the link. */
  startPing(intervalMs: number, timeoutMs: number): void {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      this.request("ping", {}, timeoutMs).catch((error) => {
        if (error instanceof LinkClosed && error.message === "timeout") this.kill(STOPPED_ANSWERING, "no answer to ping");
      });
    }, intervalMs);
  }

  /** Closes the socket and reports the close at once, without waiting for the other side. */
  kill(code = 1000, reason = "closed by client"): void {
    try {
      this.socket.close(code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason);
    } catch {}
    this.finish(code, reason);
  }

  private finish(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.pingTimer);
    this.socket.onopen = this.socket.onmessage = this.socket.onclose = null;
    for (const pending of [...this.pending.values()]) pending.reject(new LinkClosed());
    this.events.onClose(code, reason, this.opened);
  }

  private receive(raw: unknown): void {
    if (this.done || typeof raw !== "string") return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(raw) as ServerFrame;
    } catch {
      return; // outside the contract; nothing sensible to do with it
    }
    if (!frame || typeof frame.type !== "string") return;
    if ((frame.type === "ack" || frame.type === "error") && frame.ref !== undefined) {
      const pending = this.pending.get(frame.ref);
      if (pending) {
        if (frame.type === "ack") pending.resolve(frame.data ?? {});
        else pending.reject(errorFromFrame(frame.data));
      }
      return;
    }
    this.events.onFrame(frame);
  }
}
