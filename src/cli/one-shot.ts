/** Shared setup of `roomz send` and `roomz listen`: flags, the cached session, exit codes. */
import { RoomzClient } from "../client/client";
import { SessionCache } from "../client/session-cache";
import type { SessionInfo } from "../client/types";
import { parseArgs, UsageError, type Parsed } from "./args";

export const EXIT = { done: 0, refused: 1, usage: 2, notSignedIn: 3 } as const;

export function notSignedIn(server: string): string {
  return `Not signed in to ${server}. Run \`roomz cli --server ${server}\` and use /login there first.`;
}

/** Parses flags; on a usage error prints it with `usage` and returns the exit code instead. */
export function parseOrExit(argv: string[], usage: string, allow: { json?: boolean; text?: boolean }): Parsed | number {
  try {
    const parsed = parseArgs(argv, allow);
    if (parsed.help) return (console.log(usage), EXIT.done);
    return parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${usage}`);
    return EXIT.usage;
  }
}

/** A client with the cached session of `server`, or null (after saying so) when there is none. */
export function cachedClient(server: string): RoomzClient | null {
  const cache = new SessionCache();
  const cached: SessionInfo | null = cache.get(server);
  if (!cached) {
    console.error(notSignedIn(server));
    return null;
  }
  return new RoomzClient({ server, session: cached.session, onSession: (s) => cache.set(server, s) });
}

/** The exit code and sentence for a client that stopped with `reason`. */
export function stopOutcome(server: string, reason: string | undefined): { code: number; text: string } {
  if (reason === "signed out" || reason === "session ended")
    return { code: EXIT.notSignedIn, text: `The server refused the saved session, so it was removed. ${notSignedIn(server)}` };
  if (reason === "not allowed") return { code: EXIT.refused, text: "This address is not allowed on this server." };
  return { code: EXIT.refused, text: `Disconnected: ${reason ?? "stopped"}.` };
}
