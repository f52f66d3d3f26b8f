/**
 * Composes the server: configuration, store, sessions, the HTTP routes (Elysia) and the
 * WebSocket protocol, on one Bun.serve. The socket side uses Bun's server directly: its
 * built-in pub/sub fans a message out in C++ with one serialisation, and the per-socket
 * state is one small object (see bench/ for what that buys against the baseline).
 */
import type { Server } from "bun";
import { createStore, type Store } from "../engine";
import { AllowList } from "./allow-list";
import type { Config } from "./config";
import type { Connection } from "./connection";
import { createEmailSender } from "./email";
import { createHttpApp } from "./http";
import { log } from "../log";
import { MagicLinks } from "./magic-links";
import { Metrics } from "./metrics";
import { startMetricsListener } from "./metrics-listener";
import { problem } from "./problem";
import { PushSender } from "./push/push-sender";
import { clientAddress } from "./request";
import { Sessions } from "./sessions";
import { ConnectionLoops } from "./connection-loops";
import { LocalFanout } from "./fanout";
import { SocketProtocol } from "./socket";
import { EventStreams } from "./event-streams";
import { RequestAuth } from "./request-auth";
import { Tokens } from "./tokens";
import { upgradeSocket, type UpgradeDeps } from "./upgrade";
import { WebApp } from "./web-app";
import { createBlobStore } from "../files/blob-store";
import { KeyedLock } from "../files/keyed-lock";
import { requestFileAuth } from "./file-auth";
import { download } from "./file-downloads";
import { FileSweeper } from "./file-sweeper";
import { UploadsInFlight, upload, type UploadDeps } from "./file-uploads";
import { CLOSE } from "../protocol";

// /metrics goes to the HTTP routes, which have none for it: a 404 problem document, as for
// any unknown path there (and under /api and /files, which never answer with the web
// app). Metrics are served only on METRICS_LISTEN (metrics-listener.ts).
const HTTP_PATHS = /^\/(auth(\/|$)|api(\/|$)|files(\/|$)|healthz$|metrics$)/;
const SHUTDOWN_LIMIT_MS = 10_000;
/** How long a shutdown waits for clients to read what was sent to them before the 1001. */
const SOCKET_FLUSH_LIMIT_MS = 3_000;

/** Path and query of a request URL, without trusting the Host part to be well formed. */
function splitUrl(url: string): { path: string; search: string } {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return { path: "/", search: "" };
  const query = url.indexOf("?", start);
  return query < 0 ? { path: url.slice(start), search: "" } : { path: url.slice(start, query), search: url.slice(query) };
}

/**
 * Elysia finds the path at a fixed offset past the scheme, so a Host of under four
 * characters (or a malformed one) would misroute; such requests get a canonical URL.
 * Headers, the Origin check's Host included, are kept as sent.
 */
function forElysia(request: Request, path: string, search: string): Request {
  const hostEnd = request.url.indexOf("/", request.url.indexOf("//") + 2);
  const host = request.url.slice(request.url.indexOf("//") + 2, hostEnd);
  if (host.length >= 4 && /^[A-Za-z0-9.:\[\]-]+$/.test(host)) return request;
  return new Request(`http://localhost${path}${search}`, request);
}

