/** Shared pieces of the WebSocket protocol tests: servers, users, sessions, checks. */
import { createHmac } from "node:crypto";
import { expect } from "bun:test";
import { signIn, startServer, type StartOptions, type TestServer } from "../helpers/server";
import { WsClient, type ConnectOptions, type RawResponse } from "../helpers/ws-client";

/** Each file's server allows all of these; each test takes users of its own (own channels). */
export const WS_USERS = Array.from({ length: 60 }, (_, i) => `ws${i + 1}@example.com`);
export const JWT_SECRET_KEY = "ws-test-secret-key-that-is-long-enough-0123456789";

/** `YYYY-MM-DDTHH:MM:SS.sssZ` */
export const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let nextUser = 0;
export function freshUser(): string {
  return WS_USERS[nextUser++ % WS_USERS.length];
}

export function startWsServer(env: Record<string, string> = {}, options: Omit<StartOptions, "env"> = {}): Promise<TestServer> {
  return startServer({
    ...options,
    env: {
      ALLOWED_EMAILS: WS_USERS.join(","),
      JWT_SECRET_KEY,
      MAGIC_LINK_RATE_LIMIT: "1000",
      MAGIC_LINK_IP_RATE_LIMIT: "100000",
      MESSAGE_RATE_LIMIT: "100000",
      ...env,
    },
  });
}

/** A session JWT made by hand, as the contract describes it (HS256; sub, email, iat, exp, jti, ver). */
export function mintJwt(
  email: string,
  options: { secret?: string; expInSeconds?: number; ver?: number; alg?: string; jti?: string } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const header = Buffer.from(JSON.stringify({ alg: options.alg ?? "HS256", typ: "JWT" })).toString("base64url");
  const claims = {
    sub: `user:${email}`,
    email,
    iat: now,
    exp: now + (options.expInSeconds ?? 3600),
    jti: options.jti ?? crypto.randomUUID(),
    ver: options.ver ?? 0,
  };
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const signature = createHmac("sha256", options.secret ?? JWT_SECRET_KEY).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}${options.alg === "none" ? "." : `.${signature}`}`;
}

/** Signs in through the real magic-link flow and opens `count` authenticated connections. */
export async function connectUser(server: TestServer, email: string, count = 1, options: ConnectOptions = {}) {
  const jwt = await signIn(server, email);
  const clients: WsClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await WsClient.connect(server.wsUrl, { jwt, ...options }));
  return { jwt, clients };
}

/** A refusal before upgrading: status, problem document with `code`, instance /ws. */
export function expectProblem(response: RawResponse, status: number, code: string): any {
  expect({ status: response.status, body: response.body }).toMatchObject({ status });
  expect(response.headers.get("content-type") ?? "").toStartWith("application/problem+json");
  const body = JSON.parse(response.body);
  expect(body).toMatchObject({ type: "about:blank", status, code, instance: "/ws" });
  expect(typeof body.title).toBe("string");
  expect(typeof body.detail).toBe("string");
  expect(body.detail.length).toBeGreaterThan(10);
  expect(response.body).not.toMatch(/\bat .*\.ts:\d+/); // no stack traces
  return body;
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

/** `seqs` is exactly from..from+count-1, in order, each once. */
export function expectSeqRun(seqs: number[], from: number, count: number): void {
  const expected = Array.from({ length: count }, (_, i) => from + i);
  if (seqs.length !== expected.length || seqs.some((s, i) => s !== expected[i])) {
    const problems: string[] = [];
    const seen = new Set<number>();
    for (const s of seqs) {
      if (seen.has(s)) problems.push(`duplicate ${s}`);
      seen.add(s);
    }
    for (const e of expected) if (!seen.has(e)) problems.push(`missing ${e}`);
    for (let i = 1; i < seqs.length; i++) if (seqs[i] < seqs[i - 1]) problems.push(`out of order at ${i}: ${seqs[i - 1]} then ${seqs[i]}`);
    throw new Error(`expected seqs ${from}..${from + count - 1} once each in order; got ${seqs.length}: ${problems.slice(0, 10).join(", ")}`);
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
