/**
 * Several Roomz instances sharing one real redis-server, as in production behind a load
 * balancer: same JWT_SECRET_KEY and allow-list, each with its own port and data directory.
 */
import { expect } from "bun:test";
import { startRedis, type RedisOptions, type RedisServer } from "../helpers/redis";
import { signIn, type TestServer } from "../helpers/server";
import { testSuite } from "../helpers/suite";
import type { ConnectOptions } from "../helpers/upgrade";
import { WsClient } from "../helpers/ws-client";

const suite = testSuite("scale", 40, "redis-test-secret-key-that-is-long-enough-0123456789");
export const { users: USERS, jwtSecretKey: JWT_SECRET_KEY, freshUser } = suite;

export interface Cluster {
  redis: RedisServer;
  servers: TestServer[];
  stop(): Promise<void>;
}

export async function startCluster(count: number, env: Record<string, string> = {}, redisOptions: RedisOptions = {}): Promise<Cluster> {
  const redis = await startRedis(redisOptions);
  const servers = await Promise.all(Array.from({ length: count }, () => startInstance(redis, env)));
  return {
    redis,
    servers,
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      await redis.stop();
    },
  };
}

/** An instance on `redis` (a redis-server or a Redis Cluster: anything with a URL). */
export function startInstance(redis: Pick<RedisServer, "url">, env: Record<string, string> = {}): Promise<TestServer> {
  return suite.start({ REDIS_URL: redis.url, ...env });
}

/** One session (signed in on the first server) and a connection to each of `servers`. */
export async function connectEverywhere(servers: TestServer[], email: string, options: ConnectOptions = {}) {
  const jwt = await signIn(servers[0], email);
  const clients: WsClient[] = [];
  for (const server of servers) clients.push(await WsClient.connect(server.wsUrl, { jwt, ...options }));
  return { jwt, clients };
}

export async function healthStatus(server: TestServer): Promise<number> {
  try {
    return (await fetch(`${server.url}/healthz`)).status;
  } catch {
    return 0;
  }
}

/** The server printed no unhandled rejection or crash. */
export function quiet(server: TestServer): boolean {
  return !/unhandled|uncaught|panic|TypeError|ReferenceError/i.test(server.output);
}

/**
 * SIGKILLs `doomed` (no goodbye) while a connection on `survivor` watches two of its
 * connections: both `user_left` arrive within 30 s, with 2 and then 1 remaining. Returns
 * the user's session and the watching connection; each log line is for the caller to check.
 */
export async function killAndWatchForgotten(survivor: TestServer, doomed: TestServer) {
  const { jwt, clients } = await connectEverywhere([survivor, doomed, doomed], freshUser());
  const [watcher, goneA, goneB] = clients;
  await watcher.waitFor((f) => f.type === "user_joined" && f.data.total_connections === 3);
  const killedAt = Date.now();
  await doomed.stop("SIGKILL");
  for (const gone of [goneA, goneB]) await watcher.waitFor((f) => f.type === "user_left" && f.data.connection_id === gone.connectionId, 30_000);
  expect(Date.now() - killedAt).toBeLessThan(30_000);
  expect(watcher.ofType("user_left").map((f) => f.data.remaining_connections).sort()).toEqual([1, 2]);
  return { jwt, watcher };
}
