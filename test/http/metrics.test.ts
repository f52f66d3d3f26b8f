/**
 * Metrics (PROTOCOL.md section 1, Operations [v2]; docs/protocol.md "Metrics"): never on
 * the public address (per-outcome counters would let anyone probe the allow-list); with
 * METRICS_LISTEN a second listener serves only GET /metrics in the Prometheus text format,
 * every labelled series from 0, process and runtime metrics, the build, the ack histogram,
 * and counters of `unavailable` and `rate_limited` refusals. A bad METRICS_LISTEN stops
 * the server at start (exit 2, one line naming it).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { FileSizeLimitedServer, freePort, runRoomz, signIn, startServer, tempDir, TestServer } from "../helpers/server";
import { redisForDataDir, stopRedisForDataDir, testEngineIsRedis } from "../helpers/redis";
import { expectProblem } from "../helpers/problems";
import { rawUpgrade } from "../helpers/upgrade";
import { until } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";
import { metrics, requestLink, serversOfThisFile } from "./support";

const MESSAGE_LIMIT = 3;
const LINK_LIMIT = 2;
const CONNECTION_LIMIT = 2;
const files = serversOfThisFile();
let server: TestServer;
let startedAt = 0;
beforeAll(async () => {
  startedAt = Date.now();
  server = await files.start({
    MESSAGE_RATE_LIMIT: String(MESSAGE_LIMIT),
    MAGIC_LINK_RATE_LIMIT: String(LINK_LIMIT),
    MAX_CONNECTIONS_PER_USER: String(CONNECTION_LIMIT),
  });
});

const LABELLED: Record<string, string[]> = {
  roomz_magic_links_total: ['result="requested"', 'result="sent"', 'result="refused"', 'result="failed"'],
  // Every refusal reason of docs/protocol.md ("Sessions").
  roomz_auth_failures_total: ["missing", "invalid", "expired", "revoked", "ended", "not_allowed", "bad_origin", "invalid_token", "expired_token", "token", "insufficient_scope"].map(
    (reason) => `reason="${reason}"`,
  ),
  roomz_unavailable_total: ['what="frame"', 'what="upgrade"', 'what="http"'],
  roomz_rate_limited_total: ['limit="message"', 'limit="magic_link"', 'limit="connections"'],
};
const ACK_BOUNDS = ["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"];

describe("metrics: not on the public address", () => {
  test("GET /metrics on the public address is a 404 not_found problem, like any unknown path (other methods too)", async () => {
    for (const method of ["GET", "POST", "PUT"]) {
      const res = await fetch(`${server.url}/metrics`, { method, body: method === "GET" ? undefined : "{}" });
      const body = await expectProblem(res, 404, "not_found", "/metrics");
      expect(JSON.stringify(body)).not.toContain("roomz_");
    }
  });

  test("without METRICS_LISTEN nothing serves metrics at all", async () => {
    const plain = await startServer({ metrics: false });
    try {
      expect(plain.env.METRICS_LISTEN).toBeUndefined();
      await expectProblem(await fetch(`${plain.url}/metrics`), 404, "not_found", "/metrics");
      expect(plain.output).not.toMatch(/metrics on /);
    } finally {
      await plain.stop();
    }
  });
});

describe("metrics: the METRICS_LISTEN listener", () => {
  test("a fresh server: Prometheus text 0.0.4, HELP and TYPE for every family, every labelled series at 0", async () => {
    const res = await fetch(server.metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text.endsWith("\n")).toBe(true);
    // Each sample's family has its HELP and TYPE before it, once.
    const declared = new Set<string>();
    for (const line of text.trimEnd().split("\n")) {
      const type = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
      if (type) {
        expect(declared.has(type[1])).toBe(false);
        declared.add(type[1]);
        expect(text).toContain(`# HELP ${type[1]} `);
      } else if (!line.startsWith("# HELP ")) {
        const name = line.split(/[{ ]/)[0];
        expect(declared.has(name) || declared.has(name.replace(/_(bucket|sum|count)$/, "")), line).toBe(true);
      }
    }
    const values = await metrics(server);
    for (const [name, labels] of Object.entries(LABELLED))
      for (const label of labels) expect(`${name}{${label}} ${values.get(`${name}{${label}}`)}`).toBe(`${name}{${label}} 0`);
    for (const name of ["roomz_messages_accepted_total", "roomz_messages_delivered_total", "roomz_slow_consumers_dropped_total", "roomz_connections_open", "roomz_users_connected"])
      expect(`${name} ${values.get(name)}`).toBe(`${name} 0`);
    for (const bound of ACK_BOUNDS) expect(values.get(`roomz_message_ack_seconds_bucket{le="${bound}"}`)).toBe(0);
    expect(values.get("roomz_message_ack_seconds_sum")).toBe(0);
    expect(values.get("roomz_message_ack_seconds_count")).toBe(0);
    // Redis' link state: a gauge with the Redis engine, absent with the embedded one.
    if (testEngineIsRedis(server.env)) expect(values.get("roomz_redis_connected")).toBe(1);
    else expect(values.has("roomz_redis_connected")).toBe(false);
  });

  test("roomz_build_info carries the package version and the Bun version", async () => {
    const values = await metrics(server);
    expect(values.get(`roomz_build_info{version="${pkg.version}",bun="${Bun.version}"}`)).toBe(1);
    expect([...values.keys()].filter((k) => k.startsWith("roomz_build_info"))).toHaveLength(1);
  });

  test("process and runtime metrics are present and plausible", async () => {
    const pid = server.proc.pid;
    const first = await metrics(server);
    for (let i = 0; i < 20; i++) await fetch(`${server.url}/healthz`); // some work
    const values = await metrics(server);
    const cpu = values.get("process_cpu_seconds_total")!;
    expect(cpu).toBeGreaterThan(0);
    expect(cpu).toBeGreaterThanOrEqual(first.get("process_cpu_seconds_total")!);
    expect(cpu).toBeLessThan(((Date.now() - startedAt) / 1000) * 2 + 1); // at most both cores all the time
    const rss = values.get("process_resident_memory_bytes")!;
    const statusRss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
    expect(rss).toBeGreaterThan(statusRss * 0.5);
    expect(rss).toBeLessThan(statusRss * 2);
    const start = values.get("process_start_time_seconds")! * 1000;
    expect(start).toBeGreaterThan(startedAt - 2000);
    expect(start).toBeLessThan(Date.now());
    const fds = values.get("process_open_fds")!;
    expect(Math.abs(fds - readdirSync(`/proc/${pid}/fd`).length)).toBeLessThan(10);
    expect(fds).toBeGreaterThan(3);
    expect(values.get("process_max_fds")!).toBeGreaterThanOrEqual(fds);
    const heapUsed = values.get("roomz_js_heap_used_bytes")!;
    expect(heapUsed).toBeGreaterThan(1024 * 1024);
    expect(heapUsed).toBeLessThanOrEqual(values.get("roomz_js_heap_total_bytes")!);
    expect(values.get("roomz_js_external_memory_bytes")!).toBeGreaterThanOrEqual(0);
    const lag = values.get("roomz_event_loop_lag_seconds")!;
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(1);
  });

  test("a stored message moves the ack histogram (count, sum, buckets) and messages_accepted", async () => {
    const jwt = await signIn(server, "alice@example.com");
    const ws = await WsClient.connect(server.wsUrl, { jwt });
    const before = await metrics(server);
    await ws.sendMessage("measured");
    await ws.sendMessage("measured again");
    const after = await metrics(server);
    const delta = (key: string) => after.get(key)! - before.get(key)!;
    expect(delta("roomz_message_ack_seconds_count")).toBe(2);
    expect(delta('roomz_message_ack_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(delta("roomz_message_ack_seconds_sum")).toBeGreaterThan(0);
    expect(delta("roomz_message_ack_seconds_sum")).toBeLessThan(5);
    expect(delta("roomz_messages_accepted_total")).toBe(2);
    // Cumulative buckets: never decreasing, the last finite one at most the count.
    const counts = ACK_BOUNDS.map((bound) => after.get(`roomz_message_ack_seconds_bucket{le="${bound}"}`)!);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]);
    expect(counts.at(-1)).toBe(after.get("roomz_message_ack_seconds_count"));
    ws.close();
  });

  test("rate-limited refusals are counted by limit: message frames, magic links, connections", async () => {
    const before = await metrics(server);
    // MESSAGE_RATE_LIMIT: one frame over the limit on a new connection.
    const jwt = await signIn(server, "bob@example.com");
    const ws = await WsClient.connect(server.wsUrl, { jwt });
    for (let i = 0; i < MESSAGE_LIMIT; i++) expect((await ws.request("message", { content: `m${i}` })).type).toBe("ack");
    expect((await ws.request("message", { content: "one too many" })).data.code).toBe("rate_limited");
    // MAGIC_LINK_RATE_LIMIT: one request over the per-address limit.
    for (let i = 0; i < LINK_LIMIT; i++) expect((await requestLink(server, "carol@example.com")).status).toBe(200);
    await expectProblem(await requestLink(server, "carol@example.com"), 429, "rate_limited", "/auth/request-magic-link");
    // MAX_CONNECTIONS_PER_USER: bob already has one connection.
    const second = await WsClient.connect(server.wsUrl, { jwt });
    expect((await rawUpgrade(server.wsUrl, { jwt })).status).toBe(429);
    const after = await metrics(server);
    const delta = (key: string) => after.get(key)! - before.get(key)!;
    expect(delta('roomz_rate_limited_total{limit="message"}')).toBe(1);
    expect(delta('roomz_rate_limited_total{limit="magic_link"}')).toBe(1);
    expect(delta('roomz_rate_limited_total{limit="connections"}')).toBe(1);
    for (const what of ["frame", "upgrade", "http"]) expect(delta(`roomz_unavailable_total{what="${what}"}`)).toBe(0);
    ws.close();
    second.close();
  });

  test("the listener answers 404 to every other path and 405 to another method on /metrics", async () => {
    const base = server.metricsUrl.replace(/\/metrics$/, "");
    for (const path of ["/", "/metrics/", "/healthz", "/ws", "/auth/me", "/metrics.txt", "/index.html"])
      await expectProblem(await fetch(`${base}${path}`), 404, "not_found", path);
    for (const method of ["POST", "PUT", "DELETE"]) {
      const res = await fetch(server.metricsUrl, { method, body: "{}" });
      await expectProblem(res, 405, "method_not_allowed", "/metrics");
      expect(res.headers.get("allow")).toBe("GET");
    }
    // A query string does not matter.
    expect((await fetch(`${server.metricsUrl}?name[]=x`)).status).toBe(200);
  });

  test("it starts with the server (the address is logged) and stops at shutdown", async () => {
    const other = await startServer();
    try {
      const { port } = new URL(other.metricsUrl);
      expect(other.output).toContain(`metrics on http://127.0.0.1:${port}/metrics`);
      expect((await fetch(other.metricsUrl)).status).toBe(200);
      // The process exits by itself: nothing, the listener included, is left open.
      expect(await Promise.race([other.stop(), Bun.sleep(15_000).then(() => "still running")])).toBe(0);
      await expect(fetch(other.metricsUrl, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    } finally {
      if (other.proc.exitCode === null) other.proc.kill("SIGKILL");
    }
  });
});

describe("metrics: roomz_redis_connected", () => {
  test.if(process.env.ROOMZ_TEST_ENGINE === "redis")("follows the Redis link: 0 while Redis is down (and /healthz 503), 1 again once it is back", async () => {
    const s = await startServer();
    try {
      expect((await metrics(s)).get("roomz_redis_connected")).toBe(1);
      await stopRedisForDataDir(s.dataDir);
      await until(async () => expect((await metrics(s)).get("roomz_redis_connected")).toBe(0), "roomz_redis_connected 0", 15_000);
      expect((await fetch(`${s.url}/healthz`)).status).toBe(503);
      await redisForDataDir(s.dataDir);
      await until(async () => expect((await metrics(s)).get("roomz_redis_connected")).toBe(1), "roomz_redis_connected 1", 15_000);
    } finally {
      await s.stop();
    }
  }, 60_000);
});


describe("metrics: unavailable refusals", () => {
  const limited: TestServer[] = [];
  afterAll(async () => {
    for (const s of limited) await s.stop("SIGKILL");
  });

  test("a message the store can't take (EFBIG) is counted in roomz_unavailable_total{what=\"frame\"}, and not in the ack histogram", async () => {
    const metricsPort = await freePort();
    const env = { ALLOWED_EMAILS: "alice@example.com", MESSAGE_RATE_LIMIT: "100000", METRICS_LISTEN: `127.0.0.1:${metricsPort}` };
    const s = new FileSizeLimitedServer(await freePort(), tempDir(), env, 512);
    limited.push(s);
    await s.start();
    const jwt = await signIn(s, "alice@example.com");
    const ws = await WsClient.connect(s.wsUrl, { jwt });
    const before = await metrics(s);
    let acked = 0;
    let refused = 0;
    const body = "x".repeat(3900);
    for (let i = 0; i < 400 && refused < 3; i++) {
      const reply = await ws.request("message", { content: `${i} ${body}` });
      if (reply.type === "ack") acked++;
      else {
        expect(reply.data.code).toBe("unavailable");
        refused++;
      }
    }
    expect(refused).toBe(3);
    const after = await metrics(s);
    const delta = (key: string) => after.get(key)! - before.get(key)!;
    expect(delta('roomz_unavailable_total{what="frame"}')).toBe(3);
    expect(delta("roomz_message_ack_seconds_count")).toBe(acked);
    expect(delta("roomz_messages_accepted_total")).toBe(acked);
    ws.close();
  }, 60_000);
});

describe("metrics: a bad METRICS_LISTEN stops the server at start", () => {
  /** Runs `roomz serve` with `env`; kills it if it starts anyway. */
  async function run(env: Record<string, string>) {
    const dataDir = tempDir();
    const port = await freePort();
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "REDIS_URL" && k !== "METRICS_LISTEN")) as Record<string, string>;
    const { code, stdout, stderr } = await runRoomz(["serve"], {
      cwd: dataDir,
      env: { ...base, PORT: String(port), HOST: "127.0.0.1", ROOMZ_DATA_DIR: dataDir, ALLOWED_EMAILS: "a@example.com", ...env },
    });
    let listening = false;
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(500) });
      listening = true;
    } catch {}
    return { code, stdout, stderr, listening };
  }

  const bad = ["9100", ":9100", "localhost", "localhost:", "localhost:99999", "localhost:port", "::1:9100", "[not-v6]:9100", "300.1.1.1:9100", "bad host:9100", "http://127.0.0.1:9100"];
  for (const value of bad) {
    test(`METRICS_LISTEN=${JSON.stringify(value)}: exit 2, one line naming METRICS_LISTEN and the fix`, async () => {
      const { code, stdout, stderr, listening } = await run({ METRICS_LISTEN: value });
      const context = `exit ${code}\nstderr: ${stderr}\nstdout: ${stdout}`;
      expect(code, context).toBe(2);
      const lines = stderr.split("\n").filter((line) => line.trim() !== "");
      expect(lines, context).toHaveLength(1);
      expect(lines[0]).toMatch(/^roomz: METRICS_LISTEN: .*host:port/);
      expect(stderr).not.toMatch(/\n\s+at |\.ts:\d+/);
      expect(listening).toBe(false);
    });
  }

  test("a METRICS_LISTEN port already taken: exit 2, one line naming METRICS_LISTEN, nothing left listening", async () => {
    const taken = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("someone else") });
    try {
      const { code, stdout, stderr, listening } = await run({ METRICS_LISTEN: `127.0.0.1:${taken.port}` });
      const context = `exit ${code}\nstderr: ${stderr}\nstdout: ${stdout}`;
      expect(code, context).toBe(2);
      const lines = stderr.split("\n").filter((line) => line.trim() !== "");
      expect(lines, context).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^roomz: METRICS_LISTEN: cannot listen on 127\\.0\\.0\\.1:${taken.port} `));
      expect(listening).toBe(false);
    } finally {
      taken.stop(true);
    }
  });

  test("good values start: an IPv6 literal in brackets, a host name, port 0", async () => {
    for (const value of ["[::1]:0", "localhost:0", "127.0.0.1:0"]) {
      const s = await startServer({ metrics: false, env: { METRICS_LISTEN: value } });
      try {
        const match = await s.waitForOutput(/metrics on (http:\/\/\S+\/metrics)/, 5000);
        expect(match[1]).toMatch(value.startsWith("[") ? /^http:\/\/\[::1\]:\d+\/metrics$/ : /^http:\/\/[a-z0-9.]+:[1-9]\d*\/metrics$/);
        expect((await fetch(match[1])).status).toBe(200);
      } finally {
        await s.stop();
      }
    }
  });
});
