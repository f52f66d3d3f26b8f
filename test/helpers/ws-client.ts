/**
 * WebSocket clients for the protocol tests (PROTOCOL.md section 2), speaking only the
 * wire contract:
 *
 * - `WsClient`: Bun's WebSocket, collecting every frame, with `waitFor(predicate)`,
 *   `request` (a `ref` → its reply), the close code, and `pause()` to stop reading from
 *   the socket (the server then sees TCP backpressure: the slow-consumer case).
 * - `rawUpgrade`: the upgrade request written by hand over TCP, to read a refusal's
 *   status, headers and problem document (a WebSocket object can't see them).
 * - `RawWsClient`: a hand-made WebSocket over `Bun.connect`, for the cases a normal
 *   client can't produce: frames written in the same TCP packet as the upgrade request
 *   (before `authenticated`), or frames of any size and opcode.
 */
import { concat, connectTcp, findHeaderEnd, parseHead, type TcpConnection } from "./tcp";

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

function headersOf(options: ConnectOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.jwt !== undefined) headers.authorization = `Bearer ${options.jwt}`;
  if (options.origin !== undefined) headers.origin = options.origin;
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  return { ...headers, ...options.headers };
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
  private wakers: Array<() => void> = [];
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
      this.wake();
    });
    ws.addEventListener("close", (event) => {
      this.closeInfo = { code: event.code, reason: event.reason };
      resolveClosed(this.closeInfo);
      this.wake();
      for (const reply of this.replies.values()) reply({ type: "__closed__", data: this.closeInfo });
      this.replies.clear();
    });
  }

  private wake() {
    for (const wake of this.wakers.splice(0)) wake();
  }

  /** Opens a connection; resolves once it is open (not yet authenticated), rejects when refused. */
  static async open(url: string, options: ConnectOptions = {}): Promise<WsClient> {
    const ws = new WebSocket(wsUrlWith(url, options), { headers: headersOf(options) } as any);
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
  async waitFor(predicate: (frame: Frame) => boolean, timeoutMs = 10000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.frames.length; i++) if (predicate(this.frames[i])) return this.frames[i];
      if (this.closeInfo) throw new Error(`connection closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting; frames: ${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a frame; last frames: ${this.tail()}`);
      await this.sleepUntilFrame(left);
    }
  }

  /** Resolves once `check()` is true, re-checking at every frame; rejects after `timeoutMs`. */
  async until(check: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; last frames: ${this.tail()}`);
      if (this.closeInfo) throw new Error(`connection closed (${this.closeInfo.code}) while waiting for ${what}`);
      await this.sleepUntilFrame(left);
    }
  }

  private sleepUntilFrame(ms: number): Promise<void> {
    return new Promise<void>((wake) => {
      const timer = setTimeout(wake, Math.min(ms, 250));
      this.wakers.push(() => (clearTimeout(timer), wake()));
    });
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
  async sendMessage(content: string, clientMsgId?: string): Promise<{ id: string; seq: number; timestamp: string; duplicate: boolean }> {
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

/** Waits for `promise` at most `ms`; rejects with `what` on timeout. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out (${ms} ms): ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------
// Raw TCP: the upgrade request by hand, and a minimal hand-made WebSocket.

export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

function randomKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
}

function upgradeRequest(url: string, options: ConnectOptions): string {
  const u = new URL(wsUrlWith(url, options));
  const headers: Record<string, string> = {
    host: u.host,
    connection: "Upgrade",
    upgrade: "websocket",
    "sec-websocket-version": "13",
    "sec-websocket-key": randomKey(),
    ...headersOf(options),
  };
  return `GET ${u.pathname}${u.search} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
}

/**
 * Sends the upgrade request by hand and reads the answer: for a refusal, the status,
 * headers and body; for a 101, status 101 (the socket is then closed).
 */
export async function rawUpgrade(url: string, options: ConnectOptions = {}): Promise<RawResponse> {
  const u = new URL(url);
  let buffer: Uint8Array = new Uint8Array(0);
  let done!: (r: RawResponse) => void;
  let fail!: (e: Error) => void;
  const result = new Promise<RawResponse>((resolve, reject) => ((done = resolve), (fail = reject)));
  let settled = false;
  let connection: TcpConnection | undefined;
  const tryFinish = (ended: boolean) => {
    if (settled) return;
    const end = findHeaderEnd(buffer);
    if (end < 0) {
      if (ended) (settled = true), fail(new Error(`connection ended without a response: ${new TextDecoder().decode(buffer)}`));
      return;
    }
    const { status, headers } = parseHead(new TextDecoder().decode(buffer.subarray(0, end)));
    const bodyBytes = buffer.subarray(end + 4);
    if (status === 101) {
      settled = true;
      connection?.end();
      return done({ status, headers, body: "" });
    }
    const length = headers.get("content-length");
    if (length !== null && bodyBytes.length >= Number(length)) {
      settled = true;
      connection?.end();
      return done({ status, headers, body: new TextDecoder().decode(bodyBytes.subarray(0, Number(length))) });
    }
    if (ended) {
      settled = true;
      done({ status, headers, body: new TextDecoder().decode(bodyBytes) });
    }
  };
  connection = await connectTcp(u.hostname, Number(u.port), (chunk) => {
    buffer = concat(buffer, chunk);
    tryFinish(false);
  });
  connection.ended.then(() => tryFinish(true));
  connection.write(upgradeRequest(url, options));
  return within(result, 10000, "raw upgrade response");
}

