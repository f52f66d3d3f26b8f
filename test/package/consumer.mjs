// A script as a user of the installed package writes it: plain JavaScript, no flags.
// Copied into the install folder by package.test.ts and run there:
//   node consumer.mjs SERVER TOKEN SESSION_FILE            (the ws package's WebSocket)
//   bun consumer.mjs SERVER TOKEN SESSION_FILE builtin     (the runtime's own)
// Prints one JSON line with what it saw, and must exit 0 by itself once the clients close.
import WsWebSocket from "ws";
import { RoomzClient as CoreClient, RoomzError as CoreError } from "roomz/client";
import { createClient, RoomzClient, RoomzError, SessionCache } from "roomz/client/node";

const [server, token, sessionFile, which = "ws"] = process.argv.slice(2);
const WebSocket = which === "builtin" ? globalThis.WebSocket : WsWebSocket;

// Without a WebSocket (Node 20 has none built in): a clear error, not "bad server address".
delete globalThis.WebSocket;
const bare = new CoreClient({ server });
const missing = await bare.connect().then(() => null, (error) => error);

// Sign in through the file-cached entry, with the WebSocket passed in.
const first = await createClient({ server, sessionCacheFile: sessionFile, WebSocket, reconnect: { baseMs: 50, maxMs: 400 } });
const verified = await first.verifyToken(token);
const cached = new SessionCache(sessionFile).get(server);

// A second client of the same user, built from the cached session, receives what the first sends.
const second = new RoomzClient({ server, session: cached.session, WebSocket });
const received = new Promise((resolve) => second.on("message", resolve));
const [authA, authB] = await Promise.all([first.connect(), second.connect()]);
const ack = await first.send("hello from a script");
const message = await received;
const history = await second.history({ limit: 5 });
first.close();
second.close();

console.log(JSON.stringify({
  runtime: process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.versions.node}`,
  webSocket: WebSocket === WsWebSocket ? "ws" : "builtin",
  missing: {
    isRoomzError: missing instanceof CoreError && missing instanceof RoomzError,
    code: missing?.code,
    message: missing?.message,
    state: bare.state,
  },
  email: verified.user.email,
  cachedEmail: cached?.email,
  sameSession: cached?.session === verified.session,
  connections: [authA.connection_id !== authB.connection_id, authA.user.email],
  ack: { seq: ack.seq, duplicate: ack.duplicate },
  message: { seq: message.seq, content: message.content, email: message.user.email },
  history: history.messages.map((m) => m.content),
  states: [first.state.status, second.state.status],
}));
