/**
 * A plain TCP connection for the tests that speak HTTP or WebSocket by hand. Bun's
 * `socket.write` takes only what the kernel's buffer has room for and returns how much
 * that was; the rest is queued here and written on `drain`, so a large request arrives
 * whole however small the machine's socket buffers are.
 */
export interface TcpConnection {
  /** Queued: written as the kernel takes it. */
  write(bytes: string | Uint8Array): void;
  end(): void;
  /** Resolves when the peer closed the connection or it failed. */
  readonly ended: Promise<void>;
}

export async function connectTcp(hostname: string, port: number, onData: (chunk: Uint8Array) => void): Promise<TcpConnection> {
  let unsent: Uint8Array = new Uint8Array(0);
  let ended = false;
  let markEnded!: () => void;
  const endedPromise = new Promise<void>((resolve) => (markEnded = resolve));
  const end = () => {
    ended = true;
    markEnded();
  };
  const socket = await Bun.connect({
    hostname,
    port,
    socket: {
      data: (_socket, chunk) => onData(chunk),
      drain: () => flush(),
      close: end,
      error: end,
    },
  });
  function flush() {
    if (unsent.length === 0 || ended) return;
    const written = socket.write(unsent);
    unsent = unsent.subarray(Math.max(0, written));
  }
  return {
    write(bytes) {
      unsent = concat(unsent, typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
      flush();
    },
    end: () => socket.end(),
    ended: endedPromise,
  };
}

export interface RawHttpAnswer {
  /** 0 when no response head came back. */
  status: number;
  headers: Headers;
  body: string;
  /** The whole answer as received. */
  raw: string;
}

/**
 * One HTTP/1.1 request written by hand, for what fetch will not send (chunked bodies, odd
 * headers, a WebSocket upgrade); `parts` are written 5 ms apart. Returns once the answer
 * is complete (its head for a 101, 204 or 304, else its Content-Length of body), the
 * server closed the connection, or `waitMs` passed; `status` 0 when no head came back.
 */
export async function rawHttp(
  port: number,
  request: string | Uint8Array | Array<string | Uint8Array>,
  waitMs = 3000,
  hostname = "127.0.0.1",
): Promise<RawHttpAnswer> {
  let received: Uint8Array = new Uint8Array(0);
  let answered!: () => void;
  const done = new Promise<void>((resolve) => (answered = resolve));
  const socket = await connectTcp(hostname, port, (chunk) => {
    received = concat(received, chunk);
    if (answerEnd(received) !== null) answered();
  });
  socket.ended.then(answered);
  for (const [i, part] of (Array.isArray(request) ? request : [request]).entries()) {
    if (i > 0) await Bun.sleep(5);
    socket.write(part);
  }
  await Promise.race([done, Bun.sleep(waitMs)]);
  socket.end();
  const raw = new TextDecoder().decode(received);
  const end = findHeaderEnd(received);
  if (end < 0) return { status: 0, headers: new Headers(), body: raw, raw };
  const head = parseHead(new TextDecoder().decode(received.subarray(0, end)));
  const body = received.subarray(end + 4, answerEnd(received) ?? received.length);
  return { ...head, body: new TextDecoder().decode(body), raw };
}

/** Where a complete answer in `bytes` ends (after a 101, the bytes are no longer HTTP), or null. */
function answerEnd(bytes: Uint8Array): number | null {
  const end = findHeaderEnd(bytes);
  if (end < 0) return null;
  const { status, headers } = parseHead(new TextDecoder().decode(bytes.subarray(0, end)));
  if (status === 101 || status === 204 || status === 304) return end + 4;
  const length = headers.get("content-length");
  if (length === null || !/^\d+$/.test(length) || bytes.length < end + 4 + Number(length)) return null;
  return end + 4 + Number(length);
}

/** Where the blank line that ends an HTTP head starts, or -1. */
export function findHeaderEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++)
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  return -1;
}

/** The status and headers of an HTTP response head (without its blank line). */
export function parseHead(text: string): { status: number; headers: Headers } {
  const [statusLine, ...lines] = text.split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status, headers };
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
