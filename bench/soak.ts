#!/usr/bin/env bun
/**
 * Soak run (issue 9; not a test, not in CI): N minutes of mixed traffic against a fresh
 * server, with connects, clean and abrupt disconnects, reconnects with `since`, messages
 * with client_msg_id, history, pings, display names, sign-ins and logouts. Every 10 s it
 * samples the server's RSS and open file descriptors; at the end it checks every
 * channel is gapless and holds every acked message, then writes
 * bench/results/soak-<date>.jsonl and bench/results/soak-latest.md.
 *
 *   bun bench/soak.ts [--minutes 30] [--users 20] [--conns 3] [--rate 2] [--sample 10]
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { signIn, startServer, type TestServer } from "../test/helpers/server";
import { WsClient } from "../test/helpers/ws-client";
import { rssKiB } from "./lib/procstat";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const MINUTES = flag("minutes", 30);
const USERS = flag("users", 20);
const CONNS = flag("conns", 3);
const RATE = flag("rate", 2); // messages per second per connection
const SAMPLE_S = flag("sample", 10);
const RESULTS = resolve(import.meta.dir, "results");

interface Sample {
  t_s: number;
  rss_kib: number;
  fds: number;
  /** The SQLite WAL file's size: checkpoints run on a worker, so it must stay bounded too. */
  wal_kib: number;
  connections_open: number;
  acked: number;
  sent: number;
  reconnects: number;
  errors: number;
}

function fileKiB(path: string): number {
  return existsSync(path) ? Math.round(statSync(path).size / 1024) : 0;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function metric(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(server.metricsUrl)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(/\s+/).pop()) : NaN;
}

