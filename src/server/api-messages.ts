/**
 * `POST /api/messages` and `GET /api/messages` (PROTOCOL.md section 6): a message posted
 * over HTTP takes the WebSocket's path from the engine on (one append, delivered live to
 * every connection and stream); its errors are section 2's, as problem documents.
 */
import { Elysia } from "elysia";
import { EngineUnavailable, type AppendResult, type Engine } from "../engine";
import { HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, scopeAllows, type ChatMessage, type FileInfo } from "../protocol";
import { checkMessage } from "./frames-in";
import { UNKNOWN_FILES, claimFiles } from "./message-files";
import type { HttpDeps } from "./http";
import { methodNotAllowed, noParse, parseJson, pathOf, guardedBody } from "./route-kit";
import { describeError, log } from "../log";
import { json, problem } from "./problem";
import { RateWindows } from "./rate-windows";
import { refusal, type Principal } from "./request-auth";

const SEQ = /^\d{1,15}$/;

/** What a post asks to store, or the problem to answer. */
type Parsed = { content: unknown; clientMsgId: unknown; files: unknown } | Response;

function parsePost(request: Request, body: string, path: string): Parsed {
  const key = request.headers.get("idempotency-key");
  const type = (request.headers.get("content-type") ?? "").toLowerCase();
  // Anything but JSON is the content as sent (curl -d sends application/x-www-form-urlencoded).
  if (!type.startsWith("application/json")) return { content: body, clientMsgId: key, files: null };
  const parsed = parseJson(body);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return problem("invalid_data", 'Send a JSON object like {"content": "..."}, or the text itself as text/plain.', path);
  const { content, client_msg_id: id, files } = parsed as Record<string, unknown>;
  if (key !== null && id !== undefined && id !== null && id !== key)
    return problem("invalid_data", "`client_msg_id` and the Idempotency-Key header differ; send one of them.", path);
  return { content, clientMsgId: id ?? key, files: files ?? null };
}

function append(engine: Engine, principal: Principal, content: string, clientMsgId: string | null, files: FileInfo[]): Promise<AppendResult> {
  const { channel, email, tokenName } = principal;
  // Each post is a connection of its own, named by its token (a session's has no name).
  const message = { channel, email, connectionId: crypto.randomUUID(), displayName: tokenName, content, clientMsgId, files };
  return new Promise((resolve, reject) =>
    engine.append(message, (result) => (result instanceof EngineUnavailable ? reject(result) : resolve(result))),
  );
}

function unavailable(path: string, error: unknown): Response {
  if (!(error instanceof EngineUnavailable)) log.error(`${path} failed: ${describeError(error)}`);
  return problem("unavailable", "The message store can't be reached right now; nothing was stored. Try again.", path, { "retry-after": "2" });
}

export function messageRoutes(deps: HttpDeps) {
  const { config, metrics, auth, store } = deps;
  const windows = new RateWindows(config.messageRateLimit);

  async function post(request: Request): Promise<Response> {
    const path = pathOf(request);
    const body = await guardedBody(config, metrics, request, "invalid_data"); // section 2's code, as every other bad post
    if (body instanceof Response) return body;
    const who = await auth.authenticate(request, "send");
    if (!who.ok) return refusal(who, path);
    // Every post counts toward the limit, refused ones included (as every `message` frame).
    const wait = windows.take(who.principal.credential, Date.now());
    if (wait > 0) {
      metrics.rateLimited("message");
      const seconds = Math.ceil(wait / 1000);
      return problem("rate_limited", `Too many messages; wait ${seconds} s.`, path, { "retry-after": String(seconds) });
    }
    const parsed = parsePost(request, body, path);
    if (parsed instanceof Response) return parsed;
    const message = checkMessage(parsed.content, parsed.clientMsgId, parsed.files, config);
    if ("code" in message) return problem(message.code, message.message, path);
    if (deps.isDraining()) return problem("unavailable", "The server is restarting; send again shortly.", path, { "retry-after": "2" });
    try {
      const files = message.fileIds.length === 0 ? [] : await claimFiles(store.files, who.principal.email, message.fileIds);
      if (files === "unknown") return problem("invalid_data", UNKNOWN_FILES, path);
      const result = await append(store.engine, who.principal, message.content, message.clientMsgId, files);
      if (!result.duplicate) {
        metrics.messagesAccepted++;
        deps.pushes.messageStored(who.principal.email, result.message, who.principal.sessionId);
      }
      if (result.duplicate && !scopeAllows(who.principal.scope, "read")) {
        // A send-only credential that reuses a key must not read the message stored under it:
        // it gets what a WebSocket ack carries (section 2), not the original's content.
        const { id, seq, timestamp } = result.message;
        return json({ id, seq, timestamp, duplicate: true }, 200);
      }
      return json({ ...result.message, duplicate: result.duplicate }, result.duplicate ? 200 : 201);
    } catch (error) {
      return unavailable(path, error);
    }
  }

  async function get(request: Request): Promise<Response> {
    const path = pathOf(request);
    const who = await auth.authenticate(request, "read");
    if (!who.ok) return refusal(who, path);
    const params = new URL(request.url).searchParams;
    const [since, epoch, before, limit] = ["since", "epoch", "before", "limit"].map((name) => params.get(name));
    if (since !== null && (before !== null || limit !== null))
      return problem("invalid_request", "Ask either for history (`before`, `limit`) or for a replay (`since`, `epoch`), not both.", path);
    if (since !== null && !SEQ.test(since)) return problem("invalid_request", "`since` must be a non-negative integer seq.", path);
    if (before !== null && !SEQ.test(before)) return problem("invalid_request", "`before` must be a non-negative integer seq.", path);
    const pageSize = limit === null ? HISTORY_DEFAULT_LIMIT : Number(limit);
    if (limit !== null && !(/^\d{1,3}$/.test(limit) && pageSize >= 1 && pageSize <= HISTORY_MAX_LIMIT))
      return problem("invalid_request", `\`limit\` must be an integer from 1 to ${HISTORY_MAX_LIMIT}.`, path);
    try {
      if (since !== null) return json(await replay(store.engine, who.principal.channel, Number(since), epoch));
      const page = await store.engine.history(who.principal.channel, before === null ? null : Number(before), pageSize);
      return json({ messages: page.messages, has_more: page.hasMore });
    } catch (error) {
      return unavailable(path, error);
    }
  }

  return new Elysia()
    .post("/api/messages", ({ request }) => post(request), noParse)
    .get("/api/messages", ({ request }) => get(request))
    .all("/api/messages", methodNotAllowed("GET, POST"));
}

/**
 * A replay exactly as a joining socket gets it: a listener joins (the engine's one join
 * and replay rule) and leaves at once.
 */
async function replay(engine: Engine, channel: string, since: number, epoch: string | null) {
  const member = { connectionId: `replay-${crypto.randomUUID()}`, channel, connectedAt: Date.now(), displayName: null, listener: true };
  let answer: { messages: ChatMessage[]; complete: boolean; reset: boolean; epoch: string } | null = null;
  try {
    await engine.join(member, { since, epoch }, (joined) => {
      answer = { ...joined.replay!, epoch: joined.epoch };
    });
  } finally {
    await engine.leave(member).catch(() => {});
  }
  return answer!;
}
