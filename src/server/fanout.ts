/**
 * Delivery to this process's sockets. Messages go out with Bun's built-in pub/sub
 * (`server.publish`: one serialisation, C++ fan-out; or the sender's `ws.publish`, which
 * skips the sender, when the sender gets its copy directly); presence frames, which must
 * skip one connection, go to each socket. After each delivery every receiving socket checks
 * its send buffer: Bun's publish silently drops a message for a subscriber over its
 * backpressure limit, so such a socket must be closed (4008), never left open with a
 * hole in its stream.
 */
import type { Connection } from "./connection";

export class LocalFanout {
  private channels = new Map<string, Map<string, Connection>>();

  /** `publish` sends to a topic of this process; `delivered` counts the frames it reached. */
  constructor(
    private publishToTopic: (topic: string, text: string) => void,
    private delivered: (count: number) => void,
  ) {}

  add(connection: Connection): void {
    let connections = this.channels.get(connection.channel);
    if (!connections) this.channels.set(connection.channel, (connections = new Map()));
    connections.set(connection.connectionId, connection);
    connection.subscribe(connection.channel);
  }

  remove(connection: Connection): void {
    const connections = this.channels.get(connection.channel);
    if (!connections?.delete(connection.connectionId)) return;
    if (connections.size === 0) this.channels.delete(connection.channel);
  }

  /** `origin`: the sending connection, if it may be here; it gets its copy directly. */
  publish(channel: string, text: string, origin?: string): void {
    const connections = this.channels.get(channel);
    if (!connections) return;
    const sender = origin === undefined ? undefined : connections.get(origin);
    if (sender && !sender.closing) sender.sendAndPublish(text);
    else this.publishToTopic(channel, text);
    this.delivered(connections.size);
    for (const connection of connections.values()) if (!connection.corkedNow) connection.checkBackpressure();
  }

  /**
   * Runs `writes` with the connection's socket corked, so that its ack and its own copy of
   * the message leave in one write: a fifth fewer sends per message at four devices.
   */
  together(channel: string, connectionId: string, writes: () => void): void {
    const connection = this.channels.get(channel)?.get(connectionId);
    if (!connection || connection.closing) return writes();
    connection.corked(writes);
  }

  sendEach(channel: string, text: string, exceptConnectionId: string): void {
    for (const connection of this.channels.get(channel)?.values() ?? [])
      if (connection.connectionId !== exceptConnectionId) connection.send(text);
  }
}
