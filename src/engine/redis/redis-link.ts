/**
 * The engine's two connections to Redis, kept alive by this file alone: one for commands
 * and scripts, one for pub/sub (a subscribed connection takes no other commands).
 *
 * Bun's client would reconnect by itself, but it gives up after `maxRetries` and, when
 * a client object is reused, keeps old pub/sub listeners. So each connection is a fresh
 * client without auto-reconnect or offline queue: while Redis is unreachable every
 * command fails at once (EngineUnavailable) instead of waiting in a queue, and this link
 * retries in the background, resubscribes, and only then reports itself up again.
 */
import { RedisClient } from "bun";
import { EngineUnavailable } from "../engine";
import { describeError, log } from "../../log";

const CONNECT_TIMEOUT_MS = 2_000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1_000;
/** A command without a reply for this long means Redis hangs: drop both connections. */
const STALL_LIMIT_MS = 5_000;
const SUBSCRIBE_CHUNK = 500;

export type PubSubListener = (message: string, channel: string) => void;

/** What the engine needs from its connections to Redis: a single node's or a cluster's. */
export interface Link {
  /** True on a Redis Cluster (keys.ts's cluster layout, sharded feeds). */
  readonly cluster: boolean;
  readonly up: boolean;
  /** When the link went down, or null while it is up. */
  readonly downAt: number | null;
  /** Connects; resolves once up, or after the first failed attempt (retrying continues). */
  start(): Promise<void>;
  /** Runs one command; rejects with EngineUnavailable when Redis can't be reached. */
  run<T = unknown>(command: string, args: string[]): Promise<T>;
  /** Runs a Lua script (by its SHA1, loaded at connection). */
  script<T = unknown>(source: string, keys: string[], args: string[]): Promise<T>;
  /** Subscribes at the next (re)connection, and after every one. */
  want(channel: string): void;
  /** Subscribes now (when up) and after every reconnect. */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): void;
  close(): Promise<void>;
}

export interface LinkOptions {
  url: string;
  scripts: string[];
  listener: PubSubListener;
  /** Runs after the connections are open and subscribed, before the link counts as up. */
  onConnected: () => Promise<void>;
  onDown: () => void;
  /** These feeds may have missed messages (on a cluster: their slots moved); read them from the store. */
  onResync: (channels: string[]) => void;
  /** On a cluster: whether a pub/sub channel is sharded (SSUBSCRIBE) rather than plain. */
  sharded: (channel: string) => boolean;
}

/** `redis+cluster://` (or `rediss+cluster://`): a Redis Cluster, given by one or more of its nodes. */
export function isClusterUrl(url: string): boolean {
  return /^[a-z]+\+cluster:\/\//i.test(url);
}

export class RedisLink implements Link {
  readonly cluster = false;
  private cmd: RedisClient | null = null;
  private sub: RedisClient | null = null;
  private generation = 0;
  private isUp = false;
  private closed = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: Timer | null = null;
  private wanted = new Set<string>();
  private inFlight = 0;
  private lastProgress = Date.now();
  private watchdog: Timer;
  private scriptShas = new Map<string, string>();
  private downSince: number | null = Date.now();
  private warned = false;

  private url: string;
  private listener: PubSubListener;

  /** `options.onConnected`: the engine checks the epoch and resynchronises there. */
  constructor(private options: LinkOptions) {
    this.url = options.url;
    this.listener = options.listener;
    this.watchdog = setInterval(() => this.checkStall(), 1_000);
    this.watchdog.unref();
  }

  get up(): boolean {
    return this.isUp;
  }

  /** When the link went down, or null while it is up. */
  get downAt(): number | null {
    return this.downSince;
  }

