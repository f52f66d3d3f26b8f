/**
 * The library's entry for scripts and bots: a RoomzClient whose session is loaded from
 * and saved to the session cache file, so a machine signed in once stays signed in.
 * Node-only (node:fs): exported by the "roomz/client/node" entry, never by the core.
 */
import { RoomzClient } from "./client.js";
import { SessionCache } from "./session-cache.js";
import type { RoomzClientOptions } from "./types.js";

export interface CreateClientOptions extends RoomzClientOptions {
  /** Path of the cache (default ~/.roomz/session.json); false keeps the session in memory only. */
  sessionCacheFile?: string | false;
}

export async function createClient(options: CreateClientOptions): Promise<RoomzClient> {
  if (options.sessionCacheFile === false) return new RoomzClient(options);
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
