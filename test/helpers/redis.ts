/**
 * Real redis-server processes for tests: each on its own free port, stopped and started
 * again at will. `persistent` servers keep an AOF in a temporary directory, so a restart
 * (even after SIGKILL, with `appendfsync always`) finds the same data.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisClient, type Subprocess } from "bun";
import { GiveUp, until } from "./wait";

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? "redis-server";
const running = new Set<Subprocess>();

process.on("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

export interface RedisOptions {
  /** Keep data across restarts (AOF in `dir`, fsync on every write). */
  persistent?: boolean;
  dir?: string;
  port?: number;
}

export class RedisServer {
  proc: Subprocess<"ignore", "pipe", "pipe"> | null = null;
  output = "";
  readonly dir: string | null;

  constructor(public port: number, private persistent: boolean, dir?: string) {
    this.dir = persistent ? (dir ?? mkdtempSync(join(tmpdir(), "roomz-redis-"))) : null;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running() {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<void> {
    const persistence = this.persistent
      ? ["--appendonly", "yes", "--appendfsync", "always", "--dir", this.dir!]
      : ["--appendonly", "no"];
    const proc = Bun.spawn(
      [REDIS_SERVER, "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--daemonize", "no", ...persistence],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    this.proc = proc;
    running.add(proc);
    void proc.exited.then(() => running.delete(proc));
    void this.pump(proc.stdout);
    void this.pump(proc.stderr);
    await this.waitReady();
  }

  private async pump(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      this.output += decoder.decode(value, { stream: true });
    }
  }

  private async waitReady(timeoutMs = 10_000) {
    const pong = async () => {
      if (!this.running) throw new GiveUp(`redis-server exited:\n${this.output}`);
      const client = new RedisClient(this.url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 500 });
      try {
        await client.connect();
        return (await client.send("PING", [])) === "PONG";
      } catch {
        return false;
      } finally {
        client.close();
      }
    };
    await until(pong, () => `redis-server to answer PING:\n${this.output}`, { timeoutMs, everyMs: 30 });
  }

  /** Stops the process (SIGTERM: a clean shutdown that writes the AOF) and waits for it. */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    if (this.running) proc.kill(signal);
    await proc.exited;
  }

  async restart(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    await this.stop(signal);
    await this.start();
  }

  /** A one-off command, for assertions. */
  async command(command: string, args: string[] = []): Promise<unknown> {
    const client = new RedisClient(this.url, { autoReconnect: false, enableOfflineQueue: false });
    try {
      await client.connect();
      return await client.send(command, args);
    } finally {
      client.close();
    }
  }
}

async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  for (let attempt = 0; ; attempt++) {
    const server = new RedisServer(options.port ?? (await freePort()), options.persistent ?? false, options.dir);
    try {
      await server.start();
      return server;
    } catch (error) {
      // Another process may have taken the free port in between: try another.
      if (options.port !== undefined || attempt >= 3) throw error;
    }
  }
}

/**
 * For ROOMZ_TEST_ENGINE=redis: each test server's data directory gets its own persistent
 * redis-server, started with the server and stopped with it, so a restarted server (same
 * data directory) finds its messages, as with the embedded engine, and parallel test
 * files never share a dataset.
 */
const byDataDir = new Map<string, RedisServer>();

export function testEngineIsRedis(env: Record<string, string | undefined>): boolean {
  return process.env.ROOMZ_TEST_ENGINE === "redis" && !("REDIS_URL" in env);
}

export async function redisForDataDir(dataDir: string): Promise<string> {
  let server = byDataDir.get(dataDir);
  if (!server) {
    server = await startRedis({ persistent: true });
    byDataDir.set(dataDir, server);
  } else if (!server.running) {
    await server.start();
  }
  return server.url;
}

export async function stopRedisForDataDir(dataDir: string): Promise<void> {
  await byDataDir.get(dataDir)?.stop();
}
