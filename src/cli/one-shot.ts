/** Shared setup of `roomz send` and `roomz listen`: flags, the cached session, exit codes. */
import type { RoomzClient } from "../client/client";
import { clientWithCache } from "../client/create-client";
import type { ConnectionState } from "../client/types";
import { parseArgs, UsageError, type Allowed, type Parsed } from "./args";
import { RoomzError } from "../client/errors";
import { explain } from "./describe";

export const EXIT = { done: 0, refused: 1, usage: 2, notSignedIn: 3 } as const;

export function notSignedIn(server: string): string {
  return `Not signed in to ${server}. Run \`roomz cli --server ${server}\` and use /login there first.`;
}

/** Parses flags; on a usage error prints it with `usage` and returns the exit code instead. */
export function parseOrExit(argv: string[], usage: string, allow: Allowed): Parsed | number {
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
  const { client, saved } = clientWithCache({ server });
  if (saved) return client;
  console.error(notSignedIn(server));
  return null;
}

/** The exit code and sentence for a request refused with `error` while using an access token. */
export function tokenRefusal(error: unknown, server: string): { code: number; text: string } {
  if (error instanceof RoomzError && error.code === "unauthenticated")
    return { code: EXIT.notSignedIn, text: "The server refused the access token: it was revoked, it expired, or it was mistyped." };
  return { code: EXIT.refused, text: explain(error, server) };
}

/** The exit code and sentence for a client that stopped. */
export function stopOutcome(server: string, state: ConnectionState): { code: number; text: string } {
  switch (state.stop) {
    case "signed_out":
    case "session_ended":
      return { code: EXIT.notSignedIn, text: `The server refused the saved session, so it was removed. ${notSignedIn(server)}` };
    case "not_allowed":
      return { code: EXIT.refused, text: "This address is not allowed on this server." };
    default:
      return { code: EXIT.refused, text: `Disconnected: ${state.reason ?? "stopped"}.` };
  }
}
