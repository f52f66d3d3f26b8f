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
    this.connections.add(connection);
    addTo(this.bySession, connection.options.credential, connection);
    addTo(this.byUser, connection.email, connection);
  }

  remove(connection: T) {
    this.forget(connection);
    this.connections.delete(connection);
    removeFrom(this.bySession, connection.options.credential, connection);
    removeFrom(this.byUser, connection.email, connection);
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

  /** Closes what was opened with this credential (a session's jti, or `token:<id>`). */
  closeSession(credential: string, code: number, reason: string) {
    for (const connection of this.bySession.get(credential) ?? []) connection.close(code, reason);
  }

  /** Closes the connections of every session whose expiry has passed. */
  closeExpired(now: number, code: number, reason: string) {
    for (const connections of this.bySession.values()) {
      const first = connections.values().next().value;
      if (first && first.options.expiresAt <= now) for (const connection of connections) connection.close(code, reason);
    }
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
