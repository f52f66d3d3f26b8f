/** Shared pieces of the client and CLI tests: a real server with roomy limits, users, waiting. */
import { RoomzClient } from "../../src/client";
import type { RoomzClientOptions } from "../../src/client";
import { signIn, startServer, type TestServer } from "../helpers/server";

export const USERS = Array.from({ length: 30 }, (_, i) => `user${i + 1}@example.com`);
/** A fixed key, so sessions stay valid when a test swaps the data directory. */
export const JWT_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789";

let nextUser = 0;
/** A user of its own for each test, so channels (and seq numbers) never mix. */
export function freshUser(): string {
  return USERS[nextUser++ % USERS.length];
}

export function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({
    env: {
      ALLOWED_EMAILS: USERS.join(","),
      JWT_SECRET_KEY,
      MAGIC_LINK_RATE_LIMIT: "1000",
      MAGIC_LINK_IP_RATE_LIMIT: "1000",
      MESSAGE_RATE_LIMIT: "100000",
      ...env,
    },
  });
}

/** Short backoff and pings for tests only; defaults stay real. */
export const FAST = { reconnect: { baseMs: 50, maxMs: 400 } } satisfies Partial<RoomzClientOptions>;

export async function signedInClient(server: TestServer, email: string, options: Partial<RoomzClientOptions> = {}) {
  const session = await signIn(server, email);
  const client = new RoomzClient({ server: server.url, session, ...FAST, ...options });
  return { client, session };
}

/** Resolves once `check` is true, polling; fails with `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Every seq of `seqs` is consecutive from `from`, each exactly once. */
export function expectConsecutive(seqs: number[], from: number, count: number): void {
  const expected = Array.from({ length: count }, (_, i) => from + i);
  if (JSON.stringify(seqs) !== JSON.stringify(expected)) throw new Error(`seqs ${JSON.stringify(seqs)} are not ${from}..${from + count - 1} exactly once in order`);
}

/** Every message of the channel, oldest first, read through the real history request. */
export async function allMessages(client: RoomzClient) {
  const out = [];
  let before: number | undefined;
  for (;;) {
    const page = await client.history({ before, limit: 200 });
    out.unshift(...page.messages);
    if (!page.has_more || page.messages.length === 0) return out;
    before = page.messages[0].seq;
  }
}
