/**
 * Issue 12, "deployment that works as printed": the files in deploy/ run as shipped.
 *
 * For each of nginx, HAProxy and Caddy: one redis-server, two Roomz instances on it, and
 * the proxy started from its file in deploy/ (only addresses, ports and paths replaced).
 * Through the proxy: sign in by magic link, open seven WebSockets, chat; then SIGKILL
 * one instance while a sender keeps sending. Every dropped client must be back through
 * the proxy (reconnected with `since`, replay received) within 5 s, and every client
 * must end up with every message exactly once, in order. The proxy's access log must not
 * hold the magic-link token (nor the session), and a forged X-Forwarded-For must not
 * reach Roomz as the client's address (TRUST_PROXY=true takes the rightmost entry).
 *
 * A proxy that is not installed is skipped with a message, unless
 * ROOMZ_REQUIRE_PROXIES=1 (set by .ci/run, which installs them): then it fails.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startRedis, type RedisServer } from "../helpers/redis";
import { freePort, startServer, tempDir, type TestServer } from "../helpers/server";
import { until } from "../helpers/wait";
import { freshUser, quiet, startInstance } from "../redis/support";
import {
  ChatClient,
  DEPLOY,
  findBinary,
  freePorts,
  makeCert,
  startCaddy,
  startHaproxy,
  startNginx,
  substitute,
  type Proxy,
} from "./support";

const REQUIRED = process.env.ROOMZ_REQUIRE_PROXIES === "1";
const FAILOVER_LIMIT_MS = 5000;

const bins = {
  nginx: findBinary("nginx"),
  haproxy: findBinary("haproxy"),
  caddy: findBinary("caddy"),
  openssl: findBinary("openssl"),
  redis: findBinary("redis-server"),
  systemdAnalyze: findBinary("systemd-analyze"),
};

/** Skip (saying why) only when a tool is missing and the run does not require it. */
function missing(...names: Array<keyof typeof bins>): boolean {
  const absent = names.filter((n) => !bins[n]);
  if (absent.length === 0 || REQUIRED) return false;
  console.warn(`test/deploy: skipping, not installed: ${absent.join(", ")} (apt-get install nginx haproxy caddy openssl redis-server systemd, or run .ci/run)`);
  return true;
}

