/**
 * The upgrade of `GET /ws` (PROTOCOL.md section 2): its checks in the contract's order
 * (docs/protocol.md adds "shutting down" first and the store after `since`), each refusal
 * a problem document sent before upgrading.
 */
import type { Server } from "bun";
import type { Store } from "../engine";
import type { Config } from "./config";
import { Connection } from "./connection";
import type { ConnectionRegistry } from "./connection-registry";
import type { Metrics } from "./metrics";
import { problem } from "./problem";
import { originAllowed } from "./request";
import { refusal, type Principal, type RequestAuth } from "./request-auth";

const PATH = "/ws";

export interface UpgradeDeps {
  config: Config;
  store: Store;
  auth: RequestAuth;
  metrics: Metrics;
  registry: ConnectionRegistry;
  isDraining: () => boolean;
}

function storeUnreachable(): Response {
  return problem("unavailable", "The message store is unreachable; try again shortly.", PATH, { "retry-after": "2" });
}

/** Answers a refusal, or upgrades (undefined) with a new Connection expected by the registry. */
export async function upgradeSocket(deps: UpgradeDeps, request: Request, server: Server<Connection>, search: string): Promise<Response | undefined> {
  const { config, store, metrics, registry } = deps;
  if (deps.isDraining()) return problem("unavailable", "The server is restarting; reconnect shortly.", PATH, { "retry-after": "2" });
  if (!originAllowed(config, request)) {
    metrics.authFailure("bad_origin");
    return problem("bad_origin", "This connection came from another site; use Roomz from its own address.", PATH);
  }
  const auth = await deps.auth.authenticate(request, "socket");
  if (!auth.ok) return refusal(auth, PATH);
  const { principal } = auth;
  const params = new URLSearchParams(search);
  const since = params.get("since");
  if (since !== null && !/^\d{1,1000}$/.test(since)) return problem("invalid_request", "`since` must be a non-negative integer seq.", PATH);
  if (!store.engine.healthy()) return storeUnreachable();
  const open = await store.engine.connectionCount(principal.channel).catch(() => null);
  if (open === null) return storeUnreachable();
  if (open + registry.pendingFor(principal.email) >= config.maxConnectionsPerUser)
    return problem("rate_limited", `This account already has ${config.maxConnectionsPerUser} open connections; close one first.`, PATH, { "retry-after": "10" });
  const connection = newConnection(deps, principal, since, params.get("epoch"));
  registry.expect(connection);
  if (server.upgrade(request, { data: connection })) return undefined;
  registry.forget(connection);
  return problem("invalid_request", "This endpoint only speaks WebSocket.", PATH);
}

/**
 * Built outside the async upgrade on purpose: a closure made inside it would keep the
 * whole async scope (the Request, its headers, the params) alive as long as the socket.
 */
function newConnection(deps: UpgradeDeps, principal: Principal, since: string | null, epoch: string | null): Connection {
  const options = {
    sessionVersion: principal.sessionVersion,
    email: principal.email,
    credential: principal.credential,
    expiresAt: principal.expiresAt,
    since: since === null ? null : Math.min(Number(since), Number.MAX_SAFE_INTEGER),
    epoch,
    rateLimit: deps.config.messageRateLimit,
    sendBufferBytes: deps.config.sendBufferBytes,
    metrics: deps.metrics,
  };
  // A token's socket shows as a connection named by the token until it sets its own name.
  return new Connection(options, principal.tokenName);
}
