/**
 * The one place that chooses an engine from the configuration: Redis when REDIS_URL is
 * set, else the embedded SQLite engine. Nothing else names an implementation.
 */
import type { Config } from "../server/config";
import type { AuthStore } from "./auth-store";
import type { Engine } from "./engine";
import type { TopicPublisher } from "./local-fanout";

export interface Store {
  engine: Engine;
  auth: AuthStore;
  close(): Promise<void>;
}

export async function createStore(config: Config, publish: TopicPublisher): Promise<Store> {
  if (config.redisUrl) {
    // @ts-ignore: the Redis engine lands in its own change
    const { createRedisStore } = await import("./redis/store-redis");
    return createRedisStore(config, publish);
  }
  const { createEmbeddedStore } = await import("./embedded/store-embedded");
  return createEmbeddedStore(config, publish);
}

export type { Engine, LocalSocket, NewMessage, AppendResult, Joined, ControlEvent } from "./engine";
export { EngineUnavailable } from "./engine";
export type { AuthStore } from "./auth-store";
