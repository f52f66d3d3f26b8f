/**
 * Baseline: raw Bun.serve WebSockets doing the same minimal per-message work as Roomz
 * (parse the frame, check it, build the message, stringify once, ack the sender, publish
 * to the user's topic), with no auth and no store. Identity comes from `?user=<name>`.
 *   PORT=9001 HOST=127.0.0.1 bun bench/baseline-bun.ts
 */
interface Conn {
  user: string;
  topic: string;
  connectionId: string;
}

const MAX_LEN = 4000;
const seqs = new Map<string, number>();
let nextConn = 0;

const server = Bun.serve<Conn>({
  port: Number(process.env.PORT ?? 9001),
  hostname: process.env.HOST ?? "127.0.0.1",
  fetch(req, srv) {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") return Response.json({ status: "ok" });
    const user = url.searchParams.get("user");
    if (!user) return new Response("user required", { status: 400 });
    const data = { user, topic: `user:${user}`, connectionId: `c${++nextConn}` };
    return srv.upgrade(req, { data }) ? undefined : new Response("upgrade failed", { status: 400 });
  },
  websocket: {
    open(ws) {
      ws.subscribe(ws.data.topic);
      ws.send(JSON.stringify({ type: "authenticated", data: { channel: ws.data.topic, connection_id: ws.data.connectionId } }));
    },
    message(ws, raw) {
      let frame: any;
      try {
        frame = JSON.parse(typeof raw === "string" ? raw : raw.toString());
      } catch {
        ws.send('{"type":"error","data":{"code":"bad_frame","message":"Not JSON."}}');
        return;
      }
      const content = frame?.data?.content;
      if (frame?.type !== "message" || typeof content !== "string" || content.trim() === "" || content.length > MAX_LEN) {
        ws.send('{"type":"error","data":{"code":"invalid_data","message":"Bad message."}}');
        return;
      }
      const { topic, user, connectionId } = ws.data;
      const seq = (seqs.get(topic) ?? 0) + 1;
      seqs.set(topic, seq);
      const msg = {
        id: crypto.randomUUID(),
        seq,
        client_msg_id: typeof frame.data.client_msg_id === "string" ? frame.data.client_msg_id : null,
        user: { id: topic, email: user, display_name: null },
        connection_id: connectionId,
        content,
        timestamp: new Date().toISOString(),
      };
      const ack: any = { type: "ack", data: { id: msg.id, seq, timestamp: msg.timestamp, duplicate: false } };
      if (typeof frame.ref === "string") ack.ref = frame.ref;
      ws.send(JSON.stringify(ack));
      server.publish(topic, JSON.stringify({ type: "message", data: msg }));
    },
    close(ws) {
      ws.unsubscribe(ws.data.topic);
    },
  },
});
console.log(`baseline-bun listening on ${server.hostname}:${server.port}`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
