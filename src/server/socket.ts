/**
 * The WebSocket protocol (PROTOCOL.md section 2) after the upgrade: the join, then each
 * frame in (validated once, in frames-in.ts) and its replies out (frames-out.ts). Stored
 * messages and presence frames come back from the engine straight to the fanout
 * (server.ts); session ends and forgotten connections come here.
 */
import type { ServerWebSocket, WebSocketHandler } from "bun";
import { EngineUnavailable, type ControlEvent, type Store } from "../engine";
import { CLOSE, emailOf, isoTime, type ChannelUser, type FileInfo } from "../protocol";
import { UNKNOWN_FILES, claimFiles } from "./message-files";
import type { Config } from "./config";
import type { Connection } from "./connection";
import { ConnectionRegistry } from "./connection-registry";
import type { LocalFanout } from "./fanout";
import { parseClientFrame, type ClientRequest, type FrameError } from "./frames-in";
import { ackFrame, authenticatedFrame, displayNameChangedFrame, errorFrame, replayFrame, userJoinedFrame, userLeftFrame } from "./frames-out";
import { describeError, log } from "../log";
import type { Metrics } from "./metrics";
import type { PushSender } from "./push/push-sender";
import { tokenCredential, type RequestAuth } from "./request-auth";

const MAX_EARLY_FRAMES = 64;

type RequestOf<T extends ClientRequest["type"]> = Extract<ClientRequest, { type: T }>;

export class SocketProtocol {
  readonly registry = new ConnectionRegistry();

  constructor(
    private config: Config,
    private store: Store,
    private auth: RequestAuth,
    private metrics: Metrics,
    private fanout: LocalFanout,
    private pushes: PushSender,
    private isDraining: () => boolean,
  ) {}

  readonly handler: WebSocketHandler<Connection> = {
    open: (ws) => this.open(ws),
    message: (ws, data) => this.receive(ws.data, data),
    close: (ws) => this.closed(ws.data),
    pong: (ws) => {
      ws.data.lastHeard = Date.now();
    },
    drain: (ws) => ws.data.drained(),
  };

  /** Sessions or tokens that ended (on any instance), or a channel whose store went back in time. */
  control(event: ControlEvent): void {
    if (event.kind === "session_revoked") this.registry.closeSession(event.jti, CLOSE.sessionEnded, "logged out");
    else if (event.kind === "token_revoked") this.registry.closeSession(tokenCredential(event.tokenId), CLOSE.sessionEnded, "token revoked");
    else if (event.kind === "user_sessions_ended") this.registry.closeUserSessions(event.email, CLOSE.sessionEnded, "logged out everywhere");
    // 1001: the client resumes with `since`, above the store's tip now, so its replay resets.
    else if (event.kind === "channel_rewound") this.registry.closeUser(emailOf(event.channel), CLOSE.goingAway, "message store restored; resume");
  }

  /** A connection of a dead instance was forgotten: its user's other connections hear it leave. */
  forgotten(channel: string, connectionId: string, remaining: number): void {
    this.store.engine.broadcastEvent(channel, userLeftFrame(channel, connectionId, null, remaining), connectionId);
  }

  /**
   * Registers the socket first, so that from now on every session or token end reaches it,
   * then checks them again: one that ended while the upgrade was being set up closes
   * here. Frames wait (in `early`) until both the check and the join are done.
   */
  private open(ws: ServerWebSocket<Connection>) {
    const connection = ws.data;
    connection.ws = ws;
    this.registry.add(connection);
    // What the check needs is rebuilt from the connection's options: keeping the claims
    // object itself would cost every open connection another object (bench S2).
    this.auth
      .recheck(connection.options)
      .then((check) => {
        if (connection.closing) return; // closed meanwhile: nothing to join
        if (check.ok) return this.join(connection);
        if (check.code === "not_allowed") connection.close(CLOSE.notAllowed, "address no longer allowed");
        else connection.close(CLOSE.sessionEnded, "session ended");
      })
      .catch((error) => {
        log.warn(`join failed: ${describeError(error)}`);
        connection.close(1011, "store unavailable");
      });
  }

  private join(connection: Connection): Promise<void> {
    const { since, epoch } = connection.options;
    const joining = this.store.engine
      .join(connection, { since, epoch }, (joined) => {
        // Synchronous with the start of the stream: nothing is delivered in between.
        this.fanout.add(connection);
        connection.send(
          authenticatedFrame({
            user: this.user(connection),
            channel: connection.channel,
            connection_id: connection.connectionId,
            epoch: joined.epoch,
            server_time: isoTime(Date.now()),
            connections: joined.connections,
          }),
        );
        if (joined.replay) connection.sendRequested(replayFrame(joined.replay));
        const frame = userJoinedFrame(this.user(connection), connection.connectionId, joined.connections.length);
        this.store.engine.broadcastEvent(connection.channel, frame, connection.connectionId);
      })
      .then(() => {
        const early = connection.early ?? [];
        connection.early = null;
        for (const text of early) this.handle(connection, text);
      });
    // The engine counts the connection from the synchronous start of its join.
    this.registry.forget(connection);
    return joining;
  }

