/**
 * Frame shapes of the WebSocket contract (PROTOCOL.md section 2), shared by the server
 * and the client core. Timestamps are ISO strings `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC).
 */
import type { FileInfo } from "./file-info.js";
import type { FrameErrorCode } from "./problems.js";

export interface ChannelUser {
  id: string; // "user:<email>"
  email: string;
  display_name: string | null;
}

export interface HttpUser {
  id: string;
  email: string;
}

/** Exactly the `data` of a `message` frame; also the elements of history pages and replays. */
export interface ChatMessage {
  id: string;
  seq: number;
  client_msg_id: string | null;
  user: ChannelUser;
  connection_id: string;
  content: string;
  timestamp: string;
  /** [v2] Attachments (section 7), `[]` when none. */
  files: FileInfo[];
}

export interface ConnectionInfo {
  connection_id: string;
  display_name: string | null;
  connected_at: string;
}

export interface AuthenticatedData {
  user: ChannelUser;
  channel: string;
  connection_id: string;
  epoch: string;
  server_time: string;
  connections: ConnectionInfo[];
}

export interface ReplayData {
  messages: ChatMessage[];
  complete: boolean;
  reset: boolean;
}

export interface UserJoinedData {
  user: ChannelUser;
  connection_id: string;
  timestamp: string;
  total_connections: number;
}

export interface UserLeftData {
  user: ChannelUser;
  connection_id: string;
  timestamp: string;
  remaining_connections: number;
}

export interface DisplayNameChangedData {
  user: ChannelUser;
  connection_id: string;
  timestamp: string;
}

export interface MessageAck {
  id: string;
  seq: number;
  timestamp: string;
  duplicate: boolean;
  /** [v2] The stored message's files (section 7), `[]` when none. */
  files: FileInfo[];
}

export interface HistoryAck {
  messages: ChatMessage[];
  has_more: boolean;
}

export interface ErrorData {
  code: FrameErrorCode;
  message: string;
  retry_after_ms?: number;
}

/** Frames the server sends. */
export type ServerFrame =
  | { type: "authenticated"; data: AuthenticatedData }
  | { type: "history"; data: ReplayData }
  | { type: "message"; data: ChatMessage }
  | { type: "user_joined"; data: UserJoinedData }
  | { type: "user_left"; data: UserLeftData }
  | { type: "display_name_changed"; data: DisplayNameChangedData }
  | { type: "ack"; ref?: string; data: unknown }
  | { type: "error"; ref?: string; data: ErrorData };

/** Frames a client sends. */
export type ClientFrame =
  | { type: "message"; ref?: string; data: { content: string; client_msg_id?: string; files?: string[] } }
  | { type: "set_display_name"; ref?: string; data: { display_name: string | null } }
  | { type: "history"; ref?: string; data?: { before?: number; limit?: number } }
  | { type: "ping"; ref?: string; data?: Record<string, never> };

/** Formats a time the way every Roomz timestamp is written. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** The text of a `message` frame, built once per message and sent to every connection. */
export function messageFrame(message: ChatMessage): string {
  return `{"type":"message","data":${JSON.stringify(message)}}`;
}