/** Deterministic PRNG so runs are comparable. */
let seed = 0x50a4;
function rand(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const stats = { sent: 0, acked: 0, reconnects: 0, errors: 0, unexpected: [] as string[], closeCodes: {} as Record<string, number> };

/** One simulated device: connects, sends, sometimes drops (cleanly or not) and comes back with since. */
class Device {
  ws: WsClient | null = null;
  lastSeq = 0;
  unacked = new Map<string, string>();
  acked = new Map<string, number>();
  private n = 0;
  constructor(
    readonly server: TestServer,
    readonly jwt: string,
    readonly name: string,
  ) {}

  async run(until: number) {
    while (Date.now() < until) {
      try {
        const ws = await WsClient.connect(this.server.wsUrl, { jwt: this.jwt, since: this.lastSeq, timeoutMs: 5000 });
        this.ws = ws;
        const replay = ws.replay?.data.messages ?? [];
        for (const m of replay) this.lastSeq = Math.max(this.lastSeq, m.seq);
        // Stay connected for a random while, sending at RATE.
        const stayUntil = Math.min(until, Date.now() + 5000 + rand() * 55000);
        for (const [id, content] of [...this.unacked]) this.send(ws, id, content);
        while (Date.now() < stayUntil && ws.isOpen) {
          await Bun.sleep((1000 / RATE) * (0.5 + rand()));
          const r = rand();
          if (r < 0.85) this.send(ws, `${this.name}-${++this.n}`, `${this.name} says ${this.n} ${"·".repeat(this.n % 50)}`);
          else if (r < 0.93) void ws.request("history", { limit: 1 + Math.floor(rand() * 200) }, { timeoutMs: 10000 }).catch(() => {});
          else if (r < 0.97) void ws.request("ping", {}, { timeoutMs: 10000 }).catch(() => {});
          else void ws.request("set_display_name", { display_name: rand() < 0.3 ? null : `dev ${this.name} ${this.n}` }, { timeoutMs: 10000 }).catch(() => {});
          for (const f of ws.frames.splice(0, ws.frames.length)) this.look(f);
        }
        for (const f of ws.frames.splice(0)) this.look(f);
        if (ws.isOpen) {
          if (rand() < 0.3) (ws.ws as any).terminate?.() ?? ws.close();
          else ws.close();
          await Promise.race([ws.closed, Bun.sleep(3000)]);
        }
        const code = String(ws.closeInfo?.code ?? "none");
        stats.closeCodes[code] = (stats.closeCodes[code] ?? 0) + 1;
        stats.reconnects++;
        await Bun.sleep(100 + rand() * 2000);
      } catch (error) {
        stats.errors++;
        if (stats.unexpected.length < 20) stats.unexpected.push(`${this.name} connect: ${error}`);
        await Bun.sleep(1000);
      }
    }
  }

  private look(frame: any) {
    if (frame.type === "message") this.lastSeq = Math.max(this.lastSeq, frame.data.seq);
    if (frame.type === "error" && frame.data?.code !== "rate_limited") {
      stats.errors++;
      if (stats.unexpected.length < 20) stats.unexpected.push(`${this.name}: ${JSON.stringify(frame).slice(0, 200)}`);
    }
  }

  private send(ws: WsClient, id: string, content: string) {
    this.unacked.set(id, content);
    stats.sent++;
    ws.request("message", { content, client_msg_id: id }, { timeoutMs: 15000 })
      .then((reply) => {
        if (reply.type === "ack") {
          if (!this.acked.has(id)) stats.acked++;
          this.acked.set(id, reply.data.seq);
          this.unacked.delete(id);
        }
      })
      .catch(() => {});
  }
}

/** Now and then: a sign-in through the magic link, /auth/me, /metrics, a logout. */
async function httpChurn(server: TestServer, emails: string[], until: number) {
  while (Date.now() < until) {
    await Bun.sleep(5000 + rand() * 10000);
    try {
      const email = emails[Math.floor(rand() * emails.length)];
      const jwt = await signIn(server, email);
      await fetch(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${jwt}` } });
      const ws = await WsClient.connect(server.wsUrl, { jwt });
      await ws.request("ping", {});
      await fetch(`${server.url}/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${jwt}` } });
      await Promise.race([ws.closed, Bun.sleep(3000)]);
      await fetch(server.metricsUrl);
      await fetch(`${server.url}/auth/request-magic-link`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"email":"stranger@example.org"}' });
    } catch (error) {
      stats.errors++;
      if (stats.unexpected.length < 20) stats.unexpected.push(`http churn: ${error}`);
    }
  }
}

async function fullHistory(server: TestServer, jwt: string): Promise<any[]> {
  const ws = await WsClient.connect(server.wsUrl, { jwt });
  const out: any[] = [];
  let before: number | undefined;
  for (;;) {
    const reply = await ws.request("history", before === undefined ? { limit: 200 } : { before, limit: 200 }, { timeoutMs: 30000 });
    out.unshift(...reply.data.messages);
    if (!reply.data.has_more) break;
    before = reply.data.messages[0].seq;
  }
  ws.close();
  return out;
}

async function main() {
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(RESULTS, { recursive: true });
  const jsonl = join(RESULTS, `soak-${date}.jsonl`);
  const emails = Array.from({ length: USERS }, (_, i) => `soak${i + 1}@example.com`);
  const server = await startServer({
    env: {
      ALLOWED_EMAILS: emails.join(","),
      MAGIC_LINK_RATE_LIMIT: "100000",
      MAGIC_LINK_IP_RATE_LIMIT: "1000000",
      MESSAGE_RATE_LIMIT: "1000",
      JWT_SECRET_KEY: "soak-secret-key-0123456789abcdefghijklmnop",
    },
  });
  const pid = server.proc.pid;
  console.log(`soak: ${MINUTES} min, ${USERS} users × ${CONNS} devices, ${RATE} msg/s each; server pid ${pid} on ${server.url}`);
  const jwts = await Promise.all(emails.map((e) => signIn(server, e)));
  const started = Date.now();
  const until = started + MINUTES * 60_000;
  const devices = emails.flatMap((_, u) => Array.from({ length: CONNS }, (_, c) => new Device(server, jwts[u], `u${u + 1}d${c + 1}`)));

  const samples: Sample[] = [];
  const sample = async () => {
    const s: Sample = {
      t_s: Math.round((Date.now() - started) / 1000),
      rss_kib: rssKiB(pid),
      fds: fdCount(pid),
      wal_kib: fileKiB(join(server.dataDir, "roomz.sqlite-wal")),
      connections_open: await metric(server, "roomz_connections_open").catch(() => NaN),
      acked: stats.acked,
      sent: stats.sent,
      reconnects: stats.reconnects,
      errors: stats.errors,
    };
    samples.push(s);
    appendFileSync(jsonl, JSON.stringify({ run: new Date(started).toISOString(), ...s }) + "\n");
    console.log(`t=${s.t_s}s rss=${(s.rss_kib / 1024).toFixed(1)}MB fds=${s.fds} wal=${s.wal_kib}KiB open=${s.connections_open} acked=${s.acked}/${s.sent} reconnects=${s.reconnects} errors=${s.errors}`);
  };
  await sample();
  const sampler = setInterval(() => void sample(), SAMPLE_S * 1000);
  await Promise.all([...devices.map((d) => d.run(until)), httpChurn(server, emails, until)]);
  clearInterval(sampler);
  // Let everything settle, then the last sample with everyone gone.
  await Bun.sleep(3000);
  await sample();

  // Correctness: every channel gapless, every acked message stored with its acked seq.
  const problems: string[] = [];
  let stored = 0;
  for (let u = 0; u < USERS; u++) {
    const history = await fullHistory(server, jwts[u]);
    stored += history.length;
    history.forEach((m, i) => {
      if (m.seq !== i + 1 && problems.length < 20) problems.push(`${emails[u]}: seq ${m.seq} at position ${i + 1}`);
    });
    const bySeq = new Map(history.map((m) => [m.client_msg_id, m.seq]));
    for (const d of devices.slice(u * CONNS, (u + 1) * CONNS))
      for (const [id, seq] of d.acked) if (bySeq.get(id) !== seq && problems.length < 20) problems.push(`${id}: acked seq ${seq}, stored ${bySeq.get(id)}`);
  }
  const peak = samples.reduce((a, s) => (s.rss_kib > a.rss_kib ? s : a), samples[0]);
  const peakFds = Math.max(...samples.map((s) => s.fds));
  const first = samples[0];
  const warm = samples[Math.min(samples.length - 1, Math.max(1, Math.round(samples.length * 0.1)))];
  const middle = samples[Math.floor(samples.length / 2)];
  const loaded = samples.filter((s) => s.t_s <= MINUTES * 60);
  const end = loaded[loaded.length - 1] ?? samples[samples.length - 1]; // the last sample under load
  const idle = samples[samples.length - 1];
  const mb = (kib: number) => (kib / 1024).toFixed(1);
  const row = (label: string, s: Sample) => `| ${label} | ${s.t_s} | ${mb(s.rss_kib)} | ${s.fds} | ${s.connections_open} | ${s.acked} |`;
  const md = `# Soak run ${new Date(started).toISOString()}

\`bun bench/soak.ts --minutes ${MINUTES} --users ${USERS} --conns ${CONNS} --rate ${RATE}\` against a fresh server
(embedded engine), ${USERS * CONNS} devices reconnecting every 5–60 s (30% abrupt), messages with
client_msg_id at ${RATE}/s per device, history/ping/display-name requests, a magic-link sign-in + logout every 5–15 s.
Samples every ${SAMPLE_S} s: \`bench/results/soak-${date}.jsonl\`.

| point | t (s) | RSS (MB) | open fds | connections | acked |
|---|---|---|---|---|---|
${row("start", first)}
${row("after warm-up (10%)", warm)}
${row("middle", middle)}
${row("end (under load)", end)}
${row("after clients left", idle)}

- RSS growth start → end: ${mb(end.rss_kib - first.rss_kib)} MB; after warm-up → end: ${mb(end.rss_kib - warm.rss_kib)} MB; peak ${mb(peak.rss_kib)} MB at ${peak.t_s} s.
- Open fds: start ${first.fds}, end ${end.fds}, after clients left ${idle.fds}, peak ${peakFds}.
- WAL file: at most ${Math.max(...samples.map((s) => s.wal_kib))} KiB, ${end.wal_kib} KiB at the end under load.
- Messages: ${stats.sent} sent (incl. resends), ${stats.acked} acked, ${stored} stored (the difference: sent just before a drop or the end, stored but the ack lost; never resent after the end); ${stats.reconnects} reconnects; close codes ${JSON.stringify(stats.closeCodes)}.
- Errors (connect failures, error frames other than rate_limited): ${stats.errors}${stats.unexpected.length ? `\n  - ${stats.unexpected.slice(0, 10).join("\n  - ")}` : ""}
- Channel checks (gapless, every ack stored with its seq): ${problems.length === 0 ? "all passed" : `FAILED\n  - ${problems.join("\n  - ")}`}
`;
  writeFileSync(join(RESULTS, "soak-latest.md"), md);
  console.log(md);
  await server.stop("SIGTERM");
  process.exit(problems.length === 0 ? 0 : 1);
}

await main();