  private receive(connection: Connection, data: string | Buffer) {
    connection.lastHeard = Date.now();
    if (typeof data !== "string") return this.refuse(connection, { code: "bad_frame", message: "Frames must be text (JSON), not binary." });
    if (connection.early) {
      if (connection.early.length >= MAX_EARLY_FRAMES) return connection.close(1008, "too many frames before joining");
      connection.early.push(data);
      return;
    }
    this.handle(connection, data);
  }

  private handle(connection: Connection, text: string) {
    const request = parseClientFrame(text, this.config);
    if (request.type === "message") {
      // Every `message` frame counts toward the rate limit, refused ones included.
      const wait = connection.takeMessageSlot(Date.now());
      if (wait > 0)
        return this.refuse(connection, { code: "rate_limited", message: `Too many messages; wait ${Math.ceil(wait / 1000)} s.`, ref: request.ref }, { retry_after_ms: wait });
    }
    if ("code" in request) return this.refuse(connection, request);
    switch (request.type) {
      case "message":
        return this.message(connection, request);
      case "set_display_name":
        return this.setDisplayName(connection, request);
      case "history":
        return this.history(connection, request);
      case "ping":
        return connection.send(ackFrame(request.ref, { server_time: isoTime(Date.now()) }));
    }
  }

  /**
   * A message without files goes to the engine at once. One with files waits for them to
   * be checked (the user's own uploads, now marked as referenced); the connection's later
   * messages queue behind it, so every message is stored in the order it was sent.
   */
  private message(connection: Connection, request: RequestOf<"message">) {
    const received = performance.now();
    if (request.fileIds.length === 0 && connection.messageQueue === null) return this.append(connection, request, [], received);
    const queued: Promise<void> = (connection.messageQueue ?? Promise.resolve())
      .then(() => (request.fileIds.length === 0 ? [] : claimFiles(this.store.files, connection.email, request.fileIds)))
      .then((files) => {
        if (files === "unknown") return this.refuse(connection, { code: "invalid_data", message: UNKNOWN_FILES, ref: request.ref });
        this.append(connection, request, files, received);
      })
      .catch((error) => {
        log.warn(`checking a message's files failed: ${describeError(error)}`);
        this.unavailable(connection, request.ref, "The message's files could not be checked; it was not sent. Try again.");
      })
      .finally(() => {
        if (connection.messageQueue === queued) connection.messageQueue = null;
      });
    connection.messageQueue = queued;
  }

  private append(connection: Connection, request: RequestOf<"message">, files: FileInfo[], received: number) {
    if (this.isDraining()) return this.unavailable(connection, request.ref, "The server is restarting; send again after reconnecting.");
    const { channel, email, connectionId, displayName } = connection;
    this.store.engine.append({ channel, email, connectionId, displayName, content: request.content, clientMsgId: request.clientMsgId, files }, (result) => {
      if (result instanceof EngineUnavailable) return this.unavailable(connection, request.ref, "The message could not be stored; it was not sent. Try again.");
      if (!result.duplicate) this.metrics.messagesAccepted++;
      const { id, seq, timestamp, files } = result.message;
      connection.send(ackFrame(request.ref, { id, seq, timestamp, duplicate: result.duplicate, files }));
      this.metrics.observeAck(performance.now() - received);
      if (!result.duplicate) this.pushes.messageStored(email, result.message, connection.options.credential);
    });
  }

  private async setDisplayName(connection: Connection, request: RequestOf<"set_display_name">) {
    try {
      await this.store.engine.setDisplayName(connection, request.displayName);
    } catch {
      return this.unavailable(connection, request.ref, "The name could not be saved; try again.");
    }
    connection.displayName = request.displayName;
    connection.send(ackFrame(request.ref, { display_name: request.displayName }));
    this.store.engine.broadcastEvent(connection.channel, displayNameChangedFrame(this.user(connection), connection.connectionId), connection.connectionId);
  }

  private async history(connection: Connection, request: RequestOf<"history">) {
    try {
      const page = await this.store.engine.history(connection.channel, request.before, request.limit);
      connection.sendRequested(ackFrame(request.ref, { messages: page.messages, has_more: page.hasMore }));
    } catch (error) {
      if (!(error instanceof EngineUnavailable)) log.error(`history failed: ${describeError(error)}`);
      this.unavailable(connection, request.ref, "History can't be read right now; try again.");
    }
  }

  private closed(connection: Connection) {
    connection.closing = true;
    const wasJoined = connection.early === null;
    this.registry.remove(connection);
    this.fanout.remove(connection);
    this.store.engine
      .leave(connection)
      .then((remaining) => {
        if (!wasJoined) return;
        const frame = userLeftFrame(connection.channel, connection.connectionId, connection.displayName, remaining);
        this.store.engine.broadcastEvent(connection.channel, frame, connection.connectionId);
      })
      .catch((error) => log.warn(`leave failed: ${describeError(error)}`));
  }

  private user(connection: Connection): ChannelUser {
    return { id: connection.channel, email: connection.email, display_name: connection.displayName };
  }

  private refuse(connection: Connection, error: FrameError, extra: Record<string, unknown> = {}) {
    this.metrics.frameRefused(error.code);
    connection.send(errorFrame(error.ref, error.code, error.message, extra));
  }

  private unavailable(connection: Connection, ref: string | undefined, message: string) {
    this.refuse(connection, { code: "unavailable", message, ref });
  }
}
