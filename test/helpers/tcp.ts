/**
 * A plain TCP connection for the tests that speak HTTP or WebSocket by hand. Bun's
 * `socket.write` takes only what the kernel's buffer has room for and returns how much
 * that was; the rest is queued here and written on `drain`, so a large request arrives
 * whole however small the machine's socket buffers are.
 */
export interface TcpConnection {
  write(bytes: string | Uint8Array): void;
  end(): void;
  /** Resolves when the peer closed the connection or it failed. */
  readonly ended: Promise<void>;
}

export async function connectTcp(hostname: string, port: number, onData: (chunk: Uint8Array) => void): Promise<TcpConnection> {
  let unsent = new Uint8Array(0);
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
      const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
      const joined = new Uint8Array(unsent.length + data.length);
      joined.set(unsent, 0);
      joined.set(data, unsent.length);
      unsent = joined;
      flush();
    },
    end: () => socket.end(),
    ended: endedPromise,
  };
}
