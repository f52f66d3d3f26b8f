/**
 * The metrics listener (METRICS_LISTEN, PROTOCOL.md section 1 [v2]): a second Bun.serve
 * that answers only `GET /metrics`, so the per-outcome counters never reach the public
 * address. Everything else on it is a 404 problem document (a wrong method on /metrics, 405).
 */
import type { Server } from "bun";
import { ConfigError } from "./config-error";
import { formatListenAddress, type ListenAddress } from "./listen-address";
import { describeError, log } from "../log";
import type { Metrics } from "./metrics";
import { problem } from "./problem";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The path of a request URL, without trusting the Host part to be well formed. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.indexOf("?", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

/** Starts listening, or throws a ConfigError naming METRICS_LISTEN (e.g. the port is taken). */
export function startMetricsListener(address: ListenAddress, metrics: Metrics): Server<undefined> {
  let server: Server<undefined>;
  try {
    server = Bun.serve({
      hostname: address.host,
      port: address.port,
      async fetch(request) {
        const path = pathOf(request.url);
        if (path !== "/metrics") return problem("not_found", `Nothing is at ${path}; this listener serves only GET /metrics.`, path);
        if (request.method !== "GET") return problem("method_not_allowed", "Use GET for /metrics.", path, { allow: "GET" });
        return new Response(await metrics.render(), { headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" } });
      },
      error(error) {
        log.error(`metrics request failed: ${describeError(error)}`);
        return problem("unavailable", "The metrics could not be gathered; try again shortly.", "/metrics");
      },
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? describeError(error);
    throw new ConfigError(
      `METRICS_LISTEN: cannot listen on ${formatListenAddress(address.host, address.port)} (${code}); set it to a free port on an address of this machine.`,
    );
  }
  log.info(`metrics on http://${formatListenAddress(address.host, server.port!)}/metrics`);
  return server;
}