/** Encodes one masked client frame. */
export function encodeClientFrame(payload: Uint8Array | string, opcode = 0x1, fin = true): Uint8Array {
  const data = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const mask = crypto.getRandomValues(new Uint8Array(4));
  let header: number[];
  const first = (fin ? 0x80 : 0) | opcode;
  if (data.length < 126) header = [first, 0x80 | data.length];
  else if (data.length < 65536) header = [first, 0x80 | 126, data.length >> 8, data.length & 0xff];
  else {
    header = [first, 0x80 | 127, 0, 0, 0, 0];
    const n = data.length;
    header.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }
  const out = new Uint8Array(header.length + 4 + data.length);
  out.set(header, 0);
  out.set(mask, header.length);
  for (let i = 0; i < data.length; i++) out[header.length + 4 + i] = data[i] ^ mask[i & 3];
  return out;
}

/**
 * A hand-made WebSocket client over TCP. `connect` writes `initialFrames` the moment the
 * 101 response is read (RFC 6455 4.1: not before it), in the same turn, so they reach the
 * server before the client has seen `authenticated` (and, when the join takes a round
 * trip, before the server has sent it).
 */
export class RawWsClient {
  readonly frames: Frame[] = [];
  closeInfo: CloseInfo | null = null;
  response: { status: number; headers: Headers } | null = null;
  private buffer: Uint8Array = new Uint8Array(0);
  private connection!: TcpConnection;
  private wakers: Array<() => void> = [];
  private ended = false;
  private pendingFrames: Uint8Array | null = null;
  /** How many frames had arrived (besides the 101) when `initialFrames` were written. */
  framesBeforeInitial = 0;

  static async connect(url: string, options: ConnectOptions = {}, initialFrames: Array<object | string> = []): Promise<RawWsClient> {
    const client = new RawWsClient();
    const u = new URL(url);
    const request = new TextEncoder().encode(upgradeRequest(url, options));
    const frames = initialFrames.map((f) => encodeClientFrame(typeof f === "string" ? f : JSON.stringify(f)));
    client.pendingFrames = frames.reduce((acc, f) => concat(acc, f), new Uint8Array(0));
    client.connection = await connectTcp(u.hostname, Number(u.port), (chunk) => {
      client.buffer = concat(client.buffer, chunk);
      client.parse();
    });
    client.connection.ended.then(() => {
      client.ended = true;
      client.wake();
    });
    client.connection.write(request);
    await client.until(() => client.response !== null, "the upgrade response");
    if (client.response!.status !== 101) throw new Error(`upgrade refused: ${client.response!.status}`);
    return client;
  }

  private wake() {
    for (const wake of this.wakers.splice(0)) wake();
  }

  private parse() {
    if (!this.response) {
      const end = findHeaderEnd(this.buffer);
      if (end < 0) return;
      this.response = parseHead(new TextDecoder().decode(this.buffer.subarray(0, end)));
      this.buffer = this.buffer.subarray(end + 4);
      if (this.response.status === 101 && this.pendingFrames?.length) {
        this.connection.write(this.pendingFrames);
        this.pendingFrames = null;
        this.framesBeforeInitial = -1; // counted below, once the frames in this chunk are parsed
      }
    }
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) break;
      const opcode = b[0] & 0x0f;
      let length = b[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) break;
        length = (b[2] << 8) | b[3];
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) break;
        length = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
        offset = 10;
      }
      if (b.length < offset + length) break;
      const payload = b.subarray(offset, offset + length);
      this.buffer = b.subarray(offset + length);
      if (opcode === 0x1) this.frames.push(JSON.parse(new TextDecoder().decode(payload)));
      else if (opcode === 0x8) {
        const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
        this.closeInfo = { code, reason: new TextDecoder().decode(payload.subarray(2)) };
      } else if (opcode === 0x9) this.connection.write(encodeClientFrame(payload, 0xa));
    }
    if (this.framesBeforeInitial === -1) this.framesBeforeInitial = this.frames.length;
    this.wake();
  }

  send(frame: object | string): void {
    this.connection.write(encodeClientFrame(typeof frame === "string" ? frame : JSON.stringify(frame)));
  }

  /** Writes bytes as they are (e.g. a frame of another opcode, or a half frame). */
  write(bytes: Uint8Array): void {
    this.connection.write(bytes);
  }

  async until(check: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0 || this.ended) throw new Error(`raw client: ${this.ended ? "connection ended" : "timed out"} waiting for ${what}; frames ${JSON.stringify(this.frames).slice(0, 1000)}`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, Math.min(left, 250));
        this.wakers.push(() => (clearTimeout(timer), wake()));
      });
    }
  }

  close(): void {
    this.connection.end();
  }
}
