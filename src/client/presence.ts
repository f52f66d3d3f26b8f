/**
 * Keeps the user's list of open connections current from `user_joined`, `user_left` and
 * `display_name_changed`, ordered by `connected_at` like the `authenticated` frame.
 */
import type { ConnectionInfo, DisplayNameChangedData, UserJoinedData, UserLeftData } from "../protocol/frames.js";

export type PresenceFrame =
  | { type: "user_joined"; data: UserJoinedData }
  | { type: "user_left"; data: UserLeftData }
  | { type: "display_name_changed"; data: DisplayNameChangedData };

export function apply(list: ConnectionInfo[], frame: PresenceFrame): ConnectionInfo[] {
  if (frame.type === "user_joined") return joined(list, frame.data);
  if (frame.type === "user_left") return left(list, frame.data);
  return renamed(list, frame.data);
}

export function joined(list: ConnectionInfo[], data: UserJoinedData): ConnectionInfo[] {
  const rest = list.filter((c) => c.connection_id !== data.connection_id);
  const entry = { connection_id: data.connection_id, display_name: data.user?.display_name ?? null, connected_at: data.timestamp };
  return [...rest, entry].sort((a, b) => (a.connected_at < b.connected_at ? -1 : a.connected_at > b.connected_at ? 1 : 0));
}

export function left(list: ConnectionInfo[], data: UserLeftData): ConnectionInfo[] {
  return list.filter((c) => c.connection_id !== data.connection_id);
}

export function renamed(list: ConnectionInfo[], data: DisplayNameChangedData): ConnectionInfo[] {
  return withName(list, data.connection_id, data.user?.display_name ?? null);
}

export function withName(list: ConnectionInfo[], connectionId: string | null, name: string | null): ConnectionInfo[] {
  return list.map((c) => (c.connection_id === connectionId ? { ...c, display_name: name } : c));
}
