/**
 * Starts the servers under test, each pinned to core 0 (`taskset -c 0`): Roomz
 * (`bun src/main.ts serve` on a fresh data directory), the raw Bun baseline, the Socket.IO
 * baseline on Node.js, and optionally two Roomz instances sharing a Redis.
 */
import { mkdtempSync, writeFileSync, appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import type { Kind } from "../gen/conn";
import { benchEmail, randomSecret } from "./jwt";

export const ROOT = resolve(import.meta.dir, "../..");
export const BENCH = resolve(import.meta.dir, "..");
export type TargetName = "roomz" | "bun" | "socketio" | "roomz-redis" | "roomz-cluster";
export const SERVER_CORE = "0";
export const GEN_CORE = "1";
/** The machine is shared (other sessions run browsers and tests, and the kernel splits CPU
 * fairly between sessions' autogroups): every bench process runs in a session of its own
 * (setsid) whose autogroup gets a higher weight, so their load disturbs the numbers less.
 * What remains is measured from /proc/stat and reported as foreign load. */
export const PIN = (core: string) => ["setsid", "taskset", "-c", core];
export const AUTOGROUP_NICE = "-10";
/** Raises the weight of `pid`'s autogroup once `setsid` has given it a session (hence an
 * autogroup) of its own; before that the write would hit the runner's group. */
export async function prioritize(pid: number) {
  for (let i = 0; i < 100; i++) {
    try {
      const group = readFileSync(`/proc/${pid}/autogroup`, "utf8").split(" ")[0];
      if (group !== readFileSync("/proc/self/autogroup", "utf8").split(" ")[0]) {
        writeFileSync(`/proc/${pid}/autogroup`, AUTOGROUP_NICE);
        return readFileSync(`/proc/${pid}/autogroup`, "utf8").includes(`nice ${AUTOGROUP_NICE}`);
      }
    } catch {
      return false;
    }
    await Bun.sleep(10);
  }
  return false;
}
const BENCH_USERS = 5000;

// Below 22768, so that a cluster node's bus port (its port + 10000) stays under the
// ephemeral range (32768 and up), where the generator's 4,000 client sockets would
// take it (the cluster target failed to start in a full run: "bind: Address already in use").
let nextPort = 16000 + Math.floor(Math.random() * 500) * 10;
const freshPort = () => (nextPort += 3);

interface Proc {
  p: Subprocess;
  argv: string[];
  env: Record<string, string>;
  log: string;
  port: number;
}

export class Target {
  procs: Proc[] = [];
  secret = randomSecret(48);
  dataDirs: string[] = [];
  urls: string[] = [];
  constructor(public name: TargetName, public kind: Kind, public logDir: string) {}

  /** The processes whose CPU and memory count: the server, or both instances and Redis. */
  pids(): number[] {
    return this.procs.map((x) => x.p.pid);
  }

  async spawn(argv: string[], env: Record<string, string>, port: number, healthPath: string | null) {
    const log = join(this.logDir, `${this.name}-${port}.log`);
    const p = Bun.spawn([...PIN(SERVER_CORE), ...argv], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdin: "ignore",
      stdout: Bun.file(log),
      stderr: Bun.file(log + ".err"),
    });
    await prioritize(p.pid);
    const proc = { p, argv, env, log, port };
    this.procs.push(proc);
    if (healthPath) await waitHealthy(proc, `http://127.0.0.1:${port}${healthPath}`);
    return proc;
  }

  /** SIGTERM (then SIGKILL after `graceMs`) every process; resolves when all exited. */
  async stop(graceMs = 15000) {
    await Promise.all(this.procs.map((x) => stopProc(x, graceMs)));
  }

  /** Stops instance `i` with SIGTERM and starts it again with the same command and data. */
  async restartInstance(i = 0) {
    const old = this.procs[i];
    const t = { signalAt: Date.now(), exitedAt: 0, spawnedAt: 0, readyAt: 0 };
    await stopProc(old, 15000);
    t.exitedAt = Date.now();
    const p = Bun.spawn([...PIN(SERVER_CORE), ...old.argv], {
      cwd: ROOT,
      env: { ...process.env, ...old.env },
      stdin: "ignore",
      stdout: Bun.file(old.log + ".2"),
      stderr: Bun.file(old.log + ".2.err"),
    });
    t.spawnedAt = Date.now();
    await prioritize(p.pid);
    this.procs[i] = { ...old, p };
    await waitHealthy(this.procs[i], `http://127.0.0.1:${old.port}/healthz`, 30000, 10);
    t.readyAt = Date.now();
    return t;
  }
}

async function stopProc(x: Proc, graceMs: number) {
  if (x.p.exitCode !== null || x.p.signalCode !== null) return;
  x.p.kill("SIGTERM");
  const timer = setTimeout(() => x.p.kill("SIGKILL"), graceMs);
  await x.p.exited;
  clearTimeout(timer);
}

