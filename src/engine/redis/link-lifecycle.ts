/**
 * What every Redis link does whatever it connects to (one node: redis-link.ts; a cluster:
 * cluster-link.ts): connect in generations, go down as a whole when any part breaks,
 * retry with backoff, count itself up only once subscribed and scripts are loaded, call a
 * Redis that stops answering lost, run scripts by SHA1, and fail every command at once
 * (EngineUnavailable) while down. A subclass opens, drops and uses its connections.
 */
import { EngineUnavailable } from "../engine";
import { describeError, log } from "../../log";
import type { LinkOptions } from "./redis-link";

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1_000;
/** A command without a reply for this long means Redis hangs: drop the connections. */
const STALL_LIMIT_MS = 5_000;

export abstract class LinkLifecycle {
  protected wanted = new Set<string>();
  private generation = 0;
  private isUp = false;
  private closed = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: Timer | null = null;
  private inFlight = 0;
  private lastProgress = Date.now();
  private watchdog: Timer;
  private scriptShas = new Map<string, string>();
  private downSince: number | null = Date.now();
  private warned = false;

  /** `unreachable`: how the log names this link when it goes down ("unreachable at ..."). */
  constructor(
    protected options: LinkOptions,
    private unreachable: string,
  ) {
    this.watchdog = setInterval(() => this.checkStall(), 1_000);
    this.watchdog.unref();
  }

  /**
   * Opens this generation's connections, subscribes `wanted` and loads the scripts;
   * throws when it can't. Resolves with the line to log once the link is up.
   */
  protected abstract open(generation: number): Promise<string>;
  /** Closes the connections of the current generation, without telling anybody. */
  protected abstract drop(): void;
  /** Sends a command on the current connection (EngineUnavailable when there is none). */
  protected abstract send(command: string, args: string[]): Promise<unknown>;
  protected abstract subscribeNow(channel: string): Promise<void>;
  protected abstract unsubscribeNow(channel: string): Promise<unknown>;
  /** Whether a failed command means Redis can't serve now (not a plain error reply). */
  protected abstract isUnavailable(error: unknown): boolean;

  get up(): boolean {
    return this.isUp;
  }

  /** When the link went down, or null while it is up. */
  get downAt(): number | null {
    return this.downSince;
  }

  /** Connects; resolves once up, or after the first failed attempt (retrying continues). */
  async start(): Promise<void> {
    await this.connect();
  }

  protected isCurrent(generation: number): boolean {
    return generation === this.generation;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const generation = ++this.generation;
    try {
      const connected = await this.open(generation);
      if (!this.isCurrent(generation)) return;
      this.lastProgress = Date.now();
      this.isUp = true; // scripts in onConnected need the link
      await this.options.onConnected();
      if (!this.isCurrent(generation)) return;
      log.info(connected);
      this.downSince = null;
      this.warned = false;
      this.retryMs = RETRY_MIN_MS;
    } catch (error) {
      if (!this.isCurrent(generation)) return;
      this.lost(generation, describeError(error));
    }
  }

  /** Every connection goes together: a half-working link can't keep delivery exact. */
  protected lost(generation: number, why: string) {
    if (!this.isCurrent(generation) || this.closed) return;
    this.generation++;
    const wasUp = this.isUp;
    this.isUp = false;
    if (wasUp || !this.warned) log.warn(`redis: ${this.unreachable} (${why}); retrying`);
    this.warned = true;
    this.downSince ??= Date.now();
    this.inFlight = 0;
    this.drop();
    if (wasUp) this.options.onDown();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private checkStall() {
    if (this.isUp && this.inFlight > 0 && Date.now() - this.lastProgress > STALL_LIMIT_MS)
      this.lost(this.generation, `no reply for ${STALL_LIMIT_MS / 1000} s`);
  }

  /** Runs one command; rejects with EngineUnavailable when Redis can't be reached. */
  async run<T = unknown>(command: string, args: string[]): Promise<T> {
    if (!this.isUp) throw new EngineUnavailable();
    const generation = this.generation;
    if (this.inFlight === 0) this.lastProgress = Date.now();
    this.inFlight++;
    try {
      return (await this.send(command, args)) as T;
    } catch (error) {
      if (error instanceof EngineUnavailable || this.isUnavailable(error)) throw new EngineUnavailable();
      throw error;
    } finally {
      if (this.isCurrent(generation)) {
        this.inFlight--;
        this.lastProgress = Date.now();
      }
    }
  }

  /** Runs a Lua script by its SHA1 (loaded at connection; EVAL after a SCRIPT FLUSH). */
  async script<T = unknown>(source: string, keys: string[], args: string[]): Promise<T> {
    let sha = this.scriptShas.get(source);
    if (!sha) this.scriptShas.set(source, (sha = new Bun.CryptoHasher("sha1").update(source).digest("hex")));
    try {
      return await this.run<T>("EVALSHA", [sha, String(keys.length), ...keys, ...args]);
    } catch (error) {
      if (!String((error as Error).message).includes("NOSCRIPT")) throw error;
      return this.run<T>("EVAL", [source, String(keys.length), ...keys, ...args]);
    }
  }

  /** Subscribes at the next (re)connection, and after every one. */
  want(channel: string): void {
    this.wanted.add(channel);
  }

  /** Subscribes now (when up) and after every reconnect. */
  async subscribe(channel: string): Promise<void> {
    this.wanted.add(channel);
    if (!this.isUp) throw new EngineUnavailable();
    try {
      await this.subscribeNow(channel);
    } catch (error) {
      throw error instanceof EngineUnavailable || this.isUnavailable(error) ? new EngineUnavailable() : error;
    }
  }

  unsubscribe(channel: string): void {
    this.wanted.delete(channel);
    if (this.isUp) this.unsubscribeNow(channel).catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    this.isUp = false;
    clearInterval(this.watchdog);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.drop();
  }
}
