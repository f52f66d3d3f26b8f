/**
 * RoomzClient: the one place that talks to a Roomz server (HTTP and WebSocket). It keeps
 * one connection alive by itself and gives the application a simple promise:
 * every message of the channel exactly once, in `seq` order, across drops, restarts and
 * resets; every `send` delivered once, even when it had to be sent again.
 *
 * Needs only a WebSocket class and fetch (globalThis's by default, both injectable), no
 * DOM- or runtime-specific APIs: browsers, Bun, and Node with the ws package's WebSocket.
 *
 * Over 250 lines: it is the connection's one state machine (open, sync, close, retry,
 * halt), whose transitions must be read together; what it drives lives beside it (link,
 * sync, outbox, sequencer, presence, backoff, reasons). The plain HTTP calls, which leave
 * the connection alone, are in its base class (http-client.ts).
 */
import type { AuthenticatedData, ChatMessage, ConnectionInfo, HistoryAck, MessageAck, ReplayData, ServerFrame } from "../protocol/frames.js";
import { Backoff } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { clientError, RoomzError } from "./errors.js";
import { RoomzHttpClient } from "./http-client.js";
import { randomId } from "./ids.js";
import { Link, LinkClosed } from "./link.js";
import { closeReason, STOP_REASONS, STOPPED_ANSWERING } from "./reasons.js";
import { CLOSE } from "../protocol/problems.js";
import { Outbox } from "./outbox.js";
import * as presence from "./presence.js";
import { Sequencer } from "./sequencer.js";
import { headSeq, withGapFilled } from "./sync.js";
import type { ConnectionState, MeResult, PendingSend, RestoredSend, RoomzClientOptions, RoomzEvents, StopCode, UploadOptions, VerifyResult, WebSocketConstructor } from "./types.js";
import { wsUrl } from "./urls.js";
import type { FileInfo } from "../protocol/file-info.js";

/** A connection that stayed synced this long starts the next backoff from the beginning. */
const HEALTHY_MS = 5000;

interface Resume {
  since: number;
  epoch: string;
}

export class RoomzClient extends RoomzHttpClient {
  private readonly WebSocketImpl: WebSocketConstructor | undefined;
  private readonly emitter = new Emitter<RoomzEvents>();
  private readonly sequencer = new Sequencer((message) => this.emitter.emit("message", message));
  private readonly outbox: Outbox;
  /** The address this client is signed in as, once it has heard it (me, verifyToken, authenticated). */
  private owner: string | null = null;
  private readonly backoff: Backoff;
  private link: Link | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private current: ConnectionState = { status: "idle" };
  private stopError: RoomzError | null = null;
  private running = false;
  private generation = 0; // bumps on every stop, so late answers of an older run are ignored
  private waiters: Array<{ resolve(data: AuthenticatedData): void; reject(error: Error): void }> = [];
  private auth: AuthenticatedData | null = null;
  private displayName: string | null = null;
  private syncedAt = 0;
  private _connections: ConnectionInfo[] = [];
  private _epoch: string | null = null;

  constructor(private readonly options: RoomzClientOptions) {
    super(options);
    // Looked up once, here; a runtime without one learns so from connect(), as a RoomzError.
    this.WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.backoff = new Backoff(options.reconnect?.baseMs, options.reconnect?.maxMs);
    this.outbox = new Outbox(options.outboxStorage);
  }

  /**
   * The messages of an earlier run queued again from the outbox storage (sent again with
   * their own ids: the server stores each at most once), each once (then []). They are
   * queued once this client knows its user (after me(), verifyToken() or a connect), and
   * only those that user typed.
   */
  restoredSends(): RestoredSend[] {
    return this.outbox.takeRestored();
  }

  get state(): ConnectionState { return this.current; }
  /** The messages sent and not yet acknowledged (they go out, in order, once connected). */
  unsent(): PendingSend[] { return this.outbox.unsent(); }
  get connections(): ConnectionInfo[] { return this._connections; }
  get connectionId(): string | null { return this.auth?.connection_id ?? null; }
  get user() { return this.auth?.user ?? null; }
  get lastSeq(): number { return this.sequencer.lastSeq; }
  get epoch(): string | null { return this._epoch; }

  on<K extends keyof RoomzEvents>(event: K, handler: (payload: RoomzEvents[K]) => void): () => void {
    return this.emitter.on(event, handler);
  }

  /**
   * Exchanges a magic-link token for a session, keeps it, and reports it through onSession.
   * When it is another user's, this client stops (`user_changed`) until connect() again.
   */
  async verifyToken(token: string): Promise<VerifyResult> {
    const result = await this.http.verifyToken(token.trim());
    this.session = result.session;
    this.learnUser(result.user.email);
    this.options.onSession?.({ session: result.session, email: result.user.email, expires_at: result.expires_at });
    return result;
  }

  async me(): Promise<MeResult> {
    try {
      const me = await this.http.me();
      this.learnUser(me.user.email);
      return me;
    } catch (error) {
      if (error instanceof RoomzError && error.code === "unauthenticated") this.dropSession();
      throw error;
    }
  }