async function waitHealthy(x: Proc, url: string, timeoutMs = 30000, pollMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (x.p.exitCode !== null) throw new Error(`${x.argv.join(" ")} exited ${x.p.exitCode}; see ${x.log}.err`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {}
    await Bun.sleep(pollMs);
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms`);
}

function allowListFile(dir: string): string {
  const file = join(dir, "allowed-emails.txt");
  writeFileSync(file, Array.from({ length: BENCH_USERS }, (_, i) => benchEmail(i + 1)).join("\n") + "\n");
  return file;
}

export function roomzEnv(t: Target, port: number, dataDir: string, extra: Record<string, string> = {}) {
  return {
    PORT: String(port),
    HOST: "127.0.0.1",
    ROOMZ_DATA_DIR: dataDir,
    JWT_SECRET_KEY: t.secret,
    ALLOWED_EMAILS_FILE: allowListFile(dataDir),
    ALLOWED_EMAILS: "",
    MESSAGE_RATE_LIMIT: "10000", // 1,000 msg/s per connection; the bench needs at most 320 (64,000 msg/s over 200 senders)
    MAX_CONNECTIONS_PER_USER: "6000", // S7 opens 5,000 event streams with one token
    ...extra,
  };
}

export async function startTarget(name: TargetName, logDir: string, opts: { dataDir?: string; secret?: string } = {}): Promise<Target> {
  if (!existsSync(logDir)) mkdirSync(logDir, { recursive: true });
  if (name === "bun") {
    const t = new Target(name, "bun", logDir);
    const port = freshPort();
    await t.spawn([process.execPath, ...preloadArgs(), join(BENCH, "baseline-bun.ts")], { PORT: String(port), HOST: "127.0.0.1" }, port, "/healthz");
    t.urls = [`ws://127.0.0.1:${port}/ws`];
    return t;
  }
  if (name === "socketio") {
    const t = new Target(name, "socketio", logDir);
    const port = freshPort();
    await t.spawn(["node", "--expose-gc", await buildSocketIo()], { PORT: String(port), HOST: "127.0.0.1" }, port, "/healthz");
    t.urls = [`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`];
    return t;
  }
  const t = new Target(name, "roomz", logDir);
  if (opts.secret) t.secret = opts.secret;
  if (name === "roomz") {
    const port = freshPort();
    const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "roomz-bench-"));
    t.dataDirs = [dir];
    await t.spawn([process.execPath, ...profileArgs(), join(ROOT, "src/main.ts"), "serve"], roomzEnv(t, port, dir), port, "/healthz");
    t.urls = [`ws://127.0.0.1:${port}/ws`];
    return t;
  }
  // roomz-redis: a Redis plus two Roomz instances; connection slot i goes to instance i % 2.
  // roomz-cluster: the same on a Redis Cluster of three primaries.
  const redisUrl = name === "roomz-cluster" ? await startCluster(t, 3) : await startRedis(t);
  for (let i = 0; i < 2; i++) {
    const port = freshPort();
    const dir = mkdtempSync(join(tmpdir(), "roomz-bench-"));
    t.dataDirs.push(dir);
    const env = roomzEnv(t, port, dir, { REDIS_URL: redisUrl });
    await t.spawn([process.execPath, join(ROOT, "src/main.ts"), "serve"], env, port, "/healthz");
    t.urls.push(`ws://127.0.0.1:${port}/ws`);
  }
  return t;
}

const REDIS_ARGS = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];

async function startRedis(t: Target): Promise<string> {
  const port = freshPort();
  await t.spawn(["redis-server", "--port", String(port), ...REDIS_ARGS], {}, port, null);
  await Bun.sleep(300);
  return `redis://127.0.0.1:${port}`;
}

/** `primaries` redis-servers joined by `redis-cli --cluster create`, ready once each says cluster_state:ok. */
async function startCluster(t: Target, primaries: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "roomz-bench-cluster-"));
  const ports = Array.from({ length: primaries }, () => freshPort());
  for (const port of ports)
    await t.spawn(["redis-server", "--port", String(port), ...REDIS_ARGS, "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--dir", dir], {}, port, null);
  await Bun.sleep(300);
  const create = Bun.spawnSync(["redis-cli", "--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"]);
  if (create.exitCode !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
  for (const port of ports)
    while (!Bun.spawnSync(["redis-cli", "-p", String(port), "CLUSTER", "INFO"]).stdout.toString().includes("cluster_state:ok")) await Bun.sleep(50);
  return `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`;
}

/**
 * Preloads of every Bun server of the bench: a full GC on SIGUSR2 (S2 reads RSS after one
 * too), then the experiment in BENCH_PRELOAD, if any.
 */
function preloadArgs(): string[] {
  const gcOnSignal = ["--preload", join(BENCH, "probe", "gc-on-signal.ts")];
  return process.env.BENCH_PRELOAD ? [...gcOnSignal, "--preload", process.env.BENCH_PRELOAD] : gcOnSignal;
}

/** With BENCH_PROFILE=1 (`bun bench/run.ts --profile`), Roomz also writes a CPU profile on exit. */
function profileArgs(): string[] {
  const preload = preloadArgs();
  if (!process.env.BENCH_PROFILE) return preload;
  const dir = join(BENCH, "results", "profiles");
  mkdirSync(dir, { recursive: true });
  return [...preload, "--cpu-prof", `--cpu-prof-dir=${dir}`];
}

let socketIoBuild: string | null = null;
async function buildSocketIo(): Promise<string> {
  if (socketIoBuild) return socketIoBuild;
  const out = join(BENCH, ".build", "baseline-socketio.mjs");
  const r = Bun.spawnSync([process.execPath, "build", join(BENCH, "baseline-socketio.ts"), "--target=node", "--packages=external", "--outfile", out], { cwd: ROOT });
  if (r.exitCode !== 0) throw new Error(`bun build baseline-socketio failed: ${r.stderr.toString()}`);
  return (socketIoBuild = out);
}

export function note(logDir: string, line: string) {
  appendFileSync(join(logDir, "run.log"), `${new Date().toISOString()} ${line}\n`);
}
