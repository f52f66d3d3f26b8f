/**
 * The shipped proxy configurations (deploy/) run for real: nginx, HAProxy and Caddy, each
 * started from the file in deploy/ with only its listen addresses, upstream ports and
 * file paths replaced (every replacement must find its text, so a changed file fails
 * here instead of being tested half-replaced), on free loopback ports, writing only to a
 * temporary directory. Plus a chat client that reconnects like the real one (with
 * `since` = last seq, re-sending unacknowledged messages with their client_msg_id) and
 * records when it dropped and when it was back.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort, ROOT } from "../helpers/server";
import { GiveUp, until, Wakeup } from "../helpers/wait";

export const DEPLOY = join(ROOT, "deploy");

const running = new Set<Subprocess>();
process.on("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

/** A binary on PATH or in the sbin directories (nginx and haproxy live in /usr/sbin). */
export function findBinary(name: string): string | null {
  const path = [process.env.PATH ?? "", "/usr/local/sbin", "/usr/sbin", "/sbin"].join(":");
  return Bun.which(name, { PATH: path });
}

/** Replaces each `from` (which must occur) with `to`; throws naming what was not found. */
export function substitute(text: string, file: string, pairs: Array<[string | RegExp, string]>): string {
  for (const [from, to] of pairs) {
    const found = typeof from === "string" ? text.includes(from) : from.test(text);
    if (!found) throw new Error(`${file} no longer contains ${String(from)}: update test/deploy/support.ts with it`);
    text = typeof from === "string" ? text.split(from).join(to) : text.replace(from, to);
  }
  return text;
}

export interface Cert {
  cert: string;
  key: string;
  /** cert and key in one file (HAProxy's crt). */
  pem: string;
  ca: string;
}

/** A self-signed certificate for 127.0.0.1. */
export function makeCert(dir: string): Cert {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const made = Bun.spawnSync(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (made.exitCode !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
  const pem = join(dir, "combined.pem");
  writeFileSync(pem, readFileSync(cert, "utf8") + readFileSync(key, "utf8"));
  return { cert, key, pem, ca: readFileSync(cert, "utf8") };
}

export interface Proxy {
  name: string;
  /** Where clients go (https:// for nginx and HAProxy, http:// for Caddy). */
  origin: string;
  /** The plain-HTTP port that redirects to https (nginx, HAProxy). */
  redirectOrigin: string | null;
  tls: { ca: string } | null;
  /** The access log as written so far. */
  accessLog(): string;
  /** Everything the process printed. */
  output(): string;
  stop(): Promise<void>;
}

class ProxyProcess {
  out = "";
  constructor(readonly proc: Subprocess<"ignore", "pipe", "pipe">) {
    running.add(proc);
    void proc.exited.then(() => running.delete(proc));
    void this.pump(proc.stdout);
    void this.pump(proc.stderr);
  }
  private async pump(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.out += decoder.decode(chunk, { stream: true });
  }
  async stop() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGTERM");
    const done = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
    if (!done) this.proc.kill("SIGKILL"), await this.proc.exited;
  }
}

/** Waits until the proxy answers /healthz with 200 (both ways through it work). */
async function waitUntilServing(name: string, origin: string, tls: { ca: string } | null, proc: ProxyProcess) {
  const serving = async () => {
    if (proc.proc.exitCode !== null || proc.proc.signalCode !== null) throw new GiveUp(`${name} exited ${proc.proc.exitCode ?? proc.proc.signalCode}:\n${proc.out}`);
    return (await fetch(`${origin}/healthz`, tls ? ({ tls } as any) : {}).catch(() => null))?.status === 200;
  };
  await until(serving, () => `${name} serving ${origin}/healthz:\n${proc.out}`, { timeoutMs: 15_000, everyMs: 100 });
}

function readOr(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

function spawn(cmd: string[], env?: Record<string, string>): ProxyProcess {
  return new ProxyProcess(Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: env ? { ...process.env, ...env } : undefined }));
}

/**
 * deploy/nginx.conf as a site file, inside a minimal main configuration (as Debian's
 * nginx.conf includes it inside `http {}`), everything under `dir`.
 */
