/** The only place that turns the configured server into HTTP and WebSocket addresses. */

/** The server base URL without trailing slashes; "" stays "" (same origin in a browser). */
export function normalizeServer(server: string): string {
  return server.trim().replace(/\/+$/, "");
}

export function httpUrl(server: string, path: string): string {
  return `${server}${path}`;
}

/** ws:// or wss:// + /ws, with `since` and `epoch` when resuming. */
export function wsUrl(server: string, resume?: { since: number; epoch: string | null }): string {
  const base = server || (globalThis as { location?: { href: string } }).location?.href;
  if (!base) throw new Error("roomz: `server` must be a full URL outside a browser");
  const url = new URL("/ws", base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (resume) {
    url.searchParams.set("since", String(resume.since));
    if (resume.epoch) url.searchParams.set("epoch", resume.epoch);
  }
  return url.toString();
}
