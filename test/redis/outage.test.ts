/**
 * Redis unreachable: /healthz and upgrades answer 503, messages and history get
 * `unavailable` (never acked). Redis back with the same data (AOF, fsync always): the
 * instances recover by themselves and nothing acknowledged is lost.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { expectSeqRun } from "../helpers/seq";
import { rawUpgrade } from "../helpers/upgrade";
import { GiveUp, until } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";
import { connectEverywhere, freshUser, healthStatus, quiet, startCluster, type Cluster } from "./support";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster(2, {}, { persistent: true });
}, 30_000);
afterAll(() => cluster?.stop());

test("Redis down: 503s and `unavailable`; Redis back: recovery by itself, every acked message kept, delivery resumes everywhere", async () => {
  const [a, b] = cluster.servers;
  const { jwt, clients } = await connectEverywhere([a, b], freshUser());
  const [ca, cb] = clients;
  // traffic through both instances while Redis dies under it
  const acked: number[] = [];
  let refused = 0;
  let running = true;
  const traffic = Promise.all(
    clients.map(async (c, ci) => {
      for (let i = 0; running; i++) {
        const reply = await c.request("message", { content: `${ci}|${i}` }, { timeoutMs: 15_000 });
        if (reply.type === "ack") acked.push(reply.data.seq);
        else {
          expect(reply.data.code).toBe("unavailable");
          refused++;
          await Bun.sleep(20);
        }
      }
    }),
  );
  await Bun.sleep(300);
  await cluster.redis.stop("SIGKILL");
  await until(async () => (await healthStatus(a)) === 503 && (await healthStatus(b)) === 503, "503 from /healthz", 10_000);
  await until(() => refused >= 4, "refused messages");
  const upgrade = await rawUpgrade(b.wsUrl, { jwt });
  expect(upgrade.status).toBe(503);
  const history = await ca.request("history", {});
  expect({ type: history.type, code: history.data.code }).toEqual({ type: "error", code: "unavailable" });

  await cluster.redis.start();
  await until(async () => (await healthStatus(a)) === 200 && (await healthStatus(b)) === 200, "recovery", 15_000);
  const ackedBefore = acked.length;
  await until(() => acked.length >= ackedBefore + 20, "messages acked again after recovery");
  running = false;
  await traffic;

  // every acked seq is stored, the channel is gapless, and both connections got all of it
  const total = Math.max(...acked);
  const stored: number[] = [];
  for (let before: number | undefined; ; ) {
    const page = (await ca.request("history", before === undefined ? { limit: 200 } : { before, limit: 200 })).data;
    stored.unshift(...page.messages.map((m: any) => m.seq));
    if (!page.has_more) break;
    before = page.messages[0].seq;
  }
  expectSeqRun(stored, 1, total);
  expect(new Set(acked).size).toBe(acked.length);
  for (const c of [ca, cb]) {
    await c.until(() => c.messages().some((m) => m.seq === total), `seq ${total}`);
    expectSeqRun(c.messages().map((m) => m.seq), 1, total);
  }
  const late = await WsClient.connect(b.wsUrl, { jwt, since: 0 });
  expect(late.replay!.data.messages.map((m: any) => m.seq).slice(-Math.min(total, 500))).toEqual(
    Array.from({ length: Math.min(total, 500) }, (_, i) => total - Math.min(total, 500) + 1 + i),
  );
  expect(late.authenticated.data.epoch).toBe(ca.authenticated.data.epoch);
  for (const server of [a, b]) {
    expect(server.proc.exitCode).toBeNull();
    expect(quiet(server)).toBe(true);
  }
}, 60_000);

test("Redis stops answering (CLIENT PAUSE WRITE): a message gets `unavailable` from the stall check while the pause lasts; then it recovers", async () => {
  const [a] = cluster.servers;
  const { clients: [writer] } = await connectEverywhere([a], freshUser());
  expect((await writer.request("message", { content: "before" })).type).toBe("ack");
  // Paused for longer than the request may wait: only the stall check can answer it.
  await cluster.redis.command("CLIENT", ["PAUSE", "60000", "WRITE"]);
  const during = await writer.request("message", { content: "during the stall" }, { timeoutMs: 15_000 });
  await cluster.redis.command("CLIENT", ["UNPAUSE"]);
  expect({ type: during.type, code: during.data?.code }).toEqual({ type: "error", code: "unavailable" });
  await until(async () => (await healthStatus(a)) === 200, "recovery", 20_000);
  const ack = async () => {
    const reply = await writer.request("message", { content: "after" }, { timeoutMs: 15_000 }).catch((error) => Promise.reject(new GiveUp(String(error))));
    return reply.type === "ack";
  };
  await until(ack, "an ack after the stall", 20_000);
  expect(quiet(a)).toBe(true);
}, 60_000);

test("a gap the store can't fill is retried once a second, never in a loop: with a damaged channel log, then with Redis down", async () => {
  const [a] = cluster.servers;
  const email = freshUser();
  const { clients: [c] } = await connectEverywhere([a], email);
  const channel = `user:${email}`;
  const logReads = async () => {
    const stats = String(await cluster.redis.command("INFO", ["commandstats"]));
    return Number(/cmdstat_zrangebyscore:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  };
  const healthWithin = (ms: number) => fetch(`${a.url}/healthz`, { signal: AbortSignal.timeout(ms) }).then((r) => r.status, () => 0);

  await cluster.redis.command("SET", [`roomz:log:${channel}`, "not a sorted set"]);
  const readsBefore = await logReads();
  // Two past the tip: a gap, and every read of the log to fill it fails (WRONGTYPE).
  await cluster.redis.command("PUBLISH", [`roomz:feed:${channel}`, `m2 {"seq":2}`]);
  await Bun.sleep(2_500);
  const tries = (await logReads()) - readsBefore;
  expect(tries).toBeGreaterThanOrEqual(1);
  expect(tries).toBeLessThanOrEqual(5);

  // With Redis gone each retry fails at once, without a round trip: the instance must
  // still run its event loop (answer /healthz with 503, pings with acks).
  await cluster.redis.stop("SIGKILL");
  await Bun.sleep(2_500);
  expect(await healthWithin(3_000)).toBe(503);
  expect((await c.request("ping", {}, { timeoutMs: 3_000 })).type).toBe("ack");

  await cluster.redis.start();
  await until(async () => (await healthWithin(3_000)) === 200, "recovery", 20_000);
  await cluster.redis.command("DEL", [`roomz:log:${channel}`]);
  expect(quiet(a)).toBe(true);
}, 60_000);