export async function startNginx(bin: string, dir: string, upstreams: [number, number], ports: { https: number; http: number }, cert: Cert): Promise<Proxy> {
  const file = "deploy/nginx.conf";
  const log = join(dir, "roomz.access.log");
  const site = substitute(readFileSync(join(DEPLOY, "nginx.conf"), "utf8"), file, [
    ["    server 127.0.0.1:8001 ", `    server 127.0.0.1:${upstreams[0]} `],
    ["    server 127.0.0.1:8002 ", `    server 127.0.0.1:${upstreams[1]} `],
    ["    listen 80;\n", `    listen 127.0.0.1:${ports.http};\n`],
    ["    listen [::]:80;\n", ""],
    ["    listen 443 ssl http2;\n", `    listen 127.0.0.1:${ports.https} ssl http2;\n`],
    ["    listen [::]:443 ssl http2;\n", ""],
    ["/etc/letsencrypt/live/chat.example.com/fullchain.pem", cert.cert],
    ["/etc/letsencrypt/live/chat.example.com/privkey.pem", cert.key],
    ["/var/log/nginx/roomz.access.log", log],
  ]);
  writeFileSync(join(dir, "roomz.conf"), site);
  for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, sub), { recursive: true });
  // Workers run as nobody when the master is root: let them into the directory.
  chmodSync(dir, 0o755);
  writeFileSync(
    join(dir, "main.conf"),
    `pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;
worker_processes auto;
events { worker_connections 1024; }
http {
    access_log ${dir}/other.access.log;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${dir}/roomz.conf;
}
`,
  );
  const base = [bin, "-p", dir, "-c", join(dir, "main.conf"), "-e", join(dir, "error.log")];
  const check = Bun.spawnSync([...base, "-t"], { stdout: "pipe", stderr: "pipe" });
  if (check.exitCode !== 0) throw new Error(`nginx -t failed:\n${check.stderr.toString()}`);
  const proc = spawn([...base, "-g", "daemon off;"]);
  const tls = { ca: cert.ca };
  const origin = `https://127.0.0.1:${ports.https}`;
  await waitUntilServing("nginx", origin, tls, proc);
  return {
    name: "nginx",
    origin,
    redirectOrigin: `http://127.0.0.1:${ports.http}`,
    tls,
    accessLog: () => readOr(log),
    output: () => proc.out + readOr(join(dir, "error.log")),
    stop: () => proc.stop(),
  };
}

/** deploy/haproxy.cfg, logging to its standard output instead of syslog. */
export async function startHaproxy(bin: string, dir: string, upstreams: [number, number], ports: { https: number; http: number }, cert: Cert): Promise<Proxy> {
  const file = "deploy/haproxy.cfg";
  const pairs: Array<[string | RegExp, string]> = [
    ["    log /dev/log local0\n", "    log stdout format raw local0\n"],
    ["stats socket /run/haproxy/admin.sock", `stats socket ${dir}/admin.sock`],
    ["    bind :80\n", `    bind 127.0.0.1:${ports.http}\n`],
    ["    bind :::80 v6only\n", ""],
    ["    bind :443 ssl crt /etc/haproxy/certs/chat.example.com.pem", `    bind 127.0.0.1:${ports.https} ssl crt ${cert.pem}`],
    [/    bind :::443 v6only ssl crt \S+ alpn h2,http\/1\.1\n/, ""],
    ["server roomz1 127.0.0.1:8001", `server roomz1 127.0.0.1:${upstreams[0]}`],
    ["server roomz2 127.0.0.1:8002", `server roomz2 127.0.0.1:${upstreams[1]}`],
  ];
  // Dropping privileges (chroot, user, group) needs root and Debian's haproxy user;
  // without root, HAProxy runs as the test's user.
  if (process.getuid?.() !== 0 || !existsSync("/var/lib/haproxy")) {
    pairs.push(["    chroot /var/lib/haproxy\n", ""], ["    user haproxy\n", ""], ["    group haproxy\n", ""]);
  }
  const cfg = substitute(readFileSync(join(DEPLOY, "haproxy.cfg"), "utf8"), file, pairs);
  const path = join(dir, "haproxy.cfg");
  writeFileSync(path, cfg);
  const check = Bun.spawnSync([bin, "-c", "-f", path], { stdout: "pipe", stderr: "pipe" });
  if (check.exitCode !== 0) throw new Error(`haproxy -c failed:\n${check.stdout.toString()}${check.stderr.toString()}`);
  const proc = spawn([bin, "-f", path, "-db"]);
  const tls = { ca: cert.ca };
  const origin = `https://127.0.0.1:${ports.https}`;
  await waitUntilServing("haproxy", origin, tls, proc);
  return {
    name: "haproxy",
    origin,
    redirectOrigin: `http://127.0.0.1:${ports.http}`,
    tls,
    // With "log stdout format raw", the access log is the process's standard output.
    accessLog: () => proc.out,
    output: () => proc.out,
    stop: () => proc.stop(),
  };
}

/**
 * deploy/Caddyfile with the site address replaced by a plain-HTTP loopback one (the
 * certificate of a real name can't be had here), below global options that keep Caddy
 * off its admin port, off ACME and on loopback; HOME and XDG directories in `dir`.
 */
