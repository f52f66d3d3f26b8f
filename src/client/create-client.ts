/**
 * The library's entry for scripts and bots: a RoomzClient whose session is loaded from
 * and saved to the session cache file, so a machine signed in once stays signed in.
 * Node-only (node:fs): exported by the "roomz/client/node" entry, never by the core.
 */
import { RoomzClient } from "./client.js";
import { SessionCache } from "./session-cache.js";
import type { RoomzClientOptions, SessionInfo } from "./types.js";

export interface CreateClientOptions extends RoomzClientOptions {
  /** Path of the cache (default ~/.roomz/session.json); false keeps the session in memory only. */
  sessionCacheFile?: string | false;
}

export async function createClient(options: CreateClientOptions): Promise<RoomzClient> {
  return clientWithCache(options).client;
}

/**
 * The one place a client is wired to the session cache (the library, `roomz cli`, `send`
 * and `listen` all use it): the server's saved session is loaded, every change is saved.
 * `saved` is what the cache held (null: not signed in on this machine).
 */
export function clientWithCache(options: CreateClientOptions): { client: RoomzClient; saved: SessionInfo | null } {
  if (options.sessionCacheFile === false) return { client: new RoomzClient(options), saved: null };
  const cache = new SessionCache(options.sessionCacheFile);
  const saved = cache.get(options.server);
  const client = new RoomzClient({
    ...options,
    session: options.session ?? saved?.session ?? null,
    onSession: (session) => {
      cache.set(options.server, session);
      options.onSession?.(session);
    },
  });
  return { client, saved };
}
