/**
 * The engine's connections to a Redis Cluster (REDIS_URL=redis+cluster://h1:p1,h2:p2),
 * with the same contract as RedisLink: while any part of it is broken every command
 * fails at once (EngineUnavailable), and the link rebuilds itself in the background,
 * resubscribes, and only then reports itself up again.
 *
 * Bun's own client can't follow a cluster (no MOVED/ASK, no sharded subscribe), so this
 * uses ioredis' Cluster: it routes each command to the node owning its key's slot,
 * follows MOVED/ASK during a slot migration, and keeps one sharded subscriber per primary
 * (`shardedSubscribers`). What it would otherwise do on its own is switched off where it
 * could break the engine's guarantees:
 * - no offline queue, no retry of a command whose connection closed
 *   (`retryDelayOnFailover: 0`): the script may have run, and a blind retry would store
 *   a message twice; the sender gets `unavailable` and resends with its client_msg_id;
 * - no silent reconnection (`clusterRetryStrategy: null`): a node's command or
 *   subscriber connection that drops (`-node`) takes the whole link down, like RedisLink's
 *   pair, so every feed resynchronises after the fresh connection instead of missing what
 *   was published meanwhile.
 *
 * The link's life (generations, backoff, stall watch, scripts) is LinkLifecycle's, shared
 * with the single-node link.
 */
import type { Cluster, ClusterOptions } from "ioredis";
import { EngineUnavailable } from "../engine";
import { describeError, log } from "../../log";
import { keySlot } from "./cluster-slots";
import { parseClusterUrl, type ClusterAddress } from "./cluster-url";
import { LinkLifecycle } from "./link-lifecycle";
import type { Link, LinkOptions } from "./redis-link";

const CONNECT_TIMEOUT_MS = 2_000;
const SUBSCRIBE_AT_ONCE = 200;

export class ClusterLink extends LinkLifecycle implements Link {
  readonly cluster = true;
  private client: Cluster | null = null;
  private address: ClusterAddress;
  private where: string;

  constructor(options: LinkOptions) {
    const address = parseClusterUrl(options.url);
    const where = address.seeds.map((s) => `${s.host}:${s.port}`).join(",");
    super(options, `cluster unreachable at ${where}`);
    this.address = address;
    this.where = where;
  }

