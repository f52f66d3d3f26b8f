/**
 * The HTTP side of the contract (PROTOCOL.md section 1) as Elysia routes. Bodies are read
 * by hand (parse: "none") so the 16 KiB limit holds whatever a client declares, and every
 * error, wrong methods and unknown /auth paths included, is a problem document.
 */
import { Elysia } from "elysia";
import { EngineUnavailable, type Store } from "../engine";
import type { ServerLimits } from "../protocol";
import type { Config } from "./config";
import type { MagicLinks } from "./magic-links";
import type { Metrics } from "./metrics";
import { json, problem } from "./problem";
import { pushRoutes } from "./push/push-routes";
import { guardedBody, methodNotAllowed, noParse, parseJson, pathOf } from "./route-kit";
import type { Sessions } from "./sessions";
import type { EventStreams } from "./event-streams";
import type { RequestAuth } from "./request-auth";
import type { Tokens } from "./tokens";
import type { PushSender } from "./push/push-sender";
import { messageRoutes } from "./api-messages";
import { streamRoutes } from "./api-stream";
import { tokenRoutes } from "./api-tokens";
import { VERIFY_PAGE_HEADERS, confirmPage, unusableLinkPage } from "./verify-page";
import { describeError, log } from "../log";

export interface HttpDeps {
  config: Config;
  store: Store;
  sessions: Sessions;
  links: MagicLinks;
  metrics: Metrics;
  isDraining: () => boolean;
  /** Who makes a request to /api/*, /files/*, /ws (sessions or access tokens). */
  auth: RequestAuth;
  tokens: Tokens;
  streams: EventStreams;
  /** Web Push of each message stored here (section 8), HTTP posts included. */
  pushes: PushSender;
  /** The client address Bun saw for this request (set before routing). */
  clientAddressOf: (request: Request) => string;
}