  /** Connects; resolves once up, or after the first failed attempt (retrying continues). */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const generation = ++this.generation;
    const options = { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: CONNECT_TIMEOUT_MS };
    const cmd = new RedisClient(this.url, options);
    const sub = new RedisClient(this.url, options);
    cmd.onclose = () => this.lost(generation, "command connection closed");
    sub.onclose = () => this.lost(generation, "pub/sub connection closed");
    this.cmd = cmd;
    this.sub = sub;
    try {
      await Promise.all([cmd.connect(), sub.connect()]);
      // Only for a clearer message: a user without the INFO permission still connects.
      if (String(await cmd.send("INFO", ["cluster"]).catch(() => "")).includes("cluster_enabled:1"))
        throw new Error("it is a Redis Cluster node: set REDIS_URL=redis+cluster://host:port[,host:port...]");
      const channels = [...this.wanted];
      for (let i = 0; i < channels.length; i += SUBSCRIBE_CHUNK)
        await sub.subscribe(channels.slice(i, i + SUBSCRIBE_CHUNK), this.listener);
      // Loaded before any use: a NOSCRIPT retry would reorder a connection's appends.
      await Promise.all(this.options.scripts.map((source) => cmd.send("SCRIPT", ["LOAD", source])));
      this.lastProgress = Date.now();
      this.isUp = true; // scripts in onConnected need the link
      await this.options.onConnected();
      if (generation !== this.generation) return;
      log.info(`redis: connected to ${redact(this.url)}`);
      this.downSince = null;
      this.warned = false;
      this.retryMs = RETRY_MIN_MS;
    } catch (error) {
      if (generation !== this.generation) return;
      this.lost(generation, describeError(error));
    }
  }

  /** Both connections go together: a half-open link can't keep delivery exact. */
  private lost(generation: number, why: string) {
    if (generation !== this.generation || this.closed) return;
    this.generation++;
    const wasUp = this.isUp;
    this.isUp = false;
    if (wasUp || !this.warned) log.warn(`redis: unreachable at ${redact(this.url)} (${why}); retrying`);
    this.warned = true;
    this.downSince ??= Date.now();
    this.drop();
    if (wasUp) this.options.onDown();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private drop() {
    for (const client of [this.cmd, this.sub]) {
      if (!client) continue;
      client.onclose = null;
      try {
        client.close();
      } catch {}
    }
    this.cmd = this.sub = null;
    this.inFlight = 0;
  }

  private checkStall() {
    if (this.isUp && this.inFlight > 0 && Date.now() - this.lastProgress > STALL_LIMIT_MS)
      this.lost(this.generation, `no reply for ${STALL_LIMIT_MS / 1000} s`);
  }

  /** Runs one command; rejects with EngineUnavailable when Redis can't be reached. */
  async run<T = unknown>(command: string, args: string[]): Promise<T> {
    const cmd = this.cmd;
    if (!this.isUp || !cmd) throw new EngineUnavailable();
    if (this.inFlight === 0) this.lastProgress = Date.now();
    this.inFlight++;
    try {
      return (await cmd.send(command, args)) as T;
    } catch (error) {
      if (isConnectionError(error)) throw new EngineUnavailable();
      throw error;
    } finally {
      if (cmd === this.cmd) {
        this.inFlight--;
        this.lastProgress = Date.now();
      }
    }
  }

  /** Runs a Lua script by its SHA1 (loaded at connection; EVAL after a SCRIPT FLUSH). */
  async script<T = unknown>(source: string, keys: string[], args: string[]): Promise<T> {
    let sha = this.scriptShas.get(source);
    if (!sha) this.scriptShas.set(source, (sha = new Bun.CryptoHasher("sha1").update(source).digest("hex")));
    try {
      return await this.run<T>("EVALSHA", [sha, String(keys.length), ...keys, ...args]);
    } catch (error) {
      if (!String((error as Error).message).includes("NOSCRIPT")) throw error;
      return this.run<T>("EVAL", [source, String(keys.length), ...keys, ...args]);
    }
  }

  /** Subscribes at the next (re)connection, and after every one. */
  want(channel: string): void {
    this.wanted.add(channel);
  }

  /** Subscribes now (when up) and after every reconnect. */
  async subscribe(channel: string): Promise<void> {
    this.wanted.add(channel);
    const sub = this.sub;
    if (!this.isUp || !sub) throw new EngineUnavailable();
    try {
      await sub.subscribe(channel, this.listener);
    } catch (error) {
      throw isConnectionError(error) ? new EngineUnavailable() : error;
    }
  }

  unsubscribe(channel: string): void {
    this.wanted.delete(channel);
    if (this.isUp && this.sub) this.sub.unsubscribe(channel).catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    this.isUp = false;
    clearInterval(this.watchdog);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.drop();
  }
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? "";
  return code !== "ERR_REDIS_SERVER_ERROR" && code !== "ERR_REDIS_INVALID_RESPONSE";
}

/** The URL without its password, for the log. */
function redact(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}
