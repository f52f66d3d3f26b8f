/** Rules shared by every engine for joins and replays (PROTOCOL.md section 2). */
import type { ConnectionInfo } from "../protocol";
import type { LocalSocket } from "./engine";

/** A `since` replay carries at most this many messages; older ones are paged with `history`. */
export const REPLAY_LIMIT = 500;

export function connectionInfo(socket: LocalSocket): ConnectionInfo {
  return {
    connection_id: socket.connectionId,
    display_name: socket.displayName,
    connected_at: new Date(socket.connectedAt).toISOString(),
  };
}

/** The sockets' presence entries, ordered by `connected_at`. */
export function connectionsOf(sockets: Iterable<LocalSocket>): ConnectionInfo[] {
  return [...sockets].sort((a, b) => a.connectedAt - b.connectedAt).map(connectionInfo);
}
