/**
 * `GET /api/stream` (PROTOCOL.md section 6): the channel's messages as Server-Sent Events,
 * resuming from `Last-Event-ID` (or `?since=`) with the WebSocket replay's rule. The
 * stream itself lives in event-stream.ts, its joins and ends in event-streams.ts.
 */
import { Elysia } from "elysia";
import { EngineUnavailable } from "../engine";
import type { HttpDeps } from "./http";
import { methodNotAllowed, pathOf } from "./route-kit";
import { describeError, log } from "../log";
import { problem } from "./problem";
import { refusal } from "./request-auth";

const SEQ = /^\d{1,1000}$/;

const STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store",
  // nginx: don't buffer this response, whatever its configuration says.
  "x-accel-buffering": "no",
};

export function streamRoutes(deps: HttpDeps) {
  const { auth, streams, store } = deps;

  async function open(request: Request): Promise<Response> {
    const path = pathOf(request);
    // Elysia answers HEAD with the GET route; a stream has no headers-only answer, and
    // one opened for a HEAD would hold a stream slot that nobody reads.
    if (request.method === "HEAD") return problem("method_not_allowed", "Use GET for the stream.", path, { allow: "GET" });
    const who = await auth.authenticate(request, "read");
    if (!who.ok) return refusal(who, path);
    const params = new URL(request.url).searchParams;
    // An EventSource that reconnects sends Last-Event-ID, the last seq it saw: it wins over the URL's `since`.
    const since = request.headers.get("last-event-id")?.trim() || params.get("since");
    if (since !== null && !SEQ.test(since)) return problem("invalid_request", "`since` (or Last-Event-ID) must be a non-negative integer seq.", path);
    // Checked and counted with no await in between (EventStreams.open registers at once), so a burst can't pass it.
    const limit = deps.config.maxConnectionsPerUser;
    if (streams.registry.countFor(who.principal.email) >= limit)
      return problem("rate_limited", `This account already has ${limit} open streams on this server; close one first.`, path, { "retry-after": "10" });
    if (deps.isDraining()) return problem("unavailable", "The server is restarting; reconnect shortly.", path, { "retry-after": "2" });
    if (!store.engine.healthy()) return problem("unavailable", "The message store is unreachable; try again shortly.", path, { "retry-after": "2" });
    try {
      const sinceSeq = since === null ? null : Math.min(Number(since), Number.MAX_SAFE_INTEGER);
      const opened = await streams.open(who.principal, sinceSeq, params.get("epoch"));
      if (!opened.ok) return refusal(opened.refused, path);
      return new Response(opened.stream.body, { status: 200, headers: STREAM_HEADERS });
    } catch (error) {
      if (!(error instanceof EngineUnavailable)) log.warn(`opening a stream failed: ${describeError(error)}`);
      return problem("unavailable", "The message store is unreachable; try again shortly.", path, { "retry-after": "2" });
    }
  }

  return new Elysia().get("/api/stream", ({ request }) => open(request)).all("/api/stream", methodNotAllowed("GET"));
}