export function createHttpApp(deps: HttpDeps) {
  const { config, sessions, links, store, metrics } = deps;
  const limits: ServerLimits = {
    max_message_length: config.maxMessageLength,
    max_frame_bytes: config.maxFrameBytes,
    message_rate_limit: config.messageRateLimit,
  };

  /** Shared guard of every POST: the Origin rule, then the bounded body. */
  const postBody = (request: Request) => guardedBody(config, metrics, request);

  return new Elysia()
    .onError(({ code, request, error }) => {
      const path = pathOf(request);
      if (code === "NOT_FOUND") return problem("not_found", `Nothing is at ${path}.`, path);
      metrics.unavailable("http");
      // The store being unreachable (a session or token check, say) is already logged
      // once by its link; each request it refuses is not an error of its own.
      if (error instanceof EngineUnavailable)
        return problem("unavailable", "The message store can't be reached right now; try again shortly.", path, { "retry-after": "2" });
      log.error(`request ${request.method} ${path} failed: ${describeError(error)}`);
      return problem("unavailable", "The server could not handle this request; try again shortly.", path);
    })
    .post(
      "/auth/request-magic-link",
      async ({ request }) => {
        const body = await postBody(request);
        if (body instanceof Response) return body;
        const path = pathOf(request);
        const result = await links.request(parseJson(body), deps.clientAddressOf(request));
        if (result.kind === "invalid") return problem("invalid_request", result.detail, path);
        if (result.kind === "rate_limited")
          return problem("rate_limited", `Too many sign-in links were asked for; try again in ${result.retryAfterSeconds} seconds.`, path, {
            "retry-after": String(result.retryAfterSeconds),
          });
        return json({ status: "ok", message: "If this address may sign in, a link is on its way. Check your email." });
      },
      noParse,
    )
    .all("/auth/request-magic-link", methodNotAllowed("POST"))
    .get("/auth/verify", async ({ request }) => {
      const token = new URL(request.url).searchParams.get("token") ?? "";
      const link = await links.peek(token);
      if ("code" in link) return new Response(unusableLinkPage(link.code === "expired_token"), { status: 400, headers: VERIFY_PAGE_HEADERS });
      return new Response(confirmPage(link.email, token), { status: 200, headers: VERIFY_PAGE_HEADERS });
    })
    .post(
      "/auth/verify",
      async ({ request }) => {
        const body = await postBody(request);
        if (body instanceof Response) return body;
        const path = pathOf(request);
        const type = (request.headers.get("content-type") ?? "").toLowerCase();
        if (type.startsWith("application/x-www-form-urlencoded")) {
          const result = await links.use(new URLSearchParams(body).get("token"));
          if (!result.ok) return new Response(null, { status: 303, headers: { location: `/?error=${result.code}`, "cache-control": "no-store" } });
          const { token } = await sessions.issue(result.email);
          return new Response(null, { status: 303, headers: { location: "/", "set-cookie": sessions.cookie(token), "cache-control": "no-store" } });
        }
        const parsed = parseJson(body) as { token?: unknown } | undefined;
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || typeof parsed.token !== "string")
          return problem("invalid_request", 'Send a JSON object like {"token": "..."} or the sign-in form.', path);
        const result = await links.use(parsed.token);
        if (!result.ok) {
          const detail = {
            invalid_token: "This sign-in token is not valid: it was already used, or it was mistyped. Ask for a new link.",
            expired_token: "This sign-in token has expired. Ask for a new link.",
            not_allowed: "This address is not allowed to sign in to this server.",
          }[result.code];
          return problem(result.code, detail, path);
        }
        const { token, claims } = await sessions.issue(result.email);
        return json(
          { status: "ok", user: { id: claims.sub, email: claims.email }, session: token, expires_at: new Date(claims.exp * 1000).toISOString() },
          200,
          { "set-cookie": sessions.cookie(token) },
        );
      },
      noParse,
    )
    .all("/auth/verify", methodNotAllowed("GET, POST"))
    .get("/auth/me", async ({ request }) => {
      const auth = await sessions.authenticate(request);
      if (!auth.ok) return problem(auth.code, auth.detail, pathOf(request));
      const { claims } = auth;
      return json({
        user: { id: claims.sub, email: claims.email },
        session: { issued_at: new Date(claims.iat * 1000).toISOString(), expires_at: new Date(claims.exp * 1000).toISOString() },
      });
    })
    .all("/auth/me", methodNotAllowed("GET"))
    .post(
      "/auth/logout",
      async ({ request }) => {
        const body = await postBody(request);
        if (body instanceof Response) return body;
        // Any genuine, unexpired session is revoked, even one whose address is off the
        // allow-list for now: a logout must not come undone when the address returns.
        const claims = sessions.genuineClaims(request);
        if (claims) {
          await store.auth.revokeSession(claims.jti, claims.exp * 1000);
          await store.engine.control({ kind: "session_revoked", jti: claims.jti });
        }
        return json({ status: "ok" }, 200, { "set-cookie": sessions.cookie(null) });
      },
      noParse,
    )
    .all("/auth/logout", methodNotAllowed("POST"))
    .post(
      "/auth/logout-all",
      async ({ request }) => {
        const body = await postBody(request);
        if (body instanceof Response) return body;
        const auth = await sessions.authenticate(request);
        if (!auth.ok) return problem(auth.code, auth.detail, pathOf(request));
        await store.auth.bumpSessionVersion(auth.claims.email);
        await store.engine.control({ kind: "user_sessions_ended", email: auth.claims.email });
        return json({ status: "ok", ended_sessions: "all" }, 200, { "set-cookie": sessions.cookie(null) });
      },
      noParse,
    )
    .all("/auth/logout-all", methodNotAllowed("POST"))
    .get("/healthz", ({ request }) => {
      if (deps.isDraining()) return problem("unavailable", "The server is shutting down.", pathOf(request));
      if (!store.engine.healthy()) return problem("unavailable", "The message store is unreachable.", pathOf(request));
      return json({ status: "ok" });
    })
    .all("/healthz", methodNotAllowed("GET"))
    // The limits this server was configured with, so clients check what the server will
    // (docs/protocol.md); not secret, so no session is needed.
    .get("/api/limits", () => json(limits))
    .all("/api/limits", methodNotAllowed("GET"))
    .use(pushRoutes(deps))
    .use(tokenRoutes(deps))
    .use(messageRoutes(deps))
    .use(streamRoutes(deps));
}
