/**
 * Redis unreachable: /healthz and upgrades answer 503, messages and history get
 * `unavailable` (never acked). Redis back with the same data (AOF, fsync always): the
 * instances recover by themselves and nothing acknowledged is lost.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rawUpgrade, WsClient } from "../helpers/ws-client";
import { connectEverywhere, eventually, freshUser, healthStatus, isRun, quiet, startCluster, type Cluster } from "./support";

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
  await eventually(async () => (await healthStatus(a)) === 503 && (await healthStatus(b)) === 503, "503 from /healthz", 10_000);
  await eventually(() => refused >= 4, "refused messages");
  const upgrade = await rawUpgrade(b.wsUrl, { jwt });
  expect(upgrade.status).toBe(503);
  const history = await ca.request("history", {});
  expect({ type: history.type, code: history.data.code }).toEqual({ type: "error", code: "unavailable" });

  await cluster.redis.start();
  await eventually(async () => (await healthStatus(a)) === 200 && (await healthStatus(b)) === 200, "recovery", 15_000);
  const ackedBefore = acked.length;
  await eventually(() => acked.length >= ackedBefore + 20, "messages acked again after recovery");
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
  expect(isRun(stored, 1, total)).toBe(true);
  expect(new Set(acked).size).toBe(acked.length);
  for (const c of [ca, cb]) {
    await c.until(() => c.messages().some((m) => m.seq === total), `seq ${total}`);
    expect(isRun(c.messages().map((m) => m.seq), 1, total)).toBe(true);
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