function need(name: keyof typeof bins): string {
  const bin = bins[name];
  if (!bin) throw new Error(`${name} is not installed (ROOMZ_REQUIRE_PROXIES=1): apt-get install it, or run .ci/run`);
  return bin;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const measured: string[] = [];
afterAll(() => {
  if (measured.length) console.log(`\ntest/deploy failover (SIGKILL of one of two instances → last dropped client back and caught up):\n${measured.join("\n")}`);
});

type Kind = "nginx" | "haproxy" | "caddy";

async function scenario(kind: Kind) {
  need("redis");
  const bin = need(kind);
  const dir = tempDir(`roomz-deploy-${kind}-`);
  const [https, http] = await freePorts(2);
  const tls = kind !== "caddy";
  if (tls) need("openssl");
  const origin = tls ? `https://127.0.0.1:${https}` : `http://127.0.0.1:${https}`;

  const redis: RedisServer = await startRedis();
  cleanups.push(() => redis.stop());
  // Six link requests per client address per hour: the forged X-Forwarded-For check
  // below counts on it.
  const env = { TRUST_PROXY: "true", PUBLIC_URL: origin, MAGIC_LINK_IP_RATE_LIMIT: "6" };
  const servers: TestServer[] = await Promise.all([startInstance(redis, env), startInstance(redis, env)]);
  cleanups.push(() => Promise.all(servers.map((s) => s.stop("SIGKILL"))).then(() => {}));

  const upstreams: [number, number] = [servers[0].port, servers[1].port];
  const cert = tls ? makeCert(dir) : null;
  const proxy: Proxy =
    kind === "nginx"
      ? await startNginx(bin, dir, upstreams, { https, http }, cert!)
      : kind === "haproxy"
        ? await startHaproxy(bin, dir, upstreams, { https, http }, cert!)
        : await startCaddy(bin, dir, upstreams, https);
  cleanups.push(() => proxy.stop());
  const via = (path: string, init: RequestInit = {}) => fetch(`${proxy.origin}${path}`, proxy.tls ? ({ ...init, tls: proxy.tls } as any) : init);
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    via(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  // --- sign in through the proxy: request the link, open it (GET), confirm (POST) ---
  const email = freshUser();
  const printed = servers.map((s) => s.output.length);
  expect((await post("/auth/request-magic-link", { email })).status).toBe(200);
  const link = await linkFor(servers, printed, email);
  expect(link.startsWith(`${proxy.origin}/auth/verify?token=`)).toBe(true);
  const token = new URL(link).searchParams.get("token")!;
  const page = await fetch(link, proxy.tls ? ({ tls: proxy.tls } as any) : {});
  expect(page.status).toBe(200);
  expect(await page.text()).toContain(email);
  const verified = await post("/auth/verify", { token });
  expect(verified.status).toBe(200);
  const jwt = ((await verified.json()) as { session: string }).session;
  expect((await via("/auth/me", { headers: { authorization: `Bearer ${jwt}` } })).status).toBe(200);

  // The plain-HTTP side redirects to https with the link intact.
  if (proxy.redirectOrigin) {
    const redirect = await fetch(`${proxy.redirectOrigin}/auth/verify?token=${token}`, { redirect: "manual" });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get("location")).toMatch(new RegExp(`^https://127\\.0\\.0\\.1(:\\d+)?/auth/verify\\?token=${token}$`));
  }

  // --- a forged X-Forwarded-For is not the client's address: the proxy's own entry is
  // the rightmost one, so these six count as one address with the sign-in above ---
  const forged: number[] = [];
  for (let i = 1; i <= 6; i++) forged.push((await post("/auth/request-magic-link", { email: freshUser() }, { "x-forwarded-for": `203.0.113.${i}` })).status);
  expect(forged).toEqual([200, 200, 200, 200, 200, 429]);

  // --- seven WebSockets through the proxy; everyone chats ---
  const wsUrl = `${proxy.origin.replace(/^http/, "ws")}/ws`;
  const receivers = Array.from({ length: 6 }, (_, i) => new ChatClient(`${kind}-r${i}`, wsUrl, jwt, proxy.tls));
  const sender = new ChatClient(`${kind}-sender`, wsUrl, jwt, proxy.tls);
  const clients = [...receivers, sender];
  cleanups.push(() => clients.forEach((c) => c.stop()));
  for (const c of clients) await c.start();
  const expected: string[] = [];
  for (const [i, r] of receivers.entries()) {
    expected.push(`hello from r${i} via ${kind}`);
    await r.send(expected.at(-1)!);
  }
  for (const c of clients) await c.until(() => c.lastSeq >= expected.length, 10_000, "the greetings");

  // --- a sender keeps sending (one at a time, each acknowledged) while an instance dies ---
  let sending = true;
  let sent = 0;
  const pump = (async () => {
    while (sending) {
      const content = `s${sent + 1} via ${kind}`;
      await sender.send(content);
      expected.push(content);
      sent++;
      await Bun.sleep(10);
    }
  })();
  await Bun.sleep(300);
  for (const c of clients) c.resetDrop();
  const killedAt = performance.now();
  servers[0].proc.kill("SIGKILL");
  await servers[0].proc.exited;
  // The proxy closes the connections it had to the dead instance at once.
  await Bun.sleep(500);
  const dropped = clients.filter((c) => c.droppedAt !== null);
  const deadline = Date.now() + 3 * FAILOVER_LIMIT_MS;
  while (dropped.some((c) => c.backAt === null) && Date.now() < deadline) await Bun.sleep(20);
  const backIn = dropped.map((c) => (c.backAt === null ? Infinity : Math.round(c.backAt - killedAt)));
  const failover = Math.max(...backIn);
  measured.push(
    `  ${kind.padEnd(8)} ${failover} ms (${dropped.length} of ${clients.length} connections dropped; back after ${backIn.join(", ")} ms; ` +
      `${dropped.reduce((n, c) => n + c.failedAttempts, 0)} failed reconnect attempts)`,
  );
  const sentWhenBack = sent;
  // keep sending a while after everyone is back, then stop
  await Bun.sleep(1000);
  sending = false;
  await pump;

  // Someone was on the killed instance (otherwise nothing was tested).
  expect(dropped.length).toBeGreaterThan(0);
  // Every dropped client is back, through the proxy, within the limit.
  expect({ kind, backIn, within: backIn.every((ms) => ms < FAILOVER_LIMIT_MS) }).toEqual({ kind, backIn, within: true });
  // The sender kept going once everyone was back.
  expect(sent).toBeGreaterThan(sentWhenBack);

  // --- every client: every message exactly once, in seq order, as sent ---
  const total = expected.length;
  for (const c of clients) await c.until(() => c.lastSeq >= total, 10_000, `seq ${total}`);
  await Bun.sleep(200);
  for (const c of clients) {
    expect({ client: c.name, seqs: c.received.map((m) => m.seq) }).toEqual({ client: c.name, seqs: Array.from({ length: total }, (_, i) => i + 1) });
    expect({ client: c.name, contents: c.received.map((m) => m.content) }).toEqual({ client: c.name, contents: expected });
  }

  if (process.env.ROOMZ_DEPLOY_DEBUG) console.log(`--- ${kind} access log ---\n${proxy.accessLog()}\n--- ${kind} output ---\n${proxy.output()}`);

  // --- the access log: written, but without the magic-link token or the session ---
  await until(() => proxy.accessLog().includes("/auth/verify"), `${kind} access log to show /auth/verify`, 5000);
  const log = proxy.accessLog();
  expect(log).toContain("/ws");
  expect({ kind, tokenInLog: log.includes(token) }).toEqual({ kind, tokenInLog: false });
  expect({ kind, sessionInLog: log.includes(jwt) }).toEqual({ kind, sessionInLog: false });

  expect(quiet(servers[1])).toBe(true);
  rmSync(dir, { recursive: true, force: true });
}

async function linkFor(servers: TestServer[], from: number[], email: string): Promise<string> {
  const pattern = new RegExp(`magic-link ${email.replace(/[.+]/g, "\\$&")} (\\S+)`);
  const link = () => servers.map((s, i) => s.output.slice(from[i]).match(pattern)?.[1]).find(Boolean) ?? false;
  return until(link, `the magic-link line for ${email}`, 5000);
}

describe("deploy/: the proxy files in front of two instances on one Redis; one instance is SIGKILLed", () => {
  test.skipIf(missing("nginx", "openssl", "redis"))("nginx (deploy/nginx.conf)", () => scenario("nginx"), 45_000);
  test.skipIf(missing("haproxy", "openssl", "redis"))("HAProxy (deploy/haproxy.cfg)", () => scenario("haproxy"), 45_000);
  test.skipIf(missing("caddy", "redis"))("Caddy (deploy/Caddyfile)", () => scenario("caddy"), 45_000);
});

test("deploy/nginx.conf: every upstream server has max_fails=0", () => {
  // Not reproducible in the scenario above (nginx moved on within ~125 ms with
  // max_fails=1 too), but measured elsewhere: nginx's passive check (max_fails=1
  // fail_timeout=10s) kept 5 of 6 reconnecting clients on "502 no live upstreams" for
  // 4-38 s after one of two instances was killed. Keep it off.
  const servers = readFileSync(join(DEPLOY, "nginx.conf"), "utf8").match(/^\s*server\s+\S+:\d+[^;]*;/gm) ?? [];
  expect(servers.length).toBeGreaterThanOrEqual(2);
  for (const line of servers) expect(line).toContain("max_fails=0");
});

describe("deploy/: systemd units and the environment file", () => {
  test.skipIf(missing("systemdAnalyze"))("roomz.service and roomz@.service pass systemd-analyze verify, and their sandbox rates 2.0 or better", () => {
    const bin = need("systemdAnalyze");
    const dir = tempDir("roomz-deploy-systemd-");
    // The executable does not exist here: point ExecStart at one that does.
    const fake = join(dir, "roomz");
    writeFileSync(fake, "#!/bin/sh\n", { mode: 0o755 });
    const units = [
      ["roomz.service", "roomz.service"],
      ["roomz@.service", "roomz@8001.service"],
    ];
    for (const [source, name] of units) {
      const text = substitute(readFileSync(join(DEPLOY, source), "utf8"), `deploy/${source}`, [["/usr/local/bin/roomz", fake]]);
      writeFileSync(join(dir, name), text);
      const verify = Bun.spawnSync([bin, "verify", join(dir, name)], { stdout: "pipe", stderr: "pipe" });
      expect({ name, code: verify.exitCode, out: verify.stdout.toString() + verify.stderr.toString() }).toEqual({ name, code: 0, out: "" });
      const security = Bun.spawnSync([bin, "security", "--offline=true", "--threshold=20", join(dir, name)], { stdout: "pipe", stderr: "pipe" });
      expect({ name, code: security.exitCode, rating: security.stdout.toString().match(/Overall exposure level.*/)?.[0] }).toMatchObject({ name, code: 0 });
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("roomz@.service is roomz.service with only the lines marked \"instance\" changed", () => {
    const settings = (file: string) =>
      readFileSync(join(DEPLOY, file), "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "" && !line.startsWith("#"));
    const single = settings("roomz.service");
    const template = settings("roomz@.service");
    const instanceLines = (lines: string[]) => lines.filter((l) => /%i|^Environment=(HOST|PORT|ROOMZ_DATA_DIR)=|^StateDirectory=|^WorkingDirectory=|^ExecStart=|^Description=/.test(l));
    expect(template.filter((l) => !instanceLines(template).includes(l))).toEqual(single.filter((l) => !instanceLines(single).includes(l)));
    for (const line of ["KillSignal=SIGTERM", "User=roomz", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "EnvironmentFile=/etc/roomz/roomz.env"]) {
      expect(single).toContain(line);
    }
    expect(Number(single.find((l) => l.startsWith("TimeoutStopSec="))!.match(/\d+/)![0])).toBeGreaterThanOrEqual(15);
    expect(single).toContain("Environment=ROOMZ_DATA_DIR=%S/roomz");
    expect(single).toContain("StateDirectory=roomz");
  });

  test("deploy/roomz.env names every setting of the contract, and a server starts with it as printed", async () => {
    const text = readFileSync(join(DEPLOY, "roomz.env"), "utf8");
    for (const name of ["PUBLIC_URL", "JWT_SECRET_KEY", "ALLOWED_EMAILS", "EMAIL_SENDER", "RESEND_API_KEY", "EMAIL_FROM", "TRUST_PROXY", "REDIS_URL", "METRICS_LISTEN", "ROOMZ_DATA_DIR"]) {
      expect({ name, mentioned: new RegExp(`^#?${name}=`, "m").test(text) }).toEqual({ name, mentioned: true });
    }
    const env: Record<string, string> = {};
    for (const line of text.split("\n")) {
      if (line.startsWith("#") || line.trim() === "") continue;
      const match = line.match(/^([A-Z_]+)=(.*)$/);
      expect({ line, parsed: match !== null }).toEqual({ line, parsed: true });
      env[match![1]] = match![2];
    }
    expect(env.TRUST_PROXY).toBe("true");
    expect(env.METRICS_LISTEN).toBe("127.0.0.1:9100");
    // As printed, except where it listens (free ports) and stores (a temporary directory).
    const server = await startServer({ env: { ...env, METRICS_LISTEN: `127.0.0.1:${await freePort()}` } });
    cleanups.push(() => server.stop().then(() => {}));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 20_000);
});
