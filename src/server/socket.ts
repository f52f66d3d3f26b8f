/**
 * The WebSocket protocol (PROTOCOL.md section 2): the upgrade's checks, then frames in and
 * out of each connection. Storage and fan-out are the engine's; this file only speaks
 * the contract.
 */
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { EngineUnavailable, type Store } from "../engine";
import { CLOSE, emailOf, isoTime, type ChannelUser } from "../protocol";
import type { Config } from "./config";
import { Connection } from "./connection";
import { parseClientFrame, type ClientRequest, type FrameError } from "./frames-in";
import { describeError, log } from "./log";
import type { Metrics } from "./metrics";
import { problem } from "./problem";
import { originAllowed } from "./request";
import type { Sessions } from "./sessions";
import type { SessionClaims } from "./jwt";
import { ConnectionRegistry } from "./connection-registry";

const PING_EVERY_MS = 25_000;
const SILENT_LIMIT_MS = 60_000;
const MAX_EARLY_FRAMES = 64;
const EXPIRY_SWEEP_MS = 1_000;
/** After the 1001s: time for clients to answer, so their sockets end cleanly, not reset. */
const CLOSE_LINGER_MS = 100;

export class SocketProtocol {
  readonly registry = new ConnectionRegistry();
  private keepalive: Timer;
  private expirySweep: Timer;

  constructor(
    private config: Config,
    private store: Store,
    private sessions: Sessions,
    private metrics: Metrics,
    private isDraining: () => boolean,
  ) {
    this.keepalive = setInterval(() => this.pingAll(), PING_EVERY_MS);
    this.keepalive.unref();
    // Sessions end on the socket within a second of their `exp`: one sweep over the
    // open sessions, not a timer per connection.
    this.expirySweep = setInterval(() => this.registry.closeExpired(Date.now(), CLOSE.sessionEnded, "session expired"), EXPIRY_SWEEP_MS);
    this.expirySweep.unref();
    store.engine.onControl((event) => {
      if (event.kind === "session_revoked") this.registry.closeSession(event.jti, CLOSE.sessionEnded, "logged out");
      else if (event.kind === "user_sessions_ended") this.registry.closeUser(event.email, CLOSE.sessionEnded, "logged out everywhere");
      // 1001: the client resumes with `since`, above the store's tip now, so its replay resets.
      else this.registry.closeUser(emailOf(event.channel), CLOSE.goingAway, "message store restored; resume");
    });
    store.engine.onForgotten((channel, connectionId, remaining) => this.announceLeft(channel, connectionId, remaining));
  }

  /** Checks an upgrade request in the contract's order; answers a refusal, or upgrades. */
  async upgrade(request: Request, server: Server<Connection>, search: string): Promise<Response | undefined> {
    const path = "/ws";
    if (this.isDraining()) return problem("unavailable", "The server is restarting; reconnect shortly.", path, { "retry-after": "2" });
    if (!originAllowed(this.config, request)) {
      this.metrics.authFailure("bad_origin");
      return problem("bad_origin", "This connection came from another site; use Roomz from its own address.", path);
    }
    const auth = await this.sessions.authenticate(request);
    if (!auth.ok) return problem(auth.code, auth.detail, path);
    const params = new URLSearchParams(search);
    const since = params.get("since");
    if (since !== null && !/^\d{1,1000}$/.test(since))
      return problem("invalid_request", "`since` must be a non-negative integer seq.", path);
    if (!this.store.engine.healthy()) return problem("unavailable", "The message store is unreachable; try again shortly.", path, { "retry-after": "2" });
    const open = await this.store.engine.connectionCount(`user:${auth.claims.email}`).catch(() => null);
    if (open === null) return problem("unavailable", "The message store is unreachable; try again shortly.", path, { "retry-after": "2" });
    if (open + this.registry.pendingFor(auth.claims.email) >= this.config.maxConnectionsPerUser)
      return problem("rate_limited", `This account already has ${this.config.maxConnectionsPerUser} open connections; close one first.`, path, { "retry-after": "10" });
    const connection = this.newConnection(auth.claims, since, params.get("epoch"));
    this.registry.expect(connection);
    if (server.upgrade(request, { data: connection })) return undefined;
    this.registry.forget(connection);
    return problem("invalid_request", "This endpoint only speaks WebSocket.", path);
  }

