/**
 * Starts the real Roomz server as a child process on a free port, with its own data
 * directory, and collects everything it prints so tests can read the magic-link line and
 * later prove that no token leaked anywhere else.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { redisForDataDir, stopRedisForDataDir, testEngineIsRedis } from "./redis";
import { GiveUp, until, Wakeup } from "./wait";

export const ROOT = resolve(import.meta.dir, "../..");
export const DEFAULT_ALLOWED = "alice@example.com,bob@example.com,carol@example.com,dave@example.com";

/** Every line any test server printed during this test process, for the log scans. */
export const allServerOutput: string[] = [];

export interface StartOptions {
  env?: Record<string, string | undefined>;
  dataDir?: string;
  port?: number;
  /** Command arguments after `bun src/main.ts`; defaults to ["serve"]. */
  args?: string[];
  /** Wait for /healthz before resolving (default true). */
  waitReady?: boolean;
  /** Serve /metrics on a second free port, METRICS_LISTEN (default true); read it at `metricsUrl`. */
  metrics?: boolean;
}

/** Servers still running when the test process exits (a crash, a script that never stops them) are killed with it. */
const runningServers = new Set<Subprocess>();
process.on("exit", () => {
  for (const proc of runningServers) proc.kill("SIGKILL");
});

export class TestServer {
  proc!: Subprocess<"ignore", "pipe", "pipe">;
  output = "";
  private readonly printed = new Wakeup();
  constructor(
    public port: number,
    public dataDir: string,
    public env: Record<string, string | undefined>,
    private args: string[],
  ) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/ws`;
  }
  /** The metrics listener's /metrics (METRICS_LISTEN); metrics are never on the public address. */
  get metricsUrl() {
    if (!this.env.METRICS_LISTEN) throw new Error("this test server has no METRICS_LISTEN");
    return `http://${this.env.METRICS_LISTEN}/metrics`;
  }

  async start(waitReady = true) {
    // ROOMZ_TEST_ENGINE=redis: the same suite against the Redis engine (a redis-server per data directory).
    const redis = testEngineIsRedis(this.env) ? { REDIS_URL: await redisForDataDir(this.dataDir) } : {};
    this.proc = Bun.spawn(this.command(), {
      cwd: this.dataDir,
      env: { ...process.env, ...this.env, PORT: String(this.port), HOST: "127.0.0.1", ROOMZ_DATA_DIR: this.dataDir, ...redis, ...definedOnly(this.env) },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const proc = this.proc;
    runningServers.add(proc);
    void proc.exited.then(() => runningServers.delete(proc));
    this.pump(this.proc.stdout);
    this.pump(this.proc.stderr);
    if (waitReady) await this.waitReady();
  }

  /** The command line that runs Roomz; a subclass may wrap it (in a shell that sets limits, say). */
  protected command(): string[] {
    return [process.execPath, join(ROOT, "src/main.ts"), ...this.args];
  }

  private async pump(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      this.output += text;
      allServerOutput.push(text);
      this.printed.wake();
    }
  }

  async waitReady(timeoutMs = 15000) {
    const healthy = async () => {
      if (this.proc.exitCode !== null) throw new GiveUp(`server exited ${this.proc.exitCode}:\n${this.output}`);
      return (await fetch(`${this.url}/healthz`).catch(() => null))?.status === 200;
    };
    await until(healthy, () => `the server to be ready:\n${this.output}`, { timeoutMs, everyMs: 50 });
  }

  /** Resolves with the first match of `pattern` in the output printed after `fromIndex`. */
  waitForOutput(pattern: RegExp, timeoutMs = 10000, fromIndex = 0): Promise<RegExpMatchArray> {
    const match = () => this.output.slice(fromIndex).match(pattern) ?? false;
    return until(match, () => `${pattern} in the server's output:\n${this.output}`, { timeoutMs, everyMs: 200, wakeup: this.printed });
  }

  /** Stops the process with `signal` and resolves with its exit code. */
  async stop(signal: "SIGTERM" | "SIGKILL" | "SIGINT" = "SIGTERM"): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    await this.proc.exited;
    if (testEngineIsRedis(this.env)) await stopRedisForDataDir(this.dataDir);
    return this.proc.exitCode;
  }

  /** Stops (SIGTERM unless told otherwise) and starts again on the same port and data directory. */
  async restart(signal: "SIGTERM" | "SIGKILL" = "SIGTERM") {
    await this.stop(signal);
    await this.start();
  }
}

function definedOnly(env: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

export function tempDir(prefix = "roomz-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const port = options.port ?? (await freePort());
  let metricsPort = 0;
  while (options.metrics !== false && (metricsPort === 0 || metricsPort === port)) metricsPort = await freePort();
  const metricsEnv = metricsPort ? { METRICS_LISTEN: `127.0.0.1:${metricsPort}` } : {};
  const server = new TestServer(
    port,
    options.dataDir ?? tempDir(),
    { ALLOWED_EMAILS: DEFAULT_ALLOWED, ...metricsEnv, ...options.env },
    options.args ?? ["serve"],
  );
  await server.start(options.waitReady ?? true);
  return server;
}

/** Requests a magic link and returns the token printed on the server's console line. */
export async function requestToken(server: TestServer, email: string): Promise<string> {
  const from = server.output.length;
  const res = await fetch(`${server.url}/auth/request-magic-link`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email }),
  });
  if (res.status !== 200) throw new Error(`request-magic-link ${res.status}: ${await res.text()}`);
  const escaped = email.replace(/[.+]/g, "\\$&");
  const match = await server.waitForOutput(new RegExp(`magic-link ${escaped} \\S+token=([A-Za-z0-9_-]+)`), 10000, from);
  return match[1];
}

/** Signs `email` in through the real magic-link flow and returns the session JWT. */
export async function signIn(server: TestServer, email: string): Promise<string> {
  const token = await requestToken(server, email);
  const res = await fetch(`${server.url}/auth/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  if (res.status !== 200) throw new Error(`verify ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { session: string }).session;
}

export interface RunOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/**
 * Runs `bun src/main.ts ...args` to its end, as a person runs `roomz ...`, with exactly
 * `env` (nothing of this process's is inherited unless passed) in `cwd`; killed if it
 * runs longer than `timeoutMs` (a command that should have exited).
 */
export async function runRoomz(args: string[], options: { env: Record<string, string | undefined>; cwd?: string; timeoutMs?: number }): Promise<RunOutcome> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), ...args], {
    cwd: options.cwd,
    env: definedOnly(options.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 15_000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(timer);
  return { code: proc.exitCode, stdout, stderr, ms: performance.now() - started };
}

/**
 * A server (always the embedded engine) whose file writes are limited to `kib` KiB, with
 * SIGXFSZ ignored so that writes past it fail with EFBIG.
 */
export class FileSizeLimitedServer extends TestServer {
  constructor(port: number, dataDir: string, env: Record<string, string>, private kib: number) {
    super(port, dataDir, { ...env, REDIS_URL: undefined }, ["serve"]);
  }

  protected override command(): string[] {
    return ["bash", "-c", `trap '' XFSZ; ulimit -f ${this.kib}; exec "$0" "$@"`, ...super.command()];
  }
}
