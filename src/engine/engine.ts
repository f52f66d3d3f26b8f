/**
 * The boundary between the socket protocol and whatever stores messages and carries them
 * between instances. The embedded engine (SQLite) and the Redis engine implement it. The
 * data crosses it once each way: a message goes in with `append`, and comes back, stored
 * and in order, through `EngineEvents.deliver`. The engine never sees a socket; the
 * protocol never sees SQL or Redis.
 */
import type { ChatMessage, ConnectionInfo, FileInfo, ReplayData } from "../protocol";

/** What the protocol hands the engine to store. */
export interface NewMessage {
  channel: string;
  email: string;
  connectionId: string;
  displayName: string | null;
  content: string;
  clientMsgId: string | null;
  /** The attachments, already checked to be the user's (FileStore.claim); `[]` when none. */
  files: FileInfo[];
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

/**
 * A connection as the engine knows it: data only. The server owns the socket and does
 * the sending; the engine hands frames back through EngineEvents.
 */
export interface Member {
  readonly connectionId: string;
  readonly channel: string;
  readonly connectedAt: number;
  displayName: string | null;
  /**
   * A listener (an HTTP event stream, a one-off replay) hears the channel's messages like
   * a connection but is not one: it is never in presence, never counted, never announced.
   */
  readonly listener?: boolean;
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
 * Signals to the protocol: sessions and tokens ending must close sockets everywhere (these cross
 * instances); a channel whose store went back in time (seen by each instance itself)
 * must have its connections resume, so that they get a reset replay.
 */
export type ControlEvent =
  | { kind: "session_revoked"; jti: string }
  | { kind: "user_sessions_ended"; email: string }
  | { kind: "token_revoked"; tokenId: string }
  | { kind: "channel_rewound"; channel: string }
  | { kind: "push_subscriptions_changed"; email: string };

/**
 * How the engine hands work back to the server: one handler, given when the store is
 * made. Every call comes on the event loop; `deliver` calls for one channel come once per
 * stored message, in `seq` order.
 */
export interface EngineEvents {
  /**
   * A stored message's `message` frame, for the channel's members on this instance.
   * `origin` names the connection that sent it when the engine knows it is here (the
   * embedded engine): the server may then hand that connection its copy directly.
   */
  deliver(channel: string, frame: string, origin?: string): void;
  /**
   * Runs `writes` (a message's ack, then its delivery) so that what they send to the
   * connection `connectionId` of `channel` leaves in one write, not two.
   */
  together(channel: string, connectionId: string, writes: () => void): void;
  /** A presence frame for the channel's members on this instance, except one. */
  presence(channel: string, frame: string, exceptConnectionId: string): void;
  control(event: ControlEvent): void;
  /**
   * A connection of a dead instance was forgotten (with the user's remaining connection
   * count), so the protocol can announce `user_left`.
   */
  forgotten(channel: string, connectionId: string, remaining: number): void;
}

export interface Engine {
  /**
   * Stores a message with the channel's next `seq` (from 1, gapless, strictly increasing)
   * or, when the channel already holds its `clientMsgId`, returns the original with
   * `duplicate: true`. Atomic per channel: of two racing appends with one id, one stores.
   * `onStored` runs once the message is durable and before it is delivered to any
   * connection (so the sender's ack precedes its own copy); it gets EngineUnavailable
   * when the store could not take the message, which then is neither stored nor sent.
   * Delivery (`EngineEvents.deliver`) on every instance is in `seq` order, once each.
   */
  append(message: NewMessage, onStored: (result: AppendResult | EngineUnavailable) => void): void;

  /** The newest `limit` messages below `before` (or overall), ascending by `seq`. */
  history(channel: string, before: number | null, limit: number): Promise<{ messages: ChatMessage[]; hasMore: boolean }>;

  /**
   * Adds the member to the channel's presence and starts its live stream. `onJoined` runs
   * synchronously at the moment the stream starts: the frames it sends come before any
   * later `deliver` for the channel, and a replay it carries neither overlaps nor leaves
   * a gap with them.
   */
  join(member: Member, request: JoinRequest, onJoined: (joined: Joined) => void): Promise<void>;

  /** Removes the member from presence; resolves with the user's remaining connections. */
  leave(member: Member): Promise<number>;

  /** Records a connection's display name in presence (not stored with past messages). */
  setDisplayName(member: Member, displayName: string | null): Promise<void>;

  /** The user's open connections on every instance. */
  connectionCount(channel: string): Promise<number>;

  /**
   * Sends a presence frame to every connection of the channel, on every instance,
   * except the connection `exceptConnectionId`.
   */
  broadcastEvent(channel: string, frame: string, exceptConnectionId: string): void;

  /** Tells every instance (this one included, through EngineEvents.control) that sessions ended. */
  control(event: ControlEvent): Promise<void>;

  /** False while the store is unreachable. */
  healthy(): boolean;

  /** Stores everything accepted so far and delivers it; then stops taking work. */
  drain(): Promise<void>;
  close(): Promise<void>;
}
