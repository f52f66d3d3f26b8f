/** Shared pieces of the client and CLI tests: a real server with roomy limits, users, waiting. */
import { RoomzClient } from "../../src/client";
import type { RoomzClientOptions } from "../../src/client";
import type { ChatMessage } from "../../src/protocol";
import { signIn, type TestServer } from "../helpers/server";
import { testSuite } from "../helpers/suite";

export { expectSeqRun as expectConsecutive } from "../helpers/seq";
export { until } from "../helpers/wait";

/** A fixed key, so sessions stay valid when a test swaps the data directory. */
export const {
  users: USERS,
  jwtSecretKey: JWT_SECRET_KEY,
  freshUser,
  start: startTestServer,
} = testSuite("user", 30, "test-secret-key-that-is-long-enough-0123456789");

/** Short backoff and pings for tests only; defaults stay real. */
export const FAST = { reconnect: { baseMs: 50, maxMs: 400 } } satisfies Partial<RoomzClientOptions>;

export async function signedInClient(server: TestServer, email: string, options: Partial<RoomzClientOptions> = {}) {
  const session = await signIn(server, email);
  const client = new RoomzClient({ server: server.url, session, ...FAST, ...options });
  return { client, session };
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

/**
 * A client that keeps what it has been shown: `seen` holds the messages since the last
 * `reset` (which empties it, as an app discards what it held), `resets` counts them.
 */
export function watching(server: TestServer, session: string) {
  const client = new RoomzClient({ server: server.url, session, ...FAST });
  const view = { client, seen: [] as ChatMessage[], resets: 0 };
  client.on("message", (m) => view.seen.push(m));
  client.on("reset", () => {
    view.resets++;
    view.seen.length = 0;
  });
  return view;
}
