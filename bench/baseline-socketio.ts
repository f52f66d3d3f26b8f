/**
 * Baseline: Socket.IO 4 on Node.js, websocket transport only, one room per user, the same
 * per-message work as Roomz (check, build the message, ack the sender, emit to the room).
 * Identity comes from `?user=<name>`. Node 20 can't run TypeScript, so bench/run.ts
 * bundles this file with `bun build --target=node --packages=external` and runs it with node.
 */
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { Server } from "socket.io";

const MAX_LEN = 4000;
const seqs = new Map<string, number>();

const http = createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"status":"ok"}');
    return;
  }
  res.writeHead(404);
  res.end();
});
const io = new Server(http, { transports: ["websocket"], serveClient: false, perMessageDeflate: false, cors: { origin: "*" } });

io.on("connection", (socket) => {
  const user = String(socket.handshake.query.user ?? "");
  if (!user) return socket.disconnect(true);
  const topic = `user:${user}`;
  socket.join(topic);
  socket.emit("authenticated", { channel: topic, connection_id: socket.id });
  socket.on("message", (data: any) => {
    const content = data?.content;
    if (typeof content !== "string" || content.trim() === "" || content.length > MAX_LEN) {
      socket.emit("error_frame", { code: "invalid_data", message: "Bad message." });
      return;
    }
    const seq = (seqs.get(topic) ?? 0) + 1;
    seqs.set(topic, seq);
    const msg = {
      id: randomUUID(),
      seq,
      client_msg_id: typeof data.client_msg_id === "string" ? data.client_msg_id : null,
      user: { id: topic, email: user, display_name: null },
      connection_id: socket.id,
      content,
      timestamp: new Date().toISOString(),
    };
    socket.emit("ack", { id: msg.id, seq, timestamp: msg.timestamp, duplicate: false });
    io.to(topic).emit("message", msg);
  });
});

const port = Number(process.env.PORT ?? 9002);
http.listen(port, process.env.HOST ?? "127.0.0.1", 4096, () => console.log(`baseline-socketio listening on ${port}`));
// S2 reads RSS after a full GC too (started with --expose-gc).
process.on("SIGUSR2", () => (globalThis as { gc?: () => void }).gc?.());
process.on("SIGTERM", () => {
  io.close();
  process.exit(0);
});
