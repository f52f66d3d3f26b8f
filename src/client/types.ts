/** Public types of the client core: options, connection states and events. */
import type {
  AuthenticatedData,
  ChatMessage,
  DisplayNameChangedData,
  HttpUser,
  MessageAck,
  UserJoinedData,
  UserLeftData,
} from "../protocol/frames.js";

export type ConnectionStatus = "idle" | "connecting" | "connected" | "reconnecting" | "offline" | "stopped";

/**
 * Why a client stopped (status "stopped"), for programs to switch on:
 * - `closed`: `close()` was called;
 * - `signed_out`: logged out here, or the server refused the session (401);
 * - `session_ended`: logout, logout-all or expiry elsewhere (close 4001);
 * - `not_allowed`: the address is off the allow-list (close 4003, or 403);
 * - `no_websocket`: this runtime has no WebSocket and none was given;
 * - `bad_address`: the server address can't be connected to;
 * - `user_changed`: `verifyToken` signed in another user; `connect()` joins their channel.
 */
export type StopCode = "closed" | "signed_out" | "session_ended" | "not_allowed" | "no_websocket" | "bad_address" | "user_changed";

/**
 * Where the connection stands. `retryInMs` is set while waiting for the next attempt
 * ("reconnecting" after a drop, "offline" when the server could not be reached);
 * `reason` says in words why a connection stopped or dropped; `stop` says why it stopped
 * as a code.
 */
export interface ConnectionState {
  status: ConnectionStatus;
  retryInMs?: number;
  reason?: string;
  stop?: StopCode;
}

/** What `onSession` receives, and what a session cache stores per server. */
export interface SessionInfo {
  session: string;
  email: string;
  expires_at: string;
}

export interface ReconnectOptions {
  /** First retry delay before jitter (default 500 ms); doubles per failed attempt. */
  baseMs?: number;
  /** Ceiling of the delay between attempts (default 30 000 ms). */
  maxMs?: number;
}

/**
 * What the client uses of a WebSocket, typed by shape rather than by the DOM's class, so
 * the built-in WebSocket of browsers, Bun and Node 22 and the ws package's all fit, and a
 * consumer needs neither DOM nor Node types. Outside browsers the constructor's second
 * argument is `{ headers }` with the session (Bun, Node's undici and ws all read it).
 */
export interface WebSocketLike {
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, options?: any) => WebSocketLike;

/** What the client passes to fetch, and reads of its answer; the global fetch fits. */
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  credentials?: "same-origin";
}

export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null; has(name: string): boolean };
  json(): Promise<unknown>;
}

export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponse>;

/** A message sent but not yet acknowledged, as an outbox storage keeps it. */
export interface PendingSend {
  client_msg_id: string;
  content: string;
  /** When it was typed (ISO 8601), to show it in place after a reload. */
  created_at: string;
  /** The ids of its files (already uploaded), when it has any. */
  files?: string[];
  /** The address whose channel it was typed in, once known: it is sent for that user only. */
  user?: string;
}

/** How to upload a file (`RoomzClient.uploadFile`, `sendFile`). */
export interface UploadOptions {
  /** The name shown with it (at most 255 characters, no / or \\, no control characters). */
  name: string;
  /** Its media type; default application/octet-stream (the server then recognises images itself). */
  type?: string;
  /** Bytes sent so far and the total (-1 when unknown); browsers only (XMLHttpRequest). */
  onProgress?: (sent: number, total: number) => void;
}

/** A stored message queued again at start, and its acknowledgement. */
export interface RestoredSend extends PendingSend {
  ack: Promise<MessageAck>;
}

/**
 * Where the outbox keeps unacknowledged messages so that they survive a restart of the
 * program (a browser reload). `save` gets the whole list each time it changes.
 */
export interface OutboxStorage {
  load(): PendingSend[];
  save(pending: PendingSend[]): void;
}

export interface RoomzClientOptions {
  /** Base URL of the server, e.g. "https://chat.example.com"; "" in a browser means same origin. */
  server: string;
  /** Session JWT sent as `Authorization: Bearer` (non-browser). Browsers use the httpOnly cookie. */
  session?: string | null;
  /**
   * An access token (`rz_...`, PROTOCOL.md section 6) used instead of a session, for
   * scripts and bots: sent as `Authorization: Bearer` on HTTP and the WebSocket (which
   * needs scope `full`; `post()` needs `send`). Never reported through `onSession`.
   */
  token?: string | null;
  /**
   * The WebSocket class to connect with; default globalThis.WebSocket (browsers, Bun,
   * Node 22+). Node 20 has none built in: pass the ws package's (`import WebSocket from "ws"`).
   */
  WebSocket?: WebSocketConstructor;
  /** The fetch to sign in with; default globalThis.fetch. */
  fetch?: FetchLike;
  /** Called when a session is obtained (verifyToken) or dropped (logout, 401, 4001), to persist it. */
  onSession?: (session: SessionInfo | null) => void;
  reconnect?: ReconnectOptions;
  /**
   * Keeps unacknowledged messages across restarts; on start the client queues what it
   * holds again, with the same client_msg_id (see `restoredSends`).
   */
  outboxStorage?: OutboxStorage;
  /** Application ping interval (default 25 000 ms) and how long to wait for its ack (default 10 000 ms). */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
}

/** What `post()` answers: the stored message, and whether it was a repeat of an earlier post. */
export type PostedMessage = ChatMessage & { duplicate: boolean };

export interface VerifyResult {
  user: HttpUser;
  session: string;
  expires_at: string;
}

export interface MeResult {
  user: HttpUser;
  session: { issued_at: string; expires_at: string };
}

export interface RoomzEvents {
  /** Every message of the channel exactly once, in `seq` order, replayed ones included. */
  message: ChatMessage;
  user_joined: UserJoinedData;
  user_left: UserLeftData;
  display_name_changed: DisplayNameChangedData;
  connection_state: ConnectionState;
  authenticated: AuthenticatedData;
  /** The channel's store changed (epoch): drop every message held; the replay that follows restarts it. */
  reset: { epoch: string };
}

export type RoomzEventName = keyof RoomzEvents;

/** A browser's PushSubscription as JSON (`subscription.toJSON()`), as the server takes it. */
export interface PushSubscriptionData {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}
