/**
 * The library's entry for scripts and bots: a RoomzClient whose session is loaded from
 * and saved to the session cache file, so a machine signed in once stays signed in.
 */
import { RoomzClient } from "./client";
import type { RoomzClientOptions } from "./types";

export interface CreateClientOptions extends RoomzClientOptions {
  /** Path of the cache (default ~/.roomz/session.json); false keeps the session in memory only. */
  sessionCacheFile?: string | false;
}

export async function createClient(options: CreateClientOptions): Promise<RoomzClient> {
  const inBrowser = typeof (globalThis as { document?: unknown }).document !== "undefined";
  if (options.sessionCacheFile === false || inBrowser) return new RoomzClient(options);
  const { SessionCache } = await import("./session-cache");
  const cache = new SessionCache(options.sessionCacheFile);
  return new RoomzClient({
    ...options,
    session: options.session ?? cache.get(options.server)?.session ?? null,
    onSession: (session) => {
      cache.set(options.server, session);
      options.onSession?.(session);
    },
  });
}