  protected async open(generation: number): Promise<string> {
    const { Cluster } = await import("ioredis");
    const { username, password, tls } = this.address;
    const options: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: true,
      enableAutoPipelining: true,
      // Auto-pipelined, an SSUBSCRIBE goes out on the slot's command connection instead of
      // its sharded subscriber, and that channel's messages never arrive here (seen: 1
      // channel in 9 silently deaf). ioredis 6.0.0 exempts SUBSCRIBE, not these.
      autoPipeliningIgnoredCommands: ["ssubscribe", "sunsubscribe"],
      shardedSubscribers: true,
      clusterRetryStrategy: () => null,
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
      redisOptions: { username, password, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 0, ...(tls ? { tls: {} } : {}) },
    };
    const client = new Cluster(this.address.seeds, options);
    this.client = client;
    // Each failure also ends in "end" or "-node", handled below; the error says why.
    let why = "the cluster connection ended";
    client.on("error", (error: unknown) => (why = describeError(error)));
    client.on("node error", (error: unknown, key?: string) => (why = `${key ?? "a node"}: ${describeError(error)}`));
    client.on("end", () => this.lost(generation, why));
    // While connecting, ioredis swaps the seeds for the nodes the cluster names; after
    // that, a node's connection that goes is a break in delivery.
    let connected = false;
    client.on("-node", (_redis: unknown, key?: string) => connected && this.lost(generation, `lost the connection to ${key ?? "a node"}`));
    // ioredis replaces a sharded subscriber when the slots move, without a word about
    // what was published meanwhile: the same as a lost connection.
    client.on("-subscriber", () => connected && this.lost(generation, "a sharded subscriber was replaced"));
    client.on("message", (channel: string, message: string) => this.options.listener(message, channel));
    client.on("smessage", (channel: string, message: string) => this.options.listener(message, channel));
    await client.connect();
    connected = true;
    if (!this.isCurrent(generation)) return ""; // dropped meanwhile; the next generation is on its way
    // Slots that move (a reshard, a failover) move their feeds to another primary.
    // ioredis resubscribes them there by itself, but what was published on the new
    // owner before that reached nobody here: such feeds are subscribed again (awaited)
    // and then read from the store.
    let owners = slotOwners(client);
    client.on("refresh", () => {
      const now = slotOwners(client);
      const moved = new Set<number>();
      for (let slot = 0; slot < now.length; slot++) if (now[slot] !== owners[slot]) moved.add(slot);
      owners = now;
      if (moved.size > 0) void this.followMoved(generation, client, moved);
    });
    // Scripts live per node: loaded on every primary before any use (a NOSCRIPT retry
    // would reorder a channel's appends).
    const primaries = client.nodes("master");
    await Promise.all(primaries.flatMap((node) => this.options.scripts.map((source) => node.script("LOAD", source))));
    await this.subscribeAll(client, [...this.wanted]);
    return `redis: connected to the cluster at ${this.where} (${primaries.length} primaries)`;
  }

  private async subscribeAll(client: Cluster, channels: string[]) {
    const plain = channels.filter((c) => !this.options.sharded(c));
    if (plain.length > 0) await client.subscribe(...plain);
    const sharded = channels.filter((c) => this.options.sharded(c));
    // One SSUBSCRIBE per channel (the channels of one call must share a slot).
    for (let i = 0; i < sharded.length; i += SUBSCRIBE_AT_ONCE)
      await Promise.all(sharded.slice(i, i + SUBSCRIBE_AT_ONCE).map((c) => client.ssubscribe(c)));
  }

  private async followMoved(generation: number, client: Cluster, moved: Set<number>) {
    const channels = [...this.wanted].filter((c) => this.options.sharded(c) && moved.has(keySlot(c)));
    if (channels.length === 0 || !this.up) return;
    try {
      await Promise.all(channels.map((c) => client.ssubscribe(c)));
    } catch (error) {
      return this.lost(generation, `resubscribing moved feeds: ${describeError(error)}`);
    }
    if (!this.isCurrent(generation)) return;
    log.info(`redis: slots moved; resubscribed ${channels.length} feed${channels.length === 1 ? "" : "s"} on the new primary and reading what was missed`);
    this.options.onResync(channels);
  }

  protected drop() {
    const client = this.client;
    this.client = null;
    if (!client) return;
    client.removeAllListeners();
    client.on("error", () => {});
    client.disconnect();
  }

  protected send(command: string, args: string[]): Promise<unknown> {
    if (!this.client) throw new EngineUnavailable();
    return this.client.call(command, ...args);
  }

  protected async subscribeNow(channel: string): Promise<void> {
    if (!this.client) throw new EngineUnavailable();
    await this.subscribeAll(this.client, [channel]);
  }

  protected unsubscribeNow(channel: string): Promise<unknown> {
    const client = this.client;
    if (!client) return Promise.resolve();
    return this.options.sharded(channel) ? client.sunsubscribe(channel) : client.unsubscribe(channel);
  }

  protected isUnavailable(error: unknown): boolean {
    return isUnavailable(error);
  }
}

/** The node that serves each slot. */
function slotOwners(client: Cluster): string[] {
  return Array.from({ length: 16384 }, (_, slot) => client.slots[slot]?.[0] ?? "");
}

/**
 * Anything but a plain error reply from Redis means the cluster can't serve the command
 * now: a closed connection, a cluster not ready, or a node answering that the cluster is
 * down or its slot is moving (CLUSTERDOWN, TRYAGAIN, LOADING, MASTERDOWN).
 */
function isUnavailable(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  if (e?.name !== "ReplyError") return true;
  return /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|MOVED|ASK)\b/.test(e.message ?? "");
}
