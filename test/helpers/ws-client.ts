/**
 * `WsClient`: Bun's WebSocket for the protocol tests (PROTOCOL.md section 2), speaking only
 * the wire contract: it keeps every frame, waits for one (`waitFor`), pairs a request's
 * `ref` with its reply (`request`), records the close code, and `pause()` stops reading
 * from the socket (the server then sees TCP backpressure: the slow-consumer case).
 * Refused upgrades are read with `rawUpgrade` (upgrade.ts); frames a normal client can't
 * write, with `RawWsClient` (raw-ws.ts).
 */
import { upgradeHeaders, wsUrlWith, type ConnectOptions } from "./upgrade";
import { GiveUp, until, Wakeup } from "./wait";

export interface Frame {
  type: string;
  ref?: string;
  data?: any;
  [key: string]: unknown;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

let refCounter = 0;
export function nextRef(): string {
  return `r${++refCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A Bun WebSocket that keeps every frame it receives. */
export class WsClient {
  readonly frames: Frame[] = [];
  /** Frames that were not JSON text (should never happen). */
  readonly oddities: unknown[] = [];
  closeInfo: CloseInfo | null = null;
  readonly closed: Promise<CloseInfo>;
  private readonly arrivals = new Wakeup();
  private replies = new Map<string, (frame: Frame) => void>();

  private constructor(readonly ws: WebSocket) {
    let resolveClosed!: (info: CloseInfo) => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    ws.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        this.oddities.push(event.data);
      } else {
        try {
          const frame = JSON.parse(event.data) as Frame;
          this.frames.push(frame);
          if ((frame.type === "ack" || frame.type === "error") && typeof frame.ref === "string") {
            const reply = this.replies.get(frame.ref);
            if (reply) this.replies.delete(frame.ref), reply(frame);
          }
        } catch {
          this.oddities.push(event.data);
        }
      }
      this.arrivals.wake();
    });
    ws.addEventListener("close", (event) => {
      this.closeInfo = { code: event.code, reason: event.reason };
      resolveClosed(this.closeInfo);
      this.arrivals.wake();
      for (const reply of this.replies.values()) reply({ type: "__closed__", data: this.closeInfo });
      this.replies.clear();
    });
  }

  /** Opens a connection; resolves once it is open (not yet authenticated), rejects when refused. */
  static async open(url: string, options: ConnectOptions = {}): Promise<WsClient> {
    const ws = new WebSocket(wsUrlWith(url, options), { headers: upgradeHeaders(options) } as any);
    const client = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`WebSocket to ${url} did not open`)), options.timeoutMs ?? 10000);
      ws.addEventListener("open", () => (clearTimeout(timer), resolve()));
      ws.addEventListener("error", () => (clearTimeout(timer), reject(new Error(`WebSocket to ${url} failed to open`))));
      ws.addEventListener("close", (e) => (clearTimeout(timer), reject(new Error(`WebSocket to ${url} closed ${e.code} before opening`))));
    });
    return client;
  }

  /** Opens and waits for `authenticated` (and the replay `history` when `since` is given). */
  static async connect(url: string, options: ConnectOptions = {}): Promise<WsClient> {
    const client = await WsClient.open(url, options);
    await client.waitFor((f) => f.type === "authenticated");
    if (options.since !== undefined) await client.waitFor((f) => f.type === "history" && f.ref === undefined);
    return client;
  }

  get authenticated(): Frame {
    const frame = this.frames.find((f) => f.type === "authenticated");
    if (!frame) throw new Error("not authenticated yet");
    return frame;
  }

  get connectionId(): string {
    return this.authenticated.data.connection_id;
  }

  /** The replay `history` frame (sent right after `authenticated` when `since` was given). */
  get replay(): Frame | undefined {
    return this.frames.find((f) => f.type === "history" && f.ref === undefined);
  }

  /** The `message` frames' data, in arrival order. */
  messages(): any[] {
    return this.frames.filter((f) => f.type === "message").map((f) => f.data);
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a frame: an object is JSON-encoded, a string or bytes go as they are. */
  send(frame: object | string | Uint8Array | ArrayBuffer): void {
    if (typeof frame === "string" || frame instanceof Uint8Array || frame instanceof ArrayBuffer) this.ws.send(frame as any);
    else this.ws.send(JSON.stringify(frame));
  }

  /**
   * Resolves with the first frame at index >= `from` that matches; rejects after
   * `timeoutMs`, or when the connection closes first.
   */
  waitFor(predicate: (frame: Frame) => boolean, timeoutMs = 10000, from = 0): Promise<Frame> {
    return this.until(() => {
      for (let i = from; i < this.frames.length; i++) if (predicate(this.frames[i])) return this.frames[i];
      return false;
    }, "a frame", timeoutMs);
  }

  /** Resolves with what `check()` returns once it is not false, re-checking at every frame; rejects after `timeoutMs` or on close. */
  until<T>(check: () => T, what: string, timeoutMs = 10000): Promise<Exclude<T, false>> {
    const checkOpen = () => {
      const result = check();
      if (result === false && this.closeInfo) throw new GiveUp(`connection closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${what}; frames: ${this.tail()}`);
      return result;
    };
    return until(checkOpen, () => `${what}; last frames: ${this.tail()}`, { timeoutMs, everyMs: 250, wakeup: this.arrivals });
  }

  /** Resolves with the frames matching `predicate` that arrive within `ms` (to prove none do). */
  async framesWithin(ms: number, predicate: (frame: Frame) => boolean, from = this.frames.length): Promise<Frame[]> {
    await Bun.sleep(ms);
    return this.frames.slice(from).filter(predicate);
  }

  /** Sends `{type, data, ref}` and resolves with the `ack` or `error` that carries the ref. */
  async request(type: string, data?: unknown, options: { ref?: string; timeoutMs?: number } = {}): Promise<Frame> {
    const ref = options.ref ?? nextRef();
    if (this.closeInfo) throw new Error(`connection closed (${this.closeInfo.code}) before request ${type}`);
    const timeoutMs = options.timeoutMs ?? 10000;
    const reply = new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(ref);
        reject(new Error(`no reply to ${type} ref ${ref} in ${timeoutMs} ms; last frames: ${this.tail()}`));
      }, timeoutMs);
      this.replies.set(ref, (frame) => {
        clearTimeout(timer);
        if (frame.type === "__closed__") reject(new Error(`connection closed (${frame.data.code}) before the reply to ${type} ref ${ref}`));
        else resolve(frame);
      });
    });
    this.send(data === undefined ? { type, ref } : { type, ref, data });
    return reply;
  }

  /** Sends a message and resolves with its ack's data; throws on an error reply. */
  async sendMessage(content: string, clientMsgId?: string): Promise<{ id: string; seq: number; timestamp: string; duplicate: boolean; files: unknown[] }> {
    const reply = await this.request("message", clientMsgId === undefined ? { content } : { content, client_msg_id: clientMsgId });
    if (reply.type !== "ack") throw new Error(`message refused: ${JSON.stringify(reply)}`);
    return reply.data;
  }

  /** Waits for `count` message frames in total (from the start of the connection). */
  async waitForMessages(count: number, timeoutMs = 15000): Promise<any[]> {
    await this.until(() => this.messages().length >= count, `${count} messages (have ${this.messages().length})`, timeoutMs);
    return this.messages();
  }

  /** Stops reading from the socket: the server's sends pile up in TCP, then in its buffer. */
  pause(): boolean {
    return (this.ws as any).pause();
  }

  resume(): boolean {
    return (this.ws as any).resume();
  }

  close(code = 1000, reason = ""): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }

  /** Closes and waits for the close to complete. */
  async closeAndWait(): Promise<void> {
    this.close();
    await Promise.race([this.closed, Bun.sleep(5000)]);
  }

  tail(n = 6): string {
    return JSON.stringify(this.frames.slice(-n)).slice(0, 1500);
  }
}