  /**
   * Built outside the async upgrade on purpose: a closure made inside it would keep the
   * whole async scope (the Request, its headers, the params) alive as long as the socket.
   */
  private newConnection(claims: SessionClaims, since: string | null, epoch: string | null): Connection {
    return new Connection({
      claims,
      email: claims.email,
      jti: claims.jti,
      expiresAt: claims.exp * 1000,
      since: since === null ? null : Math.min(Number(since), Number.MAX_SAFE_INTEGER),
      epoch,
      rateLimit: this.config.messageRateLimit,
      sendBufferBytes: this.config.sendBufferBytes,
      metrics: this.metrics,
    });
  }

  readonly handler: WebSocketHandler<Connection> = {
    open: (ws) => this.open(ws),
    message: (ws, data) => this.receive(ws.data, data),
    close: (ws) => this.closed(ws.data),
    pong: (ws) => {
      ws.data.lastHeard = Date.now();
    },
    drain: (ws) => ws.data.drained(),
  };

  /**
   * Registers the socket first, so that from now on every session end reaches it, then
   * checks the session again: one that ended while the upgrade was being set up closes
   * here. Frames wait (in `early`) until both the check and the join are done.
   */
  private open(ws: ServerWebSocket<Connection>) {
    const connection = ws.data;
    connection.ws = ws;
    this.registry.add(connection);
    this.sessions
      .stillValid(connection.options.claims)
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
        connection.send(
          JSON.stringify({
            type: "authenticated",
            data: {
              user: this.user(connection),
              channel: connection.channel,
              connection_id: connection.connectionId,
              epoch: joined.epoch,
              server_time: isoTime(Date.now()),
              connections: joined.connections,
            },
          }),
        );
        if (joined.replay) connection.sendRequested(JSON.stringify({ type: "history", data: joined.replay }));
        this.store.engine.broadcastEvent(
          connection.channel,
          JSON.stringify({
            type: "user_joined",
            data: { user: this.user(connection), connection_id: connection.connectionId, timestamp: isoTime(Date.now()), total_connections: joined.connections.length },
          }),
          connection.connectionId,
        );
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
    if (typeof data !== "string") return this.reply(connection, { code: "bad_frame", message: "Frames must be text (JSON), not binary." });
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
        return this.reply(connection, { code: "rate_limited", message: `Too many messages; wait ${Math.ceil(wait / 1000)} s.`, ref: request.ref }, { retry_after_ms: wait });
    }
    if ("code" in request) return this.reply(connection, request);
    switch (request.type) {
      case "message":
        return this.message(connection, request);
      case "set_display_name":
        return this.setDisplayName(connection, request);
      case "history":
        return this.history(connection, request);
      case "ping":
        return this.ack(connection, request.ref, { server_time: isoTime(Date.now()) });
    }
  }

  private message(connection: Connection, request: Extract<ClientRequest, { type: "message" }>) {
    const received = performance.now();
    if (this.isDraining()) return this.unavailable(connection, request.ref, "The server is restarting; send again after reconnecting.");
    this.store.engine.append(
      {
        channel: connection.channel,
        email: connection.email,
        connectionId: connection.connectionId,
        displayName: connection.displayName,
        content: request.content,
        clientMsgId: request.clientMsgId,
      },
      (result) => {
        if (result instanceof EngineUnavailable) return this.unavailable(connection, request.ref, "The message could not be stored; it was not sent. Try again.");
        if (!result.duplicate) this.metrics.messagesAccepted++;
        const { id, seq, timestamp } = result.message;
        this.ack(connection, request.ref, { id, seq, timestamp, duplicate: result.duplicate });
        this.metrics.observeAck(performance.now() - received);
      },
    );
  }

  private async setDisplayName(connection: Connection, request: Extract<ClientRequest, { type: "set_display_name" }>) {
    try {
      await this.store.engine.setDisplayName(connection, request.displayName);
    } catch {
      return this.unavailable(connection, request.ref, "The name could not be saved; try again.");
    }
    connection.displayName = request.displayName;
    this.ack(connection, request.ref, { display_name: request.displayName });
    this.store.engine.broadcastEvent(
      connection.channel,
      JSON.stringify({ type: "display_name_changed", data: { user: this.user(connection), connection_id: connection.connectionId, timestamp: isoTime(Date.now()) } }),
      connection.connectionId,
    );
  }

  private async history(connection: Connection, request: Extract<ClientRequest, { type: "history" }>) {
    try {
      const page = await this.store.engine.history(connection.channel, request.before, request.limit);
      const data = { messages: page.messages, has_more: page.hasMore };
      connection.sendRequested(JSON.stringify(request.ref === undefined ? { type: "ack", data } : { type: "ack", ref: request.ref, data }));
    } catch (error) {
      if (!(error instanceof EngineUnavailable)) log.error(`history failed: ${describeError(error)}`);
      this.unavailable(connection, request.ref, "History can't be read right now; try again.");
    }
  }

  private closed(connection: Connection) {
    connection.closing = true;
    const wasJoined = connection.early === null;
    this.registry.remove(connection);
    this.store.engine
      .leave(connection)
      .then((remaining) => {
        if (wasJoined) this.announceLeft(connection.channel, connection.connectionId, remaining, connection.displayName);
      })
      .catch((error) => log.warn(`leave failed: ${describeError(error)}`));
  }

  private announceLeft(channel: string, connectionId: string, remaining: number, displayName: string | null = null) {
    const email = emailOf(channel);
    const frame = JSON.stringify({
      type: "user_left",
      data: { user: { id: channel, email, display_name: displayName }, connection_id: connectionId, timestamp: isoTime(Date.now()), remaining_connections: remaining },
    });
    this.store.engine.broadcastEvent(channel, frame, connectionId);
  }

  private user(connection: Connection): ChannelUser {
    return { id: connection.channel, email: connection.email, display_name: connection.displayName };
  }

  private ack(connection: Connection, ref: string | undefined, data: unknown) {
    connection.send(JSON.stringify(ref === undefined ? { type: "ack", data } : { type: "ack", ref, data }));
  }

  private reply(connection: Connection, error: FrameError, extra: Record<string, unknown> = {}) {
    this.metrics.frameRefused(error.code);
    const data = { code: error.code, message: error.message, ...extra };
    connection.send(JSON.stringify(error.ref === undefined ? { type: "error", data } : { type: "error", ref: error.ref, data }));
  }

  private unavailable(connection: Connection, ref: string | undefined, message: string) {
    this.reply(connection, { code: "unavailable", message, ref });
  }

  private pingAll() {
    const now = Date.now();
    for (const connection of this.registry.all()) {
      if (now - connection.lastHeard > SILENT_LIMIT_MS) connection.ws.terminate();
      else connection.ws.ping();
    }
  }

  /**
   * Closes every connection with 1001 (after the engine has drained). Bun reports a socket
   * closed the moment `close()` is called, even with data still queued behind the close
   * frame, and that data dies with the process: so each socket is closed once its own
   * queue is empty (the rest after `limitMs`), and then the clients get a moment to
   * answer. Resolves false when some queue did not empty in time.
   */
  async closeAll(limitMs: number): Promise<boolean> {
    clearInterval(this.keepalive);
    clearInterval(this.expirySweep);
    const deadline = Date.now() + limitMs;
    const hadConnections = this.registry.size > 0;
    let left = [...this.registry.all()];
    for (;;) {
      left = left.filter((connection) => {
        if (connection.ws.getBufferedAmount() > 0) return true;
        connection.close(CLOSE.goingAway, "server restarting");
        return false;
      });
      if (left.length === 0 || Date.now() >= deadline) break;
      await Bun.sleep(10);
    }
    for (const connection of left) connection.close(CLOSE.goingAway, "server restarting");
    if (hadConnections) await Bun.sleep(Math.min(CLOSE_LINGER_MS, Math.max(0, deadline - Date.now())));
    return left.length === 0;
  }
}
