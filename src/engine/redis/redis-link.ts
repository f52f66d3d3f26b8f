/**
 * The engine's two connections to a single Redis: one for commands and scripts, one for
 * pub/sub (a subscribed connection takes no other commands). Kept alive by
 * LinkLifecycle (link-lifecycle.ts), which the cluster link shares.
 *
 * Bun's client would reconnect by itself, but it gives up after `maxRetries` and, when
 * a client object is reused, keeps old pub/sub listeners. So each connection is a fresh
 * client without auto-reconnect or offline queue: while Redis is unreachable every
 * command fails at once (EngineUnavailable) instead of waiting in a queue, and the link
 * retries in the background, resubscribes, and only then reports itself up again.
 */
import { RedisClient } from "bun";
import { EngineUnavailable } from "../engine";
import { LinkLifecycle } from "./link-lifecycle";
import { redactUrl } from "../../log";

const CONNECT_TIMEOUT_MS = 2_000;
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

export class RedisLink extends LinkLifecycle implements Link {
  readonly cluster = false;
  private cmd: RedisClient | null = null;
  private sub: RedisClient | null = null;

  /** `options.onConnected`: the engine checks the epoch and resynchronises there. */
  constructor(options: LinkOptions) {
    super(options, `unreachable at ${redactUrl(options.url)}`);
  }

  protected async open(generation: number): Promise<string> {
    const url = this.options.url;
    const settings = { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: CONNECT_TIMEOUT_MS };
    const cmd = new RedisClient(url, settings);
    const sub = new RedisClient(url, settings);
    cmd.onclose = () => this.lost(generation, "command connection closed");
    sub.onclose = () => this.lost(generation, "pub/sub connection closed");
    this.cmd = cmd;
    this.sub = sub;
    await Promise.all([cmd.connect(), sub.connect()]);
    // Only for a clearer message: a user without the INFO permission still connects.
    if (String(await cmd.send("INFO", ["cluster"]).catch(() => "")).includes("cluster_enabled:1"))
      throw new Error("it is a Redis Cluster node: set REDIS_URL=redis+cluster://host:port[,host:port...]");
    const channels = [...this.wanted];
    for (let i = 0; i < channels.length; i += SUBSCRIBE_CHUNK)
      await sub.subscribe(channels.slice(i, i + SUBSCRIBE_CHUNK), this.options.listener);
    // Loaded before any use: a NOSCRIPT retry would reorder a connection's appends.
    await Promise.all(this.options.scripts.map((source) => cmd.send("SCRIPT", ["LOAD", source])));
    return `redis: connected to ${redactUrl(url)}`;
  }

  /** Both connections go together: a half-open link can't keep delivery exact. */
  protected drop() {
    for (const client of [this.cmd, this.sub]) {
      if (!client) continue;
      client.onclose = null;
      try {
        client.close();
      } catch {}
    }
    this.cmd = this.sub = null;
  }

  protected send(command: string, args: string[]): Promise<unknown> {
    if (!this.cmd) throw new EngineUnavailable();
    return this.cmd.send(command, args);
  }

  protected async subscribeNow(channel: string): Promise<void> {
    if (!this.sub) throw new EngineUnavailable();
    await this.sub.subscribe(channel, this.options.listener);
  }

  protected unsubscribeNow(channel: string): Promise<unknown> {
    return this.sub ? this.sub.unsubscribe(channel) : Promise.resolve();
  }

  protected isUnavailable(error: unknown): boolean {
    return isConnectionError(error);
  }
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? "";
  return code !== "ERR_REDIS_SERVER_ERROR" && code !== "ERR_REDIS_INVALID_RESPONSE";
}

