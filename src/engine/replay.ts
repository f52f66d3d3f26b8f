/** Rules shared by every engine for joins and replays (PROTOCOL.md section 2). */
import type { ConnectionInfo } from "../protocol";
import type { JoinRequest, Member } from "./engine";

/** A `since` replay carries at most this many messages; older ones are paged with `history`. */
export const REPLAY_LIMIT = 500;

export function connectionInfo(member: Member): ConnectionInfo {
  return {
    connection_id: member.connectionId,
    display_name: member.displayName,
    connected_at: new Date(member.connectedAt).toISOString(),
  };
}

/** The members' presence entries, ordered by `connected_at`. */
export function connectionsOf(members: Iterable<Member>): ConnectionInfo[] {
  return [...members].sort((a, b) => a.connectedAt - b.connectedAt).map(connectionInfo);
}

/**
 * A replay starts over (`reset: true`, the newest messages) when the client's messages
 * came from another store (a different epoch) or from a later state of this one: a `since`
 * above the channel's last seq means the store went back in time (restored from an older
 * backup), and the seqs the client holds will be given to new messages.
 */
export function replayResets(request: JoinRequest, epoch: string, lastSeq: number): boolean {
  if (request.epoch !== null && request.epoch !== epoch) return true;
  return request.since !== null && request.since > lastSeq;
}