export async function startCaddy(bin: string, dir: string, upstreams: [number, number], port: number): Promise<Proxy> {
  const file = "deploy/Caddyfile";
  const log = join(dir, "roomz.access.log");
  const site = substitute(readFileSync(join(DEPLOY, "Caddyfile"), "utf8"), file, [
    ["\nchat.example.com {\n", `\nhttp://127.0.0.1:${port} {\n`],
    ["/var/log/caddy/roomz.access.log", log],
    ["reverse_proxy 127.0.0.1:8001 127.0.0.1:8002 {", `reverse_proxy 127.0.0.1:${upstreams[0]} 127.0.0.1:${upstreams[1]} {`],
  ]);
  const path = join(dir, "Caddyfile");
  writeFileSync(path, `{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n}\n\n${site}`);
  const env = { HOME: dir, XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") };
  const proc = spawn([bin, "run", "--config", path, "--adapter", "caddyfile"], env);
  const origin = `http://127.0.0.1:${port}`;
  await waitUntilServing("caddy", origin, null, proc);
  return {
    name: "caddy",
    origin,
    redirectOrigin: null,
    tls: null,
    accessLog: () => readOr(log),
    output: () => proc.out,
    stop: () => proc.stop(),
  };
}

export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

// ---------------------------------------------------------------------------------------

export interface Message {
  seq: number;
  content: string;
  client_msg_id: string | null;
}

/**
 * A chat connection that survives its instance: after a drop it reconnects through the
 * proxy every 100 ms with `since` = the last seq it holds (as the client library does,
 * minus the backoff), and re-sends unacknowledged messages with their client_msg_id.
 * It keeps every message it is given, replays included, in arrival order, so that lost
 * or doubled messages show.
 */
export class ChatClient {
  readonly received: Message[] = [];
  connections = 0;
  /** When the current connection dropped (performance.now()), and when it was back (its replay arrived). */
  droppedAt: number | null = null;
  backAt: number | null = null;
  lastClose: { code: number; reason: string } | null = null;
  failedAttempts = 0;
  private ws: WebSocket | null = null;
  private ready = false;
  private stopped = false;
  private pending = new Map<string, { content: string; ref: string; resolve: (seq: number) => void }>();
  private readonly events = new Wakeup();
  private refs = 0;

  constructor(readonly name: string, private wsUrl: string, private jwt: string, private tls: { ca: string } | null) {}

  get lastSeq(): number {
    return this.received.at(-1)?.seq ?? 0;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Opens the first connection; resolves once its replay has arrived. */
  async start(): Promise<void> {
    this.open();
    await this.until(() => this.ready, 10_000, `${this.name} connected`);
  }

  private open() {
    if (this.stopped) return;
    const url = new URL(this.wsUrl);
    url.searchParams.set("since", String(this.lastSeq));
    const ws = new WebSocket(url.toString(), { headers: { authorization: `Bearer ${this.jwt}` }, ...(this.tls ? { tls: this.tls } : {}) } as any);
    this.ws = ws;
    let authenticated = false;
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data));
      if (frame.type === "authenticated") authenticated = true;
      else if (frame.type === "history" && frame.ref === undefined) {
        for (const m of frame.data.messages) this.received.push(pick(m));
        this.connections++;
        this.ready = true;
        if (this.droppedAt !== null && this.backAt === null) this.backAt = performance.now();
        // Re-send what was never acknowledged, with the same client_msg_id.
        for (const [id, p] of this.pending) this.transmit(id, p);
      } else if (frame.type === "message") this.received.push(pick(frame.data));
      else if (frame.type === "ack") {
        for (const [id, p] of this.pending)
          if (p.ref === frame.ref) {
            this.pending.delete(id);
            p.resolve(frame.data.seq);
          }
      } else if (frame.type === "error" && frame.ref !== undefined) {
        // e.g. unavailable: try again on this connection a moment later
        for (const [id, p] of this.pending) if (p.ref === frame.ref) setTimeout(() => this.ready && this.ws === ws && this.transmit(id, p), 100);
      }
      this.events.wake();
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.lastClose = { code: event.code, reason: event.reason };
      const wasReady = this.ready;
      this.ready = false;
      this.ws = null;
      if (this.stopped) return this.events.wake();
      if (wasReady) {
        this.droppedAt ??= performance.now();
        this.backAt = null;
      } else if (!authenticated) this.failedAttempts++;
      setTimeout(() => this.open(), 100);
      this.events.wake();
    });
  }

  private transmit(id: string, p: { content: string; ref: string }) {
    p.ref = `${this.name}-${++this.refs}`;
    this.ws?.send(JSON.stringify({ type: "message", ref: p.ref, data: { content: p.content, client_msg_id: id } }));
  }

  /** Sends `content` and resolves with its seq once acknowledged, across reconnects. */
  send(content: string): Promise<number> {
    const id = crypto.randomUUID();
    return new Promise<number>((resolve) => {
      const p = { content, ref: "", resolve };
      this.pending.set(id, p);
      if (this.ready) this.transmit(id, p);
    });
  }

  /** Forgets the last drop (before measuring the next one). */
  resetDrop() {
    this.droppedAt = null;
    this.backAt = null;
  }

  async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const state = () => `${this.name}: ${what} (last seq ${this.lastSeq}, ready ${this.ready}, last close ${JSON.stringify(this.lastClose)})`;
    await until(check, state, { timeoutMs, everyMs: 100, wakeup: this.events });
  }

  stop() {
    this.stopped = true;
    this.ws?.close();
  }
}

function pick(m: any): Message {
  return { seq: m.seq, content: m.content, client_msg_id: m.client_msg_id };
}
