/**
 * Several Roomz instances sharing one real redis-server, as in production behind a load
 * balancer: same JWT_SECRET_KEY and allow-list, each with its own port and data directory.
 */
import { startRedis, type RedisOptions, type RedisServer } from "../helpers/redis";
import { signIn, startServer, type TestServer } from "../helpers/server";
import { WsClient, type ConnectOptions } from "../helpers/ws-client";

export const USERS = Array.from({ length: 40 }, (_, i) => `scale${i + 1}@example.com`);
export const JWT_SECRET_KEY = "redis-test-secret-key-that-is-long-enough-0123456789";

let nextUser = 0;
export function freshUser(): string {
  return USERS[nextUser++ % USERS.length];
}

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

export function startInstance(redis: RedisServer, env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({
    env: {
      REDIS_URL: redis.url,
      ALLOWED_EMAILS: USERS.join(","),
      JWT_SECRET_KEY,
      MAGIC_LINK_RATE_LIMIT: "1000",
      MAGIC_LINK_IP_RATE_LIMIT: "100000",
      MESSAGE_RATE_LIMIT: "100000",
      ...env,
    },
  });
}

/** One session (signed in on the first server) and a connection to each of `servers`. */
export async function connectEverywhere(servers: TestServer[], email: string, options: ConnectOptions = {}) {
  const jwt = await signIn(servers[0], email);
  const clients: WsClient[] = [];
  for (const server of servers) clients.push(await WsClient.connect(server.wsUrl, { jwt, ...options }));
  return { jwt, clients };
}

/** Resolves once `check` is true, polling; fails with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

export async function healthStatus(server: TestServer): Promise<number> {
  try {
    return (await fetch(`${server.url}/healthz`)).status;
  } catch {
    return 0;
  }
}

/** `seqs` is exactly from..from+count-1, in order. */
export function isRun(seqs: number[], from: number, count: number): boolean {
  return seqs.length === count && seqs.every((s, i) => s === from + i);
}

/** The server printed no unhandled rejection or crash. */
export function quiet(server: TestServer): boolean {
  return !/unhandled|uncaught|panic|TypeError|ReferenceError/i.test(server.output);
}
