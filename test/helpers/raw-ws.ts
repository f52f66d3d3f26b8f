/**
 * `RawWsClient`: a hand-made WebSocket over TCP, for what a normal client can't produce:
 * frames written in the same turn as the 101 is read (before `authenticated`), frames of
 * any size and opcode, half frames.
 */
import { concat, connectTcp, findHeaderEnd, parseHead, type TcpConnection } from "./tcp";
import { upgradeRequest, type ConnectOptions } from "./upgrade";
import { GiveUp, until, Wakeup } from "./wait";
import type { CloseInfo, Frame } from "./ws-client";

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
  private readonly arrivals = new Wakeup();
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
      client.arrivals.wake();
    });
    client.connection.write(request);
    await client.until(() => client.response !== null, "the upgrade response");
    if (client.response!.status !== 101) throw new Error(`upgrade refused: ${client.response!.status}`);
    return client;
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
    this.arrivals.wake();
  }

  send(frame: object | string): void {
    this.connection.write(encodeClientFrame(typeof frame === "string" ? frame : JSON.stringify(frame)));
  }

  /** Writes bytes as they are (e.g. a frame of another opcode, or a half frame). */
  write(bytes: Uint8Array): void {
    this.connection.write(bytes);
  }

  /** Resolves once `check()` is true, re-checking at every frame; rejects after `timeoutMs` or once the connection ended. */
  async until(check: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
    const frames = () => `frames ${JSON.stringify(this.frames).slice(0, 1000)}`;
    const checkOpen = () => {
      if (check()) return true;
      if (this.ended) throw new GiveUp(`raw client: connection ended waiting for ${what}; ${frames()}`);
      return false;
    };
    await until(checkOpen, () => `${what} (raw client); ${frames()}`, { timeoutMs, everyMs: 250, wakeup: this.arrivals });
  }

  close(): void {
    this.connection.end();
  }
}
