/**
 * Builds the Redis store (REDIS_URL): messages, presence, sign-in, sessions and push subscriptions shared by
 * every instance. Starts even when Redis is unreachable: /healthz answers 503 until the
 * link comes up, and the link keeps trying.
 */
import type { EngineEvents } from "../engine";
import type { Store } from "../index";
import { RedisAuthStore } from "./auth-store-redis";
import { RedisEngine } from "./engine-redis";
import { RedisFileStore } from "./file-store-redis";
import { RedisPushStore } from "./push-store-redis";
import { RedisTokenStore } from "./token-store-redis";

export async function createRedisStore(url: string, events: EngineEvents): Promise<Store> {
  const engine = new RedisEngine(url, events);
  await engine.start();
  const auth = new RedisAuthStore(engine.link, engine.keys);
  return {
    engine,
    auth,
    files: new RedisFileStore(engine.link, engine.keys),
    push: new RedisPushStore(engine.link, engine.keys),
    tokens: new RedisTokenStore(engine.link, engine.keys),
    close: () => engine.close(),
  };
}
