/**
 * A real Redis Cluster for tests: three (or more) redis-server processes with
 * `--cluster-enabled yes`, each on its own free port with its nodes file in a temporary
 * directory, joined by `redis-cli --cluster create` (primaries only), and ready once
 * every node reports `cluster_state:ok`. Every process is killed when the test process exits.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisClient, spawn, type Subprocess } from "bun";
import { freePort } from "./server";
import { GiveUp, until } from "./wait";

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? "redis-server";
const running = new Set<Subprocess>();
process.on("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

export class ClusterNode {
  proc: Subprocess<"ignore", "pipe", "pipe"> | null = null;
  output = "";

  /** `persistent`: an AOF fsynced on every write, so a restarted node has its data back. */
  constructor(readonly port: number, private dir: string, private persistent = false) {}

  get running() {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts (or starts again, with the same nodes file: the node rejoins its cluster). */
  async start(): Promise<void> {
    const proc = spawn(
      [REDIS_SERVER, "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--daemonize", "no",
        ...(this.persistent ? ["--appendonly", "yes", "--appendfsync", "always", "--appenddirname", `aof-${this.port}`] : ["--appendonly", "no"]),
        "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${this.port}.conf`, "--dir", this.dir],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    this.proc = proc;
    running.add(proc);
    void proc.exited.then(() => running.delete(proc));
    for (const stream of [proc.stdout, proc.stderr]) void (async () => {
      for await (const chunk of stream) this.output += new TextDecoder().decode(chunk);
    })();
    const pong = async () => {
      if (!this.running) throw new GiveUp(`redis-server exited:\n${this.output}`);
      return (await this.command("PING").catch(() => null)) === "PONG";
    };
    await until(pong, `redis-server on ${this.port} to answer PING`, { timeoutMs: 10_000, everyMs: 30 });
  }

  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    if (!this.proc) return;
    if (this.running) this.proc.kill(signal);
    await this.proc.exited;
  }

  /** A one-off command on this node (not redirected). */
  async command(command: string, args: string[] = []): Promise<unknown> {
    const client = new RedisClient(`redis://127.0.0.1:${this.port}`, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 500 });
    try {
      await client.connect();
      return await client.send(command, args);
    } finally {
      client.close();
    }
  }
}

export class RedisCluster {
  constructor(readonly nodes: ClusterNode[], private dir: string) {}

  /** REDIS_URL for Roomz: every node as a seed. */
  get url(): string {
    return `redis+cluster://${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(",")}`;
  }

  /** The same command on every node (FLUSHALL, DBSIZE, ...). */
  everywhere(command: string, args: string[] = []): Promise<unknown[]> {
    return Promise.all(this.nodes.map((n) => n.command(command, args)));
  }

  /** The node that owns `key`'s slot. */
  async ownerOf(key: string): Promise<ClusterNode> {
    const slot = Number(await this.nodes[0].command("CLUSTER", ["KEYSLOT", key]));
    const ranges = (await this.nodes[0].command("CLUSTER", ["SLOTS"])) as Array<[number, number, [string, number, ...unknown[]]]>;
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    const node = this.nodes.find((n) => n.port === Number(range?.[2][1]));
    if (!node) throw new Error(`no node owns slot ${slot}`);
    return node;
  }

  /** Resolves once every running node reports `cluster_state:ok`. */
  async ready(timeoutMs = 15_000): Promise<void> {
    const ok = async () => (await Promise.all(this.nodes.map((n) => n.command("CLUSTER", ["INFO"]).catch(() => "")))).every((info) => String(info).includes("cluster_state:ok"));
    await until(ok, "cluster_state:ok on every node", { timeoutMs, everyMs: 30 });
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A free port whose cluster bus port (10000 higher, which Redis requires to be free and at most 65535) is free too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port > 55535) continue;
    try {
      Bun.serve({ port: port + 10000, hostname: "127.0.0.1", fetch: () => new Response() }).stop(true);
      return port;
    } catch {
      // The bus port is taken: try another.
    }
  }
}

export async function startRedisCluster(size = 3, options: { persistent?: boolean } = {}): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "roomz-cluster-"));
  const nodes: ClusterNode[] = [];
  const cluster = new RedisCluster(nodes, dir);
  try {
    for (let i = 0; i < size; i++) {
      const node = new ClusterNode(await freeClusterPort(), dir, options.persistent);
      await node.start();
      nodes.push(node);
    }
    const create = spawn(["redis-cli", "--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", "0", "--cluster-yes"], { stdout: "pipe", stderr: "pipe" });
    if ((await create.exited) !== 0) throw new Error(`redis-cli --cluster create failed:\n${await new Response(create.stdout).text()}${await new Response(create.stderr).text()}`);
    await cluster.ready();
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
