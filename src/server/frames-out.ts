/**
 * Every frame the server sends (PROTOCOL.md section 2, "Server to client"), built in one
 * place and serialised once: the mirror of frames-in.ts.
 */
import type { AuthenticatedData, ChannelUser, ReplayData } from "../protocol";
import { emailOf, isoTime } from "../protocol";

/** A reply carries the request's `ref` only when the request had one. */
function reply(type: "ack" | "error", ref: string | undefined, data: unknown): string {
  return JSON.stringify(ref === undefined ? { type, data } : { type, ref, data });
}

export function ackFrame(ref: string | undefined, data: unknown): string {
  return reply("ack", ref, data);
}

export function errorFrame(ref: string | undefined, code: string, message: string, extra: Record<string, unknown> = {}): string {
  return reply("error", ref, { code, message, ...extra });
}

export function authenticatedFrame(data: AuthenticatedData): string {
  return JSON.stringify({ type: "authenticated", data });
}

export function replayFrame(data: ReplayData): string {
  return JSON.stringify({ type: "history", data });
}

export function userJoinedFrame(user: ChannelUser, connectionId: string, totalConnections: number): string {
  return JSON.stringify({
    type: "user_joined",
    data: { user, connection_id: connectionId, timestamp: isoTime(Date.now()), total_connections: totalConnections },
  });
}

export function userLeftFrame(channel: string, connectionId: string, displayName: string | null, remaining: number): string {
  const user: ChannelUser = { id: channel, email: emailOf(channel), display_name: displayName };
  return JSON.stringify({
    type: "user_left",
    data: { user, connection_id: connectionId, timestamp: isoTime(Date.now()), remaining_connections: remaining },
  });
}

export function displayNameChangedFrame(user: ChannelUser, connectionId: string): string {
  return JSON.stringify({ type: "display_name_changed", data: { user, connection_id: connectionId, timestamp: isoTime(Date.now()) } });
}
