/** This instance's open connections, found by session and by user to end them. */
import type { Connection } from "./connection";

export class ConnectionRegistry {
  private connections = new Set<Connection>();
  private bySession = new Map<string, Set<Connection>>();
  private byUser = new Map<string, Set<Connection>>();
  /**
   * Upgrades accepted but not yet known to the engine, per user, so a burst can't pass
   * the limit: counted from `expect` until `forget` (when the join starts, or the socket
   * closes first).
   */
  private pending = new Map<string, number>();
  private pendingConnections = new WeakSet<Connection>();

  expect(connection: Connection) {
    this.pendingConnections.add(connection);
    this.pending.set(connection.email, this.pendingFor(connection.email) + 1);
  }

  pendingFor(email: string): number {
    return this.pending.get(email) ?? 0;
  }

  /** The engine counts the connection from now on (or it never opened). */
  forget(connection: Connection) {
    if (!this.pendingConnections.delete(connection)) return;
    const left = this.pendingFor(connection.email) - 1;
    if (left > 0) this.pending.set(connection.email, left);
    else this.pending.delete(connection.email);
  }

  add(connection: Connection) {
    this.connections.add(connection);
    addTo(this.bySession, connection.options.jti, connection);
    addTo(this.byUser, connection.email, connection);
  }

  remove(connection: Connection) {
    this.forget(connection);
    this.connections.delete(connection);
    removeFrom(this.bySession, connection.options.jti, connection);
    removeFrom(this.byUser, connection.email, connection);
  }

  all(): Iterable<Connection> {
    return this.connections;
  }

  get size() {
    return this.connections.size;
  }

  get users() {
    return this.byUser.size;
  }

  closeSession(jti: string, code: number, reason: string) {
    for (const connection of this.bySession.get(jti) ?? []) connection.close(code, reason);
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
}

function addTo(index: Map<string, Set<Connection>>, key: string, connection: Connection) {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(connection);
}

function removeFrom(index: Map<string, Set<Connection>>, key: string, connection: Connection) {
  const set = index.get(key);
  if (!set) return;
  set.delete(connection);
  if (set.size === 0) index.delete(key);
}
