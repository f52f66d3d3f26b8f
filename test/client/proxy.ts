/**
 * A real TCP relay between a client and the test server, to drop a socket at a chosen
 * moment: `blackhole()` keeps delivering what the client sends but swallows what the
 * server answers (acks lost in flight), `cut()` then ends every relayed connection.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export class Relay {
  private server: Server;
  private pairs = new Set<[Socket, Socket]>();
  private swallowing = false;
  port = 0;

  constructor(private targetPort: number) {
    this.server = createServer((client) => {
      const upstream = createConnection(this.targetPort, "127.0.0.1");
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      client.on("data", (d) => upstream.write(d));
      upstream.on("data", (d) => !this.swallowing && client.write(d));
      const end = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("close", end).on("error", end);
      upstream.on("close", end).on("error", end);
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
    return `http://127.0.0.1:${this.port}`;
  }

  blackhole(): void {
    this.swallowing = true;
  }

  /** Ends every relayed connection abruptly; new ones flow normally again. */
  cut(): void {
    this.swallowing = false;
    for (const [client, upstream] of [...this.pairs]) {
      client.destroy();
      upstream.destroy();
    }
  }

  stop(): void {
    this.cut();
    this.server.close();
  }
}