  /** Resolves on the first `authenticated` (once synced); then keeps the connection alive. */
  connect(): Promise<AuthenticatedData> {
    if (this.running && this.current.status === "connected" && this.auth) return Promise.resolve(this.auth);
    const promise = new Promise<AuthenticatedData>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.running) {
      this.running = true;
      this.stopError = null;
      this.backoff.reset();
      this.setState({ status: "connecting" });
      this.open();
    }
    return promise;
  }

  /**
   * Sends a message, with the ids of files already uploaded (`uploadFile`) when given;
   * queued while offline, re-sent with the same id after a drop.
   */
  send(content: string, clientMsgId: string = randomId(), files: string[] = []): Promise<MessageAck> {
    if (this.stopError) return Promise.reject(this.stopError);
    const pending: PendingSend = { client_msg_id: clientMsgId, content, created_at: new Date().toISOString() };
    if (files.length > 0) pending.files = files;
    if (this.owner !== null) pending.user = this.owner;
    const ack = this.outbox.addMessage(pending);
    ack.catch(() => {}); // the caller's promise still rejects; one nobody awaits must not be an unhandled rejection
    return ack;
  }

  /** Uploads a file and sends it in a message with `caption` (may be empty). */
  async sendFile(body: unknown, options: UploadOptions & { caption?: string; clientMsgId?: string }): Promise<{ file: FileInfo; ack: MessageAck }> {
    const file = await this.uploadFile(body, options);
    const ack = await this.send(options.caption ?? "", options.clientMsgId, [file.id]);
    return { file, ack };
  }

  /**
   * This client is `email`'s. When it was another user's, it stops (`user_changed`): the
   * open connection is theirs, and so is every unsent message. Then the saved messages
   * `email` typed in an earlier run are queued (Outbox.adopt).
   */
  private learnUser(email: string): void {
    if (this.owner === email) return;
    const previous = this.auth?.user.email ?? this.owner;
    if (previous !== null && previous !== email) {
      this.halt("user_changed", clientError("closed", `Not sent: you signed in as ${email}.`));
      this.forgetChannel();
    }
    this.owner = email;
    this.outbox.adopt(email);
  }

  /** Sets this connection's display name (null clears it); re-applied after every reconnect. */
  async setDisplayName(name: string | null): Promise<string | null> {
    if (this.stopError) throw this.stopError;
    const ack = await this.outbox.add<{ display_name: string | null }>("set_display_name", { display_name: name });
    this.displayName = ack.display_name ?? null;
    this._connections = presence.withName(this._connections, this.connectionId, this.displayName);
    return this.displayName;
  }

  history(options: { before?: number; limit?: number } = {}): Promise<HistoryAck> {
    if (this.stopError) return Promise.reject(this.stopError);
    const data: { before?: number; limit?: number } = {};
    if (options.before !== undefined) data.before = options.before;
    if (options.limit !== undefined) data.limit = options.limit;
    return this.outbox.add<HistoryAck>("history", data);
  }

  /** Ends this session on the server and forgets it here, even when the server can't be reached. */
  async logout(): Promise<void> {
    await this.leave(() => this.http.logout());
  }

  /** Ends every session of this user, on every device. */
  async logoutAll(): Promise<void> {
    await this.leave(() => this.http.logoutAll());
  }

  /** Stops the connection for good (until connect() again); waiting requests are rejected. */
  close(): void {
    this.halt("closed", clientError("closed"));
  }

  private async leave(request: () => Promise<void>): Promise<void> {
    this.halt("signed_out", clientError("closed", "You signed out."));
    try {
      await request();
    } catch (error) {
      if (!(error instanceof RoomzError && error.code === "unauthenticated")) throw error;
    } finally {
      this.dropSession();
    }
  }

  private open(): void {
    clearTimeout(this.retryTimer);
    const WebSocketImpl = this.WebSocketImpl;
    if (!WebSocketImpl) return this.halt("no_websocket", clientError("no_websocket"));
    const resume: Resume | undefined = this._epoch !== null ? { since: this.sequencer.lastSeq, epoch: this._epoch } : undefined;
    this.sequencer.hold();
    try {
      const link: Link = new Link(WebSocketImpl, wsUrl(this.server, resume), this.session, {
        onOpen: () => {},
        onFrame: (frame) => link === this.link && this.onFrame(link, frame, resume),
        onClose: (code, reason, opened) => link === this.link && this.onClose(code, reason, opened),
      });
      this.link = link;
    } catch (error) {
      this.halt("bad_address", new RoomzError("bad_response", `Can't connect to "${this.server}": ${(error as Error).message}`));
    }
  }

  private onFrame(link: Link, frame: ServerFrame, resume: Resume | undefined): void {
    switch (frame.type) {
      case "authenticated":
        return this.onAuthenticated(link, frame.data, resume);
      case "history":
        return this.onReplay(link, frame.data, resume);
      case "message":
        return this.sequencer.accept(frame.data);
      case "user_joined":
      case "user_left":
      case "display_name_changed":
        this._connections = presence.apply(this._connections, frame);
        return this.emitter.emit(frame.type, frame.data as never);
    }
  }

  private onAuthenticated(link: Link, data: AuthenticatedData, resume: Resume | undefined): void {
    this.learnUser(data.user.email);
    if (link !== this.link) return; // another user's session: learnUser stopped this client
    this.auth = data;
    this._connections = [...(data.connections ?? [])];
    if (this.displayName !== null) {
      const name = this.displayName;
      link.request("set_display_name", { display_name: name }).then(
        () => (this._connections = presence.withName(this._connections, data.connection_id, name)),
        () => {},
      );
    }
    this.emitter.emit("authenticated", data);
    if (resume) return; // the replay (`history` frame) follows
    this._epoch = data.epoch;
    const head = headSeq((d) => link.request<HistoryAck>("history", d));
    this.finishSync(link, head.then((seq) => ((this.sequencer.lastSeq = Math.max(this.sequencer.lastSeq, seq)), [])));
  }

  private onReplay(link: Link, data: ReplayData, resume: Resume | undefined): void {
    if (!resume || !this.auth) return;
    const epoch = this.auth.epoch;
    if (data.reset || epoch !== resume.epoch) {
      this._epoch = epoch;
      this.sequencer.lastSeq = 0;
      this.emitter.emit("reset", { epoch });
      return this.finishSync(link, Promise.resolve(data.messages ?? []));
    }
    this.finishSync(link, withGapFilled((d) => link.request<HistoryAck>("history", d), resume.since, data));
  }

  /** Delivers what the sync fetched (with everything held meanwhile), then goes live. */
  private finishSync(link: Link, fetched: Promise<ChatMessage[]>): void {
    fetched.then(
      (messages) => {
        if (link !== this.link || !this.auth) return;
        this.sequencer.release(messages);
        this.syncedAt = Date.now();
        link.startPing(this.options.pingIntervalMs ?? 25_000, this.options.pingTimeoutMs ?? 10_000);
        this.setState({ status: "connected" });
        for (const waiter of this.waiters.splice(0)) waiter.resolve(this.auth);
        this.outbox.attach(link);
      },
      (error) => this.syncFailed(link, error),
    );
  }

  /** The channel could not be read (e.g. `unavailable`): drop this connection and try again later. */
  private syncFailed(link: Link, error: unknown): void {
    if (error instanceof LinkClosed || link !== this.link) return;
    link.kill(STOPPED_ANSWERING, "could not read the channel");
  }

  private onClose(code: number, reason: string, opened: boolean): void {
    const wasSynced = this.syncedAt > 0;
    const healthy = wasSynced && Date.now() - this.syncedAt >= HEALTHY_MS;
    this.link = null;
    this.syncedAt = 0;
    this.outbox.attach(null);
    this.sequencer.dropHeld();
    if (!this.running) return;
    if (code === CLOSE.sessionEnded) return this.halt("session_ended", clientError("session_ended"), true);
    if (code === CLOSE.notAllowed) return this.halt("not_allowed", clientError("not_allowed"));
    if (!opened) return this.checkSession();
    if (healthy) this.backoff.reset();
    this.retry("reconnecting", closeReason(code, reason));
  }

  /** The upgrade failed and nobody says why (browsers see 1006): ask /auth/me. */
  private checkSession(): void {
    const generation = this.generation;
    this.http.me().then(
      () => generation === this.generation && this.retry("reconnecting", "the server refused the connection"),
      (error: RoomzError) => {
        if (generation !== this.generation) return;
        if (error.code === "unauthenticated") this.halt("signed_out", error, true);
        else if (error.code === "not_allowed") this.halt("not_allowed", error);
        else if (error.code === "unreachable") this.retry("offline", "server unreachable");
        else this.retry("reconnecting", error.message);
      },
    );
  }

  private retry(status: "reconnecting" | "offline", reason: string): void {
    const delay = this.backoff.next();
    this.setState({ status, retryInMs: delay, reason });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.setState({ status, reason });
      this.open();
    }, delay);
  }

  private halt(stop: StopCode, error: RoomzError, dropSession = false): void {
    this.generation++;
    this.running = false;
    this.stopError = error;
    clearTimeout(this.retryTimer);
    const link = this.link;
    this.link = null;
    link?.kill();
    this.outbox.attach(null);
    this.sequencer.dropHeld();
    if (dropSession) this.dropSession();
    this.outbox.failAll(error);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    this.setState({ status: "stopped", reason: STOP_REASONS[stop], stop });
  }

  private dropSession(): void {
    this.session = null;
    if (this.token === null) this.options.onSession?.(null);
  }

  /** Another user signed in on this client: nothing of the previous channel carries over. */
  private forgetChannel(): void {
    this.owner = null;
    this._epoch = null;
    this.sequencer.lastSeq = 0;
    this.auth = null;
    this._connections = [];
    this.displayName = null;
  }

  private setState(state: ConnectionState): void {
    this.current = state;
    this.emitter.emit("connection_state", state);
  }
}
