/**
 * The one place that chooses an engine from the configuration: Redis when REDIS_URL is
 * set, else the embedded SQLite engine. Nothing else names an implementation.
 */
import type { AuthStore } from "./auth-store";
import type { Engine, EngineEvents } from "./engine";
import type { FileStore } from "./file-store";
import type { PushStore } from "./push-store";
import type { TokenStore } from "./token-store";

/** What choosing and opening a store needs from the configuration. */
export interface StoreOptions {
  dataDir: string;
  redisUrl: string | null;
}

export interface Store {
  engine: Engine;
  auth: AuthStore;
  files: FileStore;
  push: PushStore;
  tokens: TokenStore;
  close(): Promise<void>;
}

export async function createStore(options: StoreOptions, events: EngineEvents): Promise<Store> {
  if (options.redisUrl) {
    const { createRedisStore } = await import("./redis/store-redis");
    return createRedisStore(options.redisUrl, events);
  }
  const { createEmbeddedStore } = await import("./embedded/store-embedded");
  return createEmbeddedStore(options, events);
}

export type { Engine, EngineEvents, Member, NewMessage, AppendResult, Joined, ControlEvent } from "./engine";
export { EngineUnavailable } from "./engine";
export type { AuthStore } from "./auth-store";
export type { FileStore, FileRecord, AddFileResult, RemovedFile } from "./file-store";
export type { PushStore, PushSubscriptionRecord } from "./push-store";
export type { TokenRecord, TokenStore } from "./token-store";
