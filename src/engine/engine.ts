/**
 * The boundary between the socket protocol and whatever stores and fans out messages.
 * The embedded engine (SQLite + in-process pub/sub) and the Redis engine implement it;
 * the protocol code never sees SQL, Redis or `server.publish`.
 */
import type { ChatMessage, ConnectionInfo, ReplayData } from "../protocol";

/** What the protocol hands the engine to store. */
export interface NewMessage {
  channel: string;
  email: string;
  connectionId: string;
  displayName: string | null;
  content: string;
  clientMsgId: string | null;
}

export interface AppendResult {
  message: ChatMessage;
  /** True when the channel already held this client_msg_id: nothing was stored or broadcast. */
  duplicate: boolean;
}

/** Thrown (or passed) when the store cannot take or serve a request right now. */
export class EngineUnavailable extends Error {
  constructor(message = "The message store is unavailable.") {
    super(message);
    this.name = "EngineUnavailable";
  }
}

/** The engine's view of one local WebSocket: it subscribes it and sends to it, nothing else. */
export interface LocalSocket {
  readonly connectionId: string;
  readonly channel: string;
  readonly connectedAt: number;
  displayName: string | null;
  subscribe(topic: string): void;
  send(text: string): void;
  /** Closes the socket (4008) when its unsent data is over the limit; called after each publish. */
  checkBackpressure(): void;
}

export interface JoinRequest {
  since: number | null;
  epoch: string | null;
}

/** What a joining connection learns, at the exact moment it starts receiving live traffic. */
export interface Joined {
  epoch: string;
  /** Every connection of the user on every instance, this one included, by connected_at. */
  connections: ConnectionInfo[];
  /** Present when the join asked for `since`. */
  replay: ReplayData | null;
}

/**
 * Signals to the protocol: sessions ending must close sockets everywhere (these cross
 * instances); a channel whose store went back in time (seen by each instance itself)
 * must have its connections resume, so that they get a reset replay.
 */
export type ControlEvent =
  | { kind: "session_revoked"; jti: string }
  | { kind: "user_sessions_ended"; email: string }
  | { kind: "channel_rewound"; channel: string };

export interface Engine {
  /**
   * Stores a message with the channel's next `seq` (from 1, gapless, strictly increasing)
   * or, when the channel already holds its `clientMsgId`, returns the original with
   * `duplicate: true`. Atomic per channel: of two racing appends with one id, one stores.
   * `onStored` runs once the message is durable and before it is delivered to any
   * connection (so the sender's ack precedes its own copy); it gets EngineUnavailable
   * when the store could not take the message, which then is neither stored nor sent.
   * Delivery to every connection of the channel, on every instance, is in `seq` order.
   */
  append(message: NewMessage, onStored: (result: AppendResult | EngineUnavailable) => void): void;

  /** The newest `limit` messages below `before` (or overall), ascending by `seq`. */
  history(channel: string, before: number | null, limit: number): Promise<{ messages: ChatMessage[]; hasMore: boolean }>;

  /**
   * Registers the socket in the channel's presence and subscribes it to the live stream.
   * `onJoined` runs synchronously at the moment of subscription, so frames it sends come
   * before any live message, and a replay it carries neither overlaps nor leaves a gap
   * with the live messages that follow.
   */
  join(socket: LocalSocket, request: JoinRequest, onJoined: (joined: Joined) => void): Promise<void>;

  /** Removes the socket from presence; resolves with the user's remaining connections. */
  leave(socket: LocalSocket): Promise<number>;

  /** Records a connection's display name in presence (not stored with past messages). */
  setDisplayName(socket: LocalSocket, displayName: string | null): Promise<void>;

  /** The user's open connections on every instance. */
  connectionCount(channel: string): Promise<number>;

  /**
   * Sends a presence frame to every connection of the channel, on every instance,
   * except the connection `exceptConnectionId`.
   */
  broadcastEvent(channel: string, frame: string, exceptConnectionId: string): void;

  /** Tells every instance (this one included) that sessions ended. */
  control(event: ControlEvent): Promise<void>;
  onControl(handler: (event: ControlEvent) => void): void;

  /**
   * Called for each connection of a dead instance when it is forgotten, with the user's
   * remaining connection count, so the protocol can announce `user_left`.
   */
  onForgotten(handler: (channel: string, connectionId: string, remaining: number) => void): void;

  /** False while the store is unreachable. */
  healthy(): boolean;

  /** Stores everything accepted so far and delivers it; then stops taking work. */
  drain(): Promise<void>;
  close(): Promise<void>;
}
