/**
 * Reproduces the S2 finding in isolation: a callback created inside an async upgrade
 * method keeps that call's scope, and with it the upgrade `Request` and its
 * `URLSearchParams`, alive for as long as the connection holds the callback.
 *   bun bench/probe/closure-retention.ts closure   # Request ≈ one per connection
 *   bun bench/probe/closure-retention.ts plain     # Request ≈ 1
 */
import { heapStats } from "bun:jsc";
const mode = process.argv[2]; // "closure" | "plain"
class Proto {
  count = 0;
  async upgrade(request: Request, server: any) {
    const params = new URL(request.url).searchParams;
    await Promise.resolve();
    const user = params.get("user");
    const onSlow = mode === "closure" ? () => this.count++ : this.bump;
    return server.upgrade(request, { data: { user, onSlow } }) ? undefined : new Response("no", { status: 400 });
  }
  bump = () => this.count++;
}
const p = new Proto();
const server = Bun.serve({ port: 0, fetch: (req, srv) => p.upgrade(req, srv), websocket: { message() {}, open() {} } });
const socks: WebSocket[] = [];
const N = 3000;
await Promise.all(Array.from({ length: N }, (_, i) => new Promise<void>((r) => { const ws = new WebSocket(`ws://127.0.0.1:${server.port}/?user=u${i}`); ws.onopen = () => r(); socks.push(ws); })));
await Bun.sleep(300);
Bun.gc(true);
const h = heapStats();
console.log(mode, "Request", h.objectTypeCounts.Request ?? 0, "Headers", h.objectTypeCounts.Headers ?? 0, "URLSearchParams", h.objectTypeCounts.URLSearchParams ?? 0, "heap KB", Math.round(h.heapSize / 1024));
process.exit(0);
