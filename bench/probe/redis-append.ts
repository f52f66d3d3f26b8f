/**
 * What one stored message costs the Redis engine: N appends over 200 channels through
 * the engine (createStore with REDIS_URL, a member joined in every channel so each append
 * is also delivered back through the feed), every message with a client_msg_id, W in
 * flight per worker. Prints appends/s and CPU µs per append of the Bun process(es) and of
 * each redis-server (from /proc/<pid>/stat), after a warm-up round of 20,000, and the rate at which the
 * busiest redis-server would use a whole core at that cost (its ceiling: Redis runs
 * commands on one thread).
 *   bun bench/probe/redis-append.ts [--appends 40000] [--window 256] [--workers 1] [--cluster 3] [--aof everysec]
 * --cluster P starts P redis-servers joined as a cluster (redis-cli --cluster create)
 * and uses REDIS_URL=redis+cluster://...; --workers K runs K engine processes (K
 * instances), each on its own 200/K channels. Every redis-server started is killed at the end.
 */
import { spawnSync, type Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStore, EngineUnavailable, type Member } from "../../src/engine";
import { cpuMicros } from "../lib/procstat";

const CHANNELS = 200;

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

if (process.env.PROBE_WORKER) await worker();
else await main();

/** One engine: joins its channels, appends, waits for every delivery; prints its numbers. */
async function worker() {
  const [url, index, workers, appends, window] = [
    process.env.PROBE_URL!,
    Number(process.env.PROBE_WORKER) - 1,
    Number(process.env.PROBE_WORKERS),
    Number(process.env.PROBE_APPENDS),
    Number(process.env.PROBE_WINDOW),
  ];
  const channels = Array.from({ length: CHANNELS }, (_, i) => `user:probe${i}@bench.test`).filter((_, i) => i % workers === index);
  let delivered = 0;
  const dir = mkdtempSync(join(tmpdir(), "roomz-probe-"));
  const store = await createStore({ dataDir: dir, redisUrl: url }, {
    deliver: () => void delivered++,
    presence: () => {},
    control: () => {},
    forgotten: () => {},
    together: (_channel, _connectionId, writes) => writes(),
  });
  while (!store.engine.healthy()) await Bun.sleep(20);
  const members: Member[] = [];
  for (const channel of channels) {
    const member: Member = { connectionId: crypto.randomUUID(), channel, connectedAt: Date.now(), displayName: null };
    await store.engine.join(member, { since: null, epoch: null }, () => {});
    members.push(member);
  }
  const append = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const channel = channels[i % channels.length];
      store.engine.append(
        { channel, email: channel.slice(5), connectionId: "c-probe", displayName: null, content: `probe message ${i} of the append benchmark, some ordinary length`, clientMsgId: crypto.randomUUID(), files: [] },
        (result) => (result instanceof EngineUnavailable ? reject(result) : resolve()),
      );
    });
  async function round(count: number) {
    const target = delivered + count;
    let next = 0;
    await Promise.all(
      Array.from({ length: window }, async () => {
        while (next < count) await append(next++);
      }),
    );
    while (delivered < target) await Bun.sleep(1);
    if (delivered !== target) throw new Error(`delivered ${delivered}, expected ${target}`);
  }
  // Long enough for the JIT to settle: ioredis costs twice as much in its first 40,000 commands.
  await round(Math.min(20_000, appends));
  process.stdout.write("warm\n");
  await new Promise<void>((go) => process.stdin.once("data", () => go()));
  const cpu = process.cpuUsage();
  const started = performance.now();
  await round(appends);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  process.stdout.write(`${JSON.stringify({ appends, ms, cpuUs: used.user + used.system })}\n`);
  for (const member of members) await store.engine.leave(member);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

async function main() {
  const appends = Number(flag("appends", "40000"));
  const window = Number(flag("window", "256"));
  const workers = Number(flag("workers", "1"));
  const primaries = Number(flag("cluster", "0"));
  const aof = flag("aof", "no");
  const dir = mkdtempSync(join(tmpdir(), "roomz-probe-redis-"));
  const servers: Subprocess[] = [];
  const ports = Array.from({ length: Math.max(1, primaries) }, (_, i) => 23_000 + Math.floor(Math.random() * 20_000) + i);
  try {
    for (const port of ports) {
      const args = ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--appendfilename", `a${port}.aof`, "--appenddirname", `aof${port}`];
      args.push(...(aof === "no" ? ["--appendonly", "no"] : ["--appendonly", "yes", "--appendfsync", aof]));
      if (primaries) args.push("--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`));
      servers.push(Bun.spawn(args, { stdout: "ignore", stderr: "inherit" }));
    }
    for (const port of ports) while (spawnSync(["redis-cli", "-p", String(port), "PING"]).stdout.toString().trim() !== "PONG") await Bun.sleep(20);
    let url = `redis://127.0.0.1:${ports[0]}`;
    if (primaries) {
      const made = spawnSync(["redis-cli", "--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"]);
      if (made.exitCode !== 0) throw new Error(made.stdout.toString() + made.stderr.toString());
      for (const port of ports) while (!spawnSync(["redis-cli", "-p", String(port), "CLUSTER", "INFO"]).stdout.toString().includes("cluster_state:ok")) await Bun.sleep(50);
      url = `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`;
    }
    const children = Array.from({ length: workers }, (_, i) =>
      Bun.spawn([process.execPath, import.meta.path], {
        env: { ...process.env, PROBE_WORKER: String(i + 1), PROBE_WORKERS: String(workers), PROBE_URL: url, PROBE_APPENDS: String(Math.floor(appends / workers)), PROBE_WINDOW: String(window) },
        stdin: "pipe",
        stdout: "pipe",
        stderr: "inherit",
      }),
    );
    const readers = children.map((child) => lines(child.stdout));
    for (const r of readers) if ((await r.next()).value !== "warm") throw new Error("a worker failed");
    const redisBefore = servers.map((s) => cpuMicros(s.pid));
    const started = performance.now();
    for (const child of children) {
      child.stdin.write("go\n");
      child.stdin.flush();
    }
    const results = await Promise.all(readers.map(async (r) => JSON.parse((await r.next()).value as string) as { appends: number; ms: number; cpuUs: number }));
    const wall = performance.now() - started;
    const redisUs = servers.map((s, i) => cpuMicros(s.pid) - redisBefore[i]);
    await Promise.all(children.map((c) => c.exited));
    const total = results.reduce((s, r) => s + r.appends, 0);
    const bunUs = results.reduce((s, r) => s + r.cpuUs, 0);
    const perNode = redisUs.map((us) => (us / total).toFixed(1)).join(" + ");
    const redisTotal = redisUs.reduce((a, b) => a + b, 0);
    console.log(
      `${primaries ? `cluster of ${primaries}` : "one redis-server"}, aof ${aof}, ${workers} worker(s), ${total} appends, window ${window}: ` +
        `${Math.round(total / (wall / 1000))} appends/s; Bun ${(bunUs / total).toFixed(1)} µs/append; ` +
        `redis ${(redisTotal / total).toFixed(1)} µs/append (${perNode}); busiest redis-server ${Math.round(Math.max(...redisUs) / (wall * 10))}% of a core; ` +
        `redis ceiling ≈ ${Math.round(1e6 / (Math.max(...redisUs) / total))} appends/s (the busiest redis-server at a full core, at this cost)`,
    );
  } finally {
    for (const s of servers) s.kill("SIGKILL");
    await Promise.all(servers.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

async function* lines(stream: ReadableStream<Uint8Array>) {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
      yield buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
    }
  }
}
