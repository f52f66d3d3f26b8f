/**
 * `/auth/tokens` (PROTOCOL.md section 6): a signed-in user creates, lists and revokes
 * access tokens. Sessions only (Sessions.authenticate refuses access tokens on /auth/*).
 */
import { Elysia } from "elysia";
import type { HttpDeps } from "./http";
import { methodNotAllowed, noParse, parseJson, pathOf, guardedBody } from "./route-kit";
import { json, problem } from "./problem";
import { originAllowed } from "./request";

export function tokenRoutes(deps: HttpDeps) {
  const { config, metrics, sessions, tokens } = deps;
  return new Elysia()
    .post(
      "/auth/tokens",
      async ({ request }) => {
        const body = await guardedBody(config, metrics, request);
        if (body instanceof Response) return body;
        const auth = await sessions.authenticate(request);
        if (!auth.ok) return problem(auth.code, auth.detail, pathOf(request));
        const result = await tokens.create(auth.claims.email, parseJson(body));
        if (!result.ok) return problem(result.code, result.detail, pathOf(request));
        return json(result.created, 201);
      },
      noParse,
    )
    .get("/auth/tokens", async ({ request }) => {
      const auth = await sessions.authenticate(request);
      if (!auth.ok) return problem(auth.code, auth.detail, pathOf(request));
      return json({ tokens: await tokens.list(auth.claims.email) });
    })
    .all("/auth/tokens", methodNotAllowed("GET, POST"))
    .delete(
      "/auth/tokens/:id",
      async ({ request, params }) => {
        const path = pathOf(request);
        // A state-changing request like a POST: the same Origin rule.
        if (!originAllowed(config, request)) {
          metrics.authFailure("bad_origin");
          return problem("bad_origin", "This request came from another site; use Roomz from its own address.", path);
        }
        const auth = await sessions.authenticate(request);
        if (!auth.ok) return problem(auth.code, auth.detail, path);
        if (!(await tokens.revoke(auth.claims.email, params.id))) return problem("not_found", "You have no token with this id.", path);
        return json({ status: "ok" });
      },
      noParse,
    )
    .all("/auth/tokens/:id", methodNotAllowed("DELETE"));
}
