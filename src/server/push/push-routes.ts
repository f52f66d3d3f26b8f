/**
 * The Web Push routes (PROTOCOL.md section 8): the VAPID public key, and registering and
 * dropping this device's subscription. Registering needs a session (never an access
 * token: a subscription belongs to a browser's session, and ends with it).
 */
import { Elysia } from "elysia";
import type { Store } from "../../engine";
import { PUSH_MAX_SUBSCRIPTIONS } from "../../protocol";
import type { Config } from "../config";
import type { Metrics } from "../metrics";
import { json, problem } from "../problem";
import { guardedBody, methodNotAllowed, noParse, parseJson, pathOf } from "../route-kit";
import type { Sessions } from "../sessions";
import { checkEndpoint } from "./endpoint-policy";
import type { PushSender } from "./push-sender";
import { parseEndpointOnly, parseSubscription } from "./subscription-input";

export interface PushRouteDeps {
  config: Config;
  store: Store;
  sessions: Sessions;
  metrics: Metrics;
  pushes: Pick<PushSender, "subscriptionsChanged">;
}

export function pushRoutes({ config, store, sessions, metrics, pushes }: PushRouteDeps) {
  async function register(request: Request): Promise<Response> {
    const body = await guardedBody(config, metrics, request);
    if (body instanceof Response) return body;
    const path = pathOf(request);
    const auth = await sessions.authenticate(request);
    if (!auth.ok) return problem(auth.code, auth.detail, path);
    const input = parseSubscription(parseJson(body));
    if (!input.ok) return problem("invalid_request", input.detail, path);
    const verdict = await checkEndpoint(input.value.endpoint, config.pushEndpointAllow);
    if (!verdict.ok) return problem("invalid_request", `This push endpoint can't be used: ${verdict.reason}.`, path);
    const { claims } = auth;
    const createdAt = Date.now();
    const record = { ...input.value, jti: claims.jti, sessionVersion: claims.ver, sessionExpiresAt: claims.exp * 1000, createdAt };
    if (!(await store.push.savePushSubscription(claims.email, record, PUSH_MAX_SUBSCRIPTIONS)))
      return problem("rate_limited", `You already have ${PUSH_MAX_SUBSCRIPTIONS} devices with notifications on; turn them off on one you no longer use.`, path);
    await pushes.subscriptionsChanged(claims.email);
    return json({ endpoint: record.endpoint, device: record.device, created_at: new Date(createdAt).toISOString() }, 201);
  }

  async function unregister(request: Request): Promise<Response> {
    const body = await guardedBody(config, metrics, request);
    if (body instanceof Response) return body;
    const path = pathOf(request);
    const auth = await sessions.authenticate(request);
    if (!auth.ok) return problem(auth.code, auth.detail, path);
    const input = parseEndpointOnly(parseJson(body));
    if (!input.ok) return problem("invalid_request", input.detail, path);
    const deleted = await store.push.deletePushSubscription(auth.claims.email, input.value);
    return json({ status: "ok", deleted });
  }

  return new Elysia()
    .get("/api/push/key", () => json({ public_key: config.vapid.publicKey }))
    .all("/api/push/key", methodNotAllowed("GET"))
    .post("/api/push/subscriptions", ({ request }) => register(request), noParse)
    .delete("/api/push/subscriptions", ({ request }) => unregister(request), noParse)
    .all("/api/push/subscriptions", methodNotAllowed("POST, DELETE"));
}
