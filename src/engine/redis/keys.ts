/**
 * Every Redis key and pub/sub channel Roomz uses, in one place. All start with `roomz:`,
 * so a Redis shared with other applications stays readable; the dataset is meant for one
 * Roomz deployment (a single Redis or Valkey node, not Cluster: scripts touch several keys).
 */
const P = "roomz:";

export const keys = {
  /** The dataset's epoch: set once (SET NX); a flushed Redis gets a new one. */
  epoch: `${P}epoch`,
  /** Last seq given out in a channel (INCR). */
  seq: (channel: string) => `${P}seq:${channel}`,
  /** The channel's messages: a sorted set scored by seq, members the message JSON. Kept forever. */
  log: (channel: string) => `${P}log:${channel}`,
  /** client_msg_id → seq, with a TTL (de-duplication window). */
  clientMsgId: (channel: string, id: string) => `${P}cmid:${channel}:${id}`,
  /** connection id → {"i": instance, "n": display name, "t": connected_at ms}. */
  presence: (channel: string) => `${P}presence:${channel}`,
  /** Every instance that has registered, alive or not yet reaped. */
  instances: `${P}instances`,
  /** Present (with a TTL) while the instance sends heartbeats. */
  alive: (instance: string) => `${P}alive:${instance}`,
  /** The channels an instance has presence entries in, so a survivor can clean them up. */
  instanceChannels: (instance: string) => `${P}instance-channels:${instance}`,
  /** Held by the one survivor that reaps a dead instance. */
  reaping: (instance: string) => `${P}reaping:${instance}`,
  link: (tokenHash: string) => `${P}link:${tokenHash}`,
  rate: (key: string) => `${P}rate:${key}`,
  revoked: (jti: string) => `${P}revoked:${jti}`,
  sessionVersions: `${P}session-versions`,
};

export const pubsub = {
  /** A channel's live stream: messages (`m<seq> <json>`) and presence frames (`e<instance> <except> <frame>`). */
  feed: (channel: string) => `${P}feed:${channel}`,
  feedPrefix: `${P}feed:`,
  /** Session-ending events for every instance. */
  control: `${P}control`,
};
