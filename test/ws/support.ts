/** Shared pieces of the WebSocket protocol tests: servers, users, sessions, checks. */
import { signIn, type TestServer } from "../helpers/server";
import { testSuite } from "../helpers/suite";
import type { ConnectOptions } from "../helpers/upgrade";
import { WsClient } from "../helpers/ws-client";

/** Each file's server allows all of these; each test takes users of its own (own channels). */
export const {
  users: WS_USERS,
  jwtSecretKey: JWT_SECRET_KEY,
  freshUser,
  start: startWsServer,
} = testSuite("ws", 60, "ws-test-secret-key-that-is-long-enough-0123456789");

/** Signs in through the real magic-link flow and opens `count` authenticated connections. */
export async function connectUser(server: TestServer, email: string, count = 1, options: ConnectOptions = {}) {
  const jwt = await signIn(server, email);
  const clients: WsClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await WsClient.connect(server.wsUrl, { jwt, ...options }));
  return { jwt, clients };
}

/** Reads one sample of a Prometheus metric from the server's metrics listener. */
export async function metric(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(server.metricsUrl)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`no ${name} in /metrics:\n${text}`);
  return Number(line.split(/\s+/).pop());
}

/** Every message of the channel, oldest first, read through `history` requests. */
export async function allHistory(client: WsClient): Promise<any[]> {
  const out: any[] = [];
  let before: number | undefined;
  for (;;) {
    const reply = await client.request("history", before === undefined ? { limit: 200 } : { before, limit: 200 });
    if (reply.type !== "ack") throw new Error(`history refused: ${JSON.stringify(reply)}`);
    out.unshift(...reply.data.messages);
    if (!reply.data.has_more || reply.data.messages.length === 0) return out;
    before = reply.data.messages[0].seq;
  }
}

/** Sends `count` messages over `client` without waiting between them; resolves with their acks. */
export async function sendMany(client: WsClient, count: number, label: string): Promise<any[]> {
  const replies = [];
  for (let i = 0; i < count; i++) replies.push(client.request("message", { content: `${label} #${i}` }, { timeoutMs: 30000 }));
  const done = await Promise.all(replies);
  for (const r of done) if (r.type !== "ack") throw new Error(`refused: ${JSON.stringify(r)}`);
  return done.map((r) => r.data);
}