export interface RunningServer {
  server: Server<Connection>;
  store: Store;
  shutdown(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  let server: Server<Connection> | null = null;
  let draining = false;
  const metrics: Metrics = new Metrics(() => ({
    connections: sockets?.registry.size ?? 0,
    users: sockets?.registry.users ?? 0,
    redisConnected: config.redisUrl ? store.engine.healthy() : null,
  }));
  const allowList = new AllowList(config);
  const fanout = new LocalFanout(
    (topic, text) => server?.publish(topic, text),
    (count) => (metrics.messagesDelivered += count),
  );
  let sockets: SocketProtocol | null = null;
  let streams: EventStreams | null = null;
  let pushes: PushSender | null = null;
  // The path of a message back from the engine: stored messages go straight to this
  // process's sockets and event streams, presence frames to its sockets; session and
  // token ends to both.
  const store = await createStore(config, {
    deliver: (channel, frame, origin) => {
      fanout.publish(channel, frame, origin);
      streams?.deliver(channel, frame);
    },
    together: (channel, connectionId, writes) => fanout.together(channel, connectionId, writes),
    presence: (channel, frame, exceptConnectionId) => fanout.sendEach(channel, frame, exceptConnectionId),
    control: (event) => {
      sockets?.control(event);
      streams?.control(event);
      pushes?.control(event);
    },
    forgotten: (channel, connectionId, remaining) => sockets?.forgotten(channel, connectionId, remaining),
  });
  const sessions = new Sessions(config, store.auth, allowList, metrics);
  const links = new MagicLinks(config, store.auth, allowList, createEmailSender(config), metrics);
  pushes = new PushSender(config, store, metrics);
  const tokens = new Tokens(store.tokens, store.engine);
  const auth = new RequestAuth(sessions, tokens, allowList, metrics);
  sockets = new SocketProtocol(config, store, auth, metrics, fanout, pushes, () => draining);
  streams = new EventStreams(store.engine, auth, metrics, config.sendBufferBytes, config.streamHeartbeatMs);
  const registry = sockets.registry;
  const loops = new ConnectionLoops(registry, config.pingEveryMs);
  const upgradeDeps: UpgradeDeps = { config, store, auth, metrics, registry, isDraining: () => draining };
  allowList.onRemoved((removed) => {
    for (const email of removed) {
      registry.closeUser(email, CLOSE.notAllowed, "address no longer allowed");
      streams?.registry.closeUser(email, CLOSE.notAllowed, "address no longer allowed");
    }
  });
  const peers = new WeakMap<Request, string>();
  const http = createHttpApp({
    config,
    store,
    sessions,
    links,
    metrics,
    auth,
    tokens,
    streams,
    pushes,
    isDraining: () => draining,
    clientAddressOf: (request) => peers.get(request) ?? "unknown",
  });
  const web = await WebApp.load();
  const blobs = await createBlobStore(config);
  const files: UploadDeps = { config, files: store.files, blobs, auth: requestFileAuth(auth), blobLock: new KeyedLock(), inFlight: new UploadsInFlight() };
  const sweeper = new FileSweeper({ ...files, maxAgeMs: config.orphanFileAgeMs, everyMs: config.orphanSweepEveryMs });

  server = Bun.serve<Connection>({
    port: config.port,
    hostname: config.host,
    // Bodies are read by hand and cut at 16 KiB with a problem document (request.ts);
    // Bun's own limit, which answers with a bare 413, must never come first.
    maxRequestBodySize: 2 ** 40,
    async fetch(request, bunServer) {
      const { path, search } = splitUrl(request.url);
      if (path === "/ws") {
        if (request.method !== "GET") return problem("method_not_allowed", "Open /ws with a WebSocket GET.", path, { allow: "GET" });
        const refused = await upgradeSocket(upgradeDeps, request, bunServer, search);
        if (refused) metrics.upgradeRefused(refused.status);
        return refused;
      }
      if (path === "/api/files") {
        if (request.method !== "POST") return problem("method_not_allowed", "Upload files with POST.", path, { allow: "POST" });
        if (draining) return problem("unavailable", "The server is shutting down; upload again shortly.", path);
        return upload(files, request);
      }
      if (path.startsWith("/files/")) return download(files, request, path);
      if (HTTP_PATHS.test(path)) {
        // An event stream is quiet between heartbeats (25 s), longer than Bun's 10 s idle
        // timeout for HTTP, which would cut it; every other request keeps that timeout.
        if (path === "/api/stream") bunServer.timeout(request, 0);
        const routed = forElysia(request, path, search);
        peers.set(routed, clientAddress(config, request, bunServer.requestIP(request)?.address ?? "unknown"));
        return http.handle(routed);
      }
      return web.serve(request, path);
    },
    error() {
      metrics.unavailable("http");
      return problem("unavailable", "The server could not handle this request; try again shortly.", "/");
    },
    websocket: {
      ...sockets.handler,
      maxPayloadLength: config.maxFrameBytes,
      // 0 = never drop: Bun's publish would otherwise skip a subscriber over the limit
      // silently. Each socket checks its own buffer after every delivery instead (4008).
      backpressureLimit: 0,
      closeOnBackpressureLimit: false,
      idleTimeout: 0, // our own keepalive: ping every 25 s, close after 60 s of silence
      sendPings: false,
      publishToSelf: false, // a sender's ws.publish skips it: it gets its copy directly (fanout.ts)
    },
  });

  let metricsServer: Server<undefined> | null = null;
  try {
    if (config.metricsListen) metricsServer = startMetricsListener(config.metricsListen, metrics);
  } catch (error) {
    server.stop(true);
    await store.close();
    throw error;
  }

  let shuttingDown: Promise<void> | null = null;
  async function shutdown(): Promise<void> {
    shuttingDown ??= (async () => {
      draining = true;
      log.info("shutting down: storing accepted messages, then closing connections");
      const started = Date.now();
      const forced = setTimeout(() => server!.stop(true), SHUTDOWN_LIMIT_MS);
      // Bounded: a store that never answers must not keep the process (and its sockets) alive.
      const drained = await Promise.race([
        store.engine.drain().then(() => true),
        new Promise<false>((resolve) => setTimeout(resolve, SHUTDOWN_LIMIT_MS - 1_000, false).unref()),
      ]);
      if (!drained) log.warn(`shutting down: the store left messages unsettled after ${Date.now() - started} ms; closing anyway`);
      const left = Math.max(0, SHUTDOWN_LIMIT_MS - 500 - (Date.now() - started));
      streams?.closeAll();
      if (!(await loops.closeAll(Math.min(SOCKET_FLUSH_LIMIT_MS, left))))
        log.warn("shutting down: some connections did not take their last data in time; closing them anyway");
      await server!.stop(false);
      clearTimeout(forced);
      await sweeper.close();
      pushes?.close();
      await store.close();
      metricsServer?.stop(true);
      log.info("stopped");
    })();
    return shuttingDown;
  }

  process.on("SIGHUP", () => allowList.reload());
  log.info(`roomz listening on http://${config.host}:${server.port} (data in ${config.dataDir}, ${config.redisUrl ? "redis" : "embedded"} engine)`);
  if (allowList.size === 0)
    log.warn("NOBODY CAN SIGN IN: the allow-list is empty. Set ALLOWED_EMAILS or ALLOWED_EMAILS_FILE to the addresses that may use this server.");
  return { server, store, shutdown };
}
