/**
 * The cluster layout's names and REDIS_URL for a cluster, without a server. The hash tags
 * are pinned: they decide where existing data lives, so they may never change.
 */
import { expect, test } from "bun:test";
import { parseClusterUrl } from "../../src/engine/redis/cluster-url";
import { keyspace, slotTag } from "../../src/engine/redis/keys";

test("a channel's keys share one tag made from its name; single-Redis names are unchanged", () => {
  expect(slotTag("user:alice@example.com")).toBe(slotTag("user:alice@example.com"));
  expect(["user:alice@example.com", "user:u1@x.test", "user:a{b}c@x.test"].map(slotTag)).toEqual(["1a0951a1", "072bcb3d", "fcc52a7e"]);
  const cluster = keyspace(true);
  const channel = "user:a{b}c@x.test";
  const tag = `{${slotTag(channel)}}`;
  for (const key of [cluster.seq(channel), cluster.log(channel), cluster.presence(channel), cluster.feed(channel), cluster.clientMsgId(channel, "id")])
    expect(key.slice(key.indexOf("{"), key.indexOf("}") + 1)).toBe(tag);
  expect(cluster.channelOfFeed(cluster.feed(channel))).toBe(channel);
  expect([cluster.epoch, cluster.instances, cluster.alive("i"), cluster.rate("k")].every((k) => k.startsWith("roomz:{global}:"))).toBe(true);
  const single = keyspace(false);
  expect([single.seq(channel), single.log(channel), single.clientMsgId(channel, "id"), single.feed(channel), single.epoch, single.rate("k")]).toEqual([
    `roomz:seq:${channel}`, `roomz:log:${channel}`, `roomz:cmid:${channel}:id`, `roomz:feed:${channel}`, "roomz:epoch", "roomz:rate:k",
  ]);
  expect(single.channelOfFeed(single.feed(channel))).toBe(channel);
});

test("REDIS_URL for a cluster: seeds, credentials, TLS; a bad one says which part", () => {
  expect(parseClusterUrl("redis+cluster://10.0.0.1:6379,10.0.0.2:7000")).toEqual({
    seeds: [{ host: "10.0.0.1", port: 6379 }, { host: "10.0.0.2", port: 7000 }],
    username: undefined,
    password: undefined,
    tls: false,
  });
  expect(parseClusterUrl("rediss+cluster://app:p%40ss@redis.internal:6380/")).toMatchObject({ seeds: [{ host: "redis.internal", port: 6380 }], username: "app", password: "p@ss", tls: true });
  expect(parseClusterUrl("redis+cluster://:secret@h1,[::1]:7001")).toMatchObject({ seeds: [{ host: "h1", port: 6379 }, { host: "::1", port: 7001 }], password: "secret" });
  expect(() => parseClusterUrl("redis+cluster://h1:notaport")).toThrow('"h1:notaport" in REDIS_URL is not host:port');
  expect(() => parseClusterUrl("redis://h1:6379")).toThrow("is not a cluster URL");
});
