/**
 * This instance's open connections, found by credential (session or token) and by user to
 * end them. The same index serves WebSockets (Connection) and event streams (EventStream).
 */
import type { Connection } from "./connection";
import { tokenCredential } from "./request-auth";

/** What the registry needs of an open connection or stream. */
export interface Registered {
  readonly email: string;
  readonly options: { readonly credential: string; readonly expiresAt: number };
  close(code: number, reason: string): void;
}

const TOKEN_CREDENTIAL = tokenCredential("");

export class ConnectionRegistry<T extends Registered = Connection> {
  private connections = new Set<T>();
  private bySession = new Map<string, Set<T>>();
  private byUser = new Map<string, Set<T>>();
  /**
   * Upgrades accepted but not yet known to the engine, per user, so a burst can't pass
   * the limit: counted from `expect` until `forget` (when the join starts, or the socket
   * closes first).
   */
  private pending = new Map<string, number>();
  private pendingConnections = new WeakSet<T>();
  /**
   * Open credentials by the second in which they expire (rounded up), so that each sweep
   * reads only the seconds that have passed since the last one. A sweep over every
   * session took 0.5–2 ms each second with 4,000 connections, stalling every socket.
   */
  private expiring = new Map<number, Set<string>>();
  private expiringIn = new Map<string, number>();
  private sweptUpTo = Math.floor(Date.now() / 1000);

  expect(connection: T) {
    this.pendingConnections.add(connection);
    this.pending.set(connection.email, this.pendingFor(connection.email) + 1);
  }

  pendingFor(email: string): number {
    return this.pending.get(email) ?? 0;
  }

  /** The engine counts the connection from now on (or it never opened). */
  forget(connection: T) {
    if (!this.pendingConnections.delete(connection)) return;
    const left = this.pendingFor(connection.email) - 1;
    if (left > 0) this.pending.set(connection.email, left);
    else this.pending.delete(connection.email);
  }

  add(connection: T) {
    const { credential, expiresAt } = connection.options;
    this.connections.add(connection);
    if (!this.bySession.has(credential)) this.expireAt(credential, expiresAt);
    addTo(this.bySession, credential, connection);
    addTo(this.byUser, connection.email, connection);
  }

  remove(connection: T) {
    const { credential } = connection.options;
    this.forget(connection);
    this.connections.delete(connection);
    removeFrom(this.bySession, credential, connection);
    removeFrom(this.byUser, connection.email, connection);
    if (!this.bySession.has(credential)) this.noLongerExpiring(credential);
  }

  all(): Iterable<T> {
    return this.connections;
  }

  get size() {
    return this.connections.size;
  }

  get users() {
    return this.byUser.size;
  }

  /** The user's open connections (or streams) here. */
  countFor(email: string): number {
    return this.byUser.get(email)?.size ?? 0;
  }

  /** Closes what was opened with this credential (a session's jti, or `token:<id>`). */
  closeSession(credential: string, code: number, reason: string) {
    for (const connection of this.bySession.get(credential) ?? []) connection.close(code, reason);
  }

  /** Closes the connections of every credential whose expiry has passed (by the second). */
  closeExpired(now: number, code: number, reason: string) {
    const upTo = Math.floor(now / 1000);
    // Normally one second has passed; after a clock jump, reading the filed seconds is shorter.
    if (upTo - this.sweptUpTo <= this.expiring.size) {
      for (let second = this.sweptUpTo + 1; second <= upTo; second++) this.closeSecond(second, code, reason);
    } else {
      for (const second of [...this.expiring.keys()]) if (second <= upTo) this.closeSecond(second, code, reason);
    }
    this.sweptUpTo = Math.max(this.sweptUpTo, upTo);
  }

  private closeSecond(second: number, code: number, reason: string) {
    const credentials = this.expiring.get(second);
    if (!credentials) return;
    this.expiring.delete(second);
    for (const credential of credentials) {
      this.expiringIn.delete(credential);
      this.closeSession(credential, code, reason);
    }
  }

  private expireAt(credential: string, expiresAt: number) {
    // A credential already past its expiry goes to the next sweep.
    const second = Math.max(Math.ceil(expiresAt / 1000), this.sweptUpTo + 1);
    this.expiringIn.set(credential, second);
    let credentials = this.expiring.get(second);
    if (!credentials) this.expiring.set(second, (credentials = new Set()));
    credentials.add(credential);
  }

  private noLongerExpiring(credential: string) {
    const second = this.expiringIn.get(credential);
    if (second === undefined) return;
    this.expiringIn.delete(credential);
    const credentials = this.expiring.get(second);
    credentials?.delete(credential);
    if (credentials?.size === 0) this.expiring.delete(second);
  }

  closeUser(email: string, code: number, reason: string) {
    for (const connection of this.byUser.get(email) ?? []) connection.close(code, reason);
  }

  /** Closes the user's connections opened with a session; those opened with a token stay (logout-all ends sessions only). */
  closeUserSessions(email: string, code: number, reason: string) {
    for (const connection of this.byUser.get(email) ?? [])
      if (!connection.options.credential.startsWith(TOKEN_CREDENTIAL)) connection.close(code, reason);
  }
}

function addTo<T>(index: Map<string, Set<T>>, key: string, connection: T) {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(connection);
}

function removeFrom<T>(index: Map<string, Set<T>>, key: string, connection: T) {
  const set = index.get(key);
  if (!set) return;
  set.delete(connection);
  if (set.size === 0) index.delete(key);
}
