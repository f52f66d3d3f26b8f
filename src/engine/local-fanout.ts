/**
 * Delivery to this process's sockets, shared by every engine. Messages go out with Bun's
 * built-in pub/sub (`server.publish`, one serialisation, C++ fan-out); presence frames,
 * which must skip one connection, go to each socket. After each delivery every receiving
 * socket checks its send buffer: Bun's publish silently drops a message for a subscriber
 * over its backpressure limit, so such a socket must be closed (4008), never left open
 * with a hole in its stream.
 */
import type { LocalSocket } from "./engine";

/** Publishes to a topic of this process; `subscribers` is how many local sockets it reaches. */
export type TopicPublisher = (topic: string, text: string, subscribers: number) => void;

export class LocalFanout {
  private channels = new Map<string, Map<string, LocalSocket>>();

  constructor(private publishToTopic: TopicPublisher) {}

  add(socket: LocalSocket): void {
    let sockets = this.channels.get(socket.channel);
    if (!sockets) this.channels.set(socket.channel, (sockets = new Map()));
    sockets.set(socket.connectionId, socket);
    socket.subscribe(socket.channel);
  }

  /** Returns false when the socket was not (or no longer) registered. */
  remove(socket: LocalSocket): boolean {
    const sockets = this.channels.get(socket.channel);
    if (!sockets?.delete(socket.connectionId)) return false;
    if (sockets.size === 0) this.channels.delete(socket.channel);
    return true;
  }

  sockets(channel: string): Iterable<LocalSocket> {
    return this.channels.get(channel)?.values() ?? [];
  }

  count(channel: string): number {
    return this.channels.get(channel)?.size ?? 0;
  }

  hasChannel(channel: string): boolean {
    return this.channels.has(channel);
  }

  publish(channel: string, text: string): void {
    const sockets = this.channels.get(channel);
    if (!sockets) return;
    this.publishToTopic(channel, text, sockets.size);
    for (const socket of sockets.values()) socket.checkBackpressure();
  }

  sendEach(channel: string, text: string, exceptConnectionId: string): void {
    for (const socket of this.sockets(channel)) {
      if (socket.connectionId === exceptConnectionId) continue;
      socket.send(text);
      socket.checkBackpressure();
    }
  }
}
