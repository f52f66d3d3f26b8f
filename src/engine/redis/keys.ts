/**
 * Every Redis key and pub/sub channel Roomz uses, in one place. All start with `roomz:`,
 * so a Redis shared with other applications stays readable; the dataset is meant for one
 * Roomz deployment.
 *
 * Two layouts of the same keys. On a single Redis, the names of every release so far
 * (an existing dataset keeps working, epoch included). On a Redis Cluster, where a script
 * may only touch keys of one slot, each channel's keys carry one hash tag made from the
 * channel's name (`roomz:seq:{5c1e07a2}:user:a@example.com`), so a message's script (seq,
 * log, client_msg_id, its sharded feed) runs on the one node that owns the channel; the
 * keys that scripts combine across instances (epoch, heartbeats, rate windows) share the
 * tag `{global}`, off the append path.
 *
 * The tag is a hash of the name rather than the name itself: Redis' CRC16 of names that
 * differ only in a few characters (`u1@x.test` ... `u40@x.test`) falls in a narrow band of
 * slots, and 40 such channels were seen landing 33/7/0 on three primaries.
 */
import { channelOf } from "../../protocol";

const P = "roomz:";

export interface Keyspace {
  /** True for the Redis Cluster layout. */
  readonly cluster: boolean;
  /** The dataset's epoch: set once (SET NX); a flushed Redis gets a new one. */
  readonly epoch: string;
  /** Last seq given out in a channel (INCR). */
  seq(channel: string): string;
  /** The channel's messages: a sorted set scored by seq, members the message JSON. Kept forever. */
  log(channel: string): string;
  /** client_msg_id → seq, with a TTL (de-duplication window). */
  clientMsgId(channel: string, id: string): string;
  /** connection id → {"i": instance, "n": display name, "t": connected_at ms}. */
  presence(channel: string): string;
  /** Every instance that has registered, alive or not yet reaped. */
  readonly instances: string;
  /** Present (with a TTL) while the instance sends heartbeats. */
  alive(instance: string): string;
  /** The channels an instance has presence entries in, so a survivor can clean them up. */
  instanceChannels(instance: string): string;
  /** Held by the one survivor that reaps a dead instance. */
  reaping(instance: string): string;
  link(tokenHash: string): string;
  rate(key: string): string;
  revoked(jti: string): string;
  readonly sessionVersions: string;
  /** The user's Web Push subscriptions: a hash, endpoint → record JSON; in the channel's slot. */
  push(channel: string): string;
  /** A user's access tokens: id → record JSON (with the token's hash). In the user's channel slot. */
  tokens(email: string): string;
  /** A user's tokens' last use: id → ms. In the same slot as `tokens`. */
  tokenUses(email: string): string;
  /** Token hash → {"e": email, "i": id}, to find a presented token; expires with it. */
  tokenHash(hash: string): string;
  /**
   * A channel's live stream: messages (`m<seq> <json>`) and presence frames
   * (`e<instance> <except> <frame>`). Sharded pub/sub (SPUBLISH) on a cluster.
   */
  feed(channel: string): string;
  /** The channel a feed name belongs to, or null for another name. */
  channelOfFeed(name: string): string | null;
  /** PUBLISH or SPUBLISH: how feeds are published. */
  readonly publish: "PUBLISH" | "SPUBLISH";
  /** Session-ending events for every instance (plain pub/sub: a cluster carries it to every node). */
  readonly control: string;
  /** A user's files: id → record JSON, and `r:<id>` → 1 once a message refers to it. */
  files(channel: string): string;
  /** The bytes of every file the user holds (the quota's counter), in the same slot. */
  fileUsage(channel: string): string;
  /** Files no message refers to yet: `<channel> <id>` scored by upload time (cleanup). */
  readonly pendingFiles: string;
  /** sha256 → how many file records share that content (the blob's reference count). */
  readonly blobRefs: string;
}

export function keyspace(cluster: boolean): Keyspace {
  const c = cluster ? (channel: string) => `{${slotTag(channel)}}:${channel}` : (channel: string) => channel;
  const g = cluster ? `${P}{global}:` : P;
  const feedPrefix = `${P}feed:`;
  return {
    cluster,
    epoch: `${g}epoch`,
    seq: (channel) => `${P}seq:${c(channel)}`,
    log: (channel) => `${P}log:${c(channel)}`,
    clientMsgId: (channel, id) => `${P}cmid:${c(channel)}:${id}`,
    presence: (channel) => `${P}presence:${c(channel)}`,
    instances: `${g}instances`,
    alive: (instance) => `${g}alive:${instance}`,
    instanceChannels: (instance) => `${g}instance-channels:${instance}`,
    reaping: (instance) => `${g}reaping:${instance}`,
    link: (tokenHash) => `${P}link:${tokenHash}`,
    rate: (key) => `${g}rate:${key}`,
    revoked: (jti) => `${P}revoked:${jti}`,
    sessionVersions: `${P}session-versions`,
    push: (channel) => `${P}push:${c(channel)}`,
    tokens: (email) => `${P}tokens:${c(channelOf(email))}`,
    tokenUses: (email) => `${P}token-uses:${c(channelOf(email))}`,
    tokenHash: (hash) => `${P}token:${hash}`,
    feed: (channel) => `${feedPrefix}${c(channel)}`,
    channelOfFeed(name) {
      if (!name.startsWith(feedPrefix)) return null;
      return cluster ? name.slice(name.indexOf("}:", feedPrefix.length) + 2) : name.slice(feedPrefix.length);
    },
    publish: cluster ? "SPUBLISH" : "PUBLISH",
    control: `${P}control`,
    files: (channel) => `${P}files:${c(channel)}`,
    fileUsage: (channel) => `${P}file-usage:${c(channel)}`,
    pendingFiles: `${g}pending-files`,
    blobRefs: `${g}blob-refs`,
  };
}

const tags = new Map<string, string>();

/**
 * A channel's hash tag: FNV-1a of its name, mixed by MurmurHash3's finaliser, as 8 hex
 * digits. Fixed forever: it decides where existing data lives.
 */
export function slotTag(channel: string): string {
  let tag = tags.get(channel);
  if (tag !== undefined) return tag;
  let h = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) h = Math.imul(h ^ channel.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  tag = ((h ^ (h >>> 16)) >>> 0).toString(16).padStart(8, "0");
  if (tags.size >= 10_000) tags.clear();
  tags.set(channel, tag);
  return tag;
}
