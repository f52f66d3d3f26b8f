/**
 * The HTTP rules that hold across paths (PROTOCOL.md section 1): the Origin rule, 413 over
 * 16 KiB (declared or streamed), 405 with Allow, 404 problems, /healthz, /metrics, and the
 * web app fallback with its security headers.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { requestToken, signIn, type TestServer } from "../helpers/server";
import { rawHttp } from "../helpers/tcp";
import { expectProblem } from "../helpers/problems";
import { bearer, me, metrics, postJson, requestLink, serversOfThisFile } from "./support";

const { secrets: seenSecrets, start } = serversOfThisFile();

describe("the Origin rule, PUBLIC_URL unset (own origin = http:// + Host)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({ ALLOWED_EMAILS: "origin@example.com", MAGIC_LINK_RATE_LIMIT: "1000", MAGIC_LINK_IP_RATE_LIMIT: "1000" });
  });

  const foreign = ["http://evil.example.com", "https://127.0.0.1:PORT", "http://127.0.0.1:1", "http://localhost:PORT", "null", "garbage"];
  for (const origin of foreign) {
    test(`POST with Origin ${origin} is 403 bad_origin on every POST path`, async () => {
      const value = origin.replace("PORT", String(server.port));
      for (const path of ["/auth/request-magic-link", "/auth/verify", "/auth/logout", "/auth/logout-all"]) {
        const res = await postJson(server, path, path === "/auth/verify" ? { token: "A".repeat(43) } : { email: "origin@example.com" }, { origin: value });
        await expectProblem(res, 403, "bad_origin", path);
      }
    });
  }

  test("a bad_origin refusal does nothing: no link, logout leaves the session", async () => {
    const jwt = await signIn(server, "origin@example.com");
    seenSecrets.push(jwt);
    const from = server.output.length;
    await expectProblem(await requestLink(server, "origin@example.com", { origin: "http://evil.example.com" }), 403, "bad_origin", "/auth/request-magic-link");
    await expectProblem(await postJson(server, "/auth/logout", "", { ...bearer(jwt), origin: "http://evil.example.com" }), 403, "bad_origin", "/auth/logout");
    await expectProblem(await postJson(server, "/auth/logout-all", "", { ...bearer(jwt), origin: "http://evil.example.com" }), 403, "bad_origin", "/auth/logout-all");
    await Bun.sleep(200);
    expect(server.output.slice(from)).not.toContain("magic-link");
    expect((await me(server, bearer(jwt))).status).toBe(200);
  });

  test("the form POST from a foreign origin does not sign in", async () => {
    const token = await requestToken(server, "origin@example.com");
    seenSecrets.push(token);
    const res = await fetch(`${server.url}/auth/verify`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example.com" },
      body: `token=${token}`,
      redirect: "manual",
    });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().filter((c) => /^session_token=[^;]/.test(c))).toEqual([]);
    // The token was not consumed by the refused request.
    const ok = await postJson(server, "/auth/verify", { token }, { origin: server.url });
    expect(ok.status).toBe(200);
    seenSecrets.push((await ok.json()).session);
  });

  test("same origin by Host is allowed", async () => {
    expect((await requestLink(server, "origin@example.com", { origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
    expect((await requestLink(server, "origin@example.com", { host: "chat.example.org", origin: "http://chat.example.org" })).status).toBe(200);
    expect((await requestLink(server, "origin@example.com", { host: "CHAT.example.org:8080", origin: "http://chat.EXAMPLE.org:8080" })).status).toBe(200);
  });

  test("default ports are normalised", async () => {
    expect((await requestLink(server, "origin@example.com", { host: "chat.example.org", origin: "http://chat.example.org:80" })).status).toBe(200);
    expect((await requestLink(server, "origin@example.com", { host: "chat.example.org:80", origin: "http://chat.example.org" })).status).toBe(200);
    await expectProblem(
      await requestLink(server, "origin@example.com", { host: "chat.example.org", origin: "http://chat.example.org:8080" }),
      403,
      "bad_origin",
      "/auth/request-magic-link",
    );
  });

  test("requests without Origin are allowed", async () => {
    expect((await requestLink(server, "origin@example.com")).status).toBe(200);
  });

  test("GET requests are not subject to the Origin rule", async () => {
    expect((await fetch(`${server.url}/healthz`, { headers: { origin: "http://evil.example.com" } })).status).toBe(200);
  });

  test("no CORS headers are sent, even to a preflight", async () => {
    for (const method of ["OPTIONS", "POST"]) {
      const res = await fetch(`${server.url}/auth/request-magic-link`, {
        method,
        headers: { origin: "http://evil.example.com", "access-control-request-method": "POST" },
        body: method === "POST" ? "{}" : undefined,
      });
      for (const [name] of res.headers) expect(name.toLowerCase().startsWith("access-control-")).toBe(false);
    }
  });
});

describe("the Origin rule with PUBLIC_URL", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({ ALLOWED_EMAILS: "pub@example.com", PUBLIC_URL: "https://chat.example.com", MAGIC_LINK_RATE_LIMIT: "1000" });
  });

  test("PUBLIC_URL's origin is allowed, with or without its default port", async () => {
    for (const origin of ["https://chat.example.com", "https://chat.example.com:443", "https://CHAT.example.com"])
      expect((await requestLink(server, "pub@example.com", { origin })).status).toBe(200);
  });

  test("the Host-derived origin no longer counts", async () => {
    for (const origin of [`http://127.0.0.1:${server.port}`, "http://chat.example.com", "https://chat.example.com:8443"])
      await expectProblem(await requestLink(server, "pub@example.com", { origin }), 403, "bad_origin", "/auth/request-magic-link");
    await expectProblem(
      await requestLink(server, "pub@example.com", { host: "evil.example.com", origin: "http://evil.example.com" }),
      403,
      "bad_origin",
      "/auth/request-magic-link",
    );
  });
});

describe("bodies over 16 KiB, methods, unknown paths, operations, the web app", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({ ALLOWED_EMAILS: "ops@example.com", MAGIC_LINK_RATE_LIMIT: "1000", MAGIC_LINK_IP_RATE_LIMIT: "1000" });
  });

  test("a body of exactly 16 KiB is read; one byte more is 413 too_large", async () => {
    const base = JSON.stringify({ token: "A".repeat(43) });
    const exact = base + " ".repeat(16 * 1024 - base.length);
    expect(Buffer.byteLength(exact)).toBe(16384);
    await expectProblem(await postJson(server, "/auth/verify", exact), 400, "invalid_token", "/auth/verify");
    await expectProblem(await postJson(server, "/auth/verify", exact + " "), 413, "too_large", "/auth/verify");
  });

  for (const path of ["/auth/request-magic-link", "/auth/verify", "/auth/logout", "/auth/logout-all"]) {
    test(`413 too_large with Content-Length on ${path}`, async () => {
      await expectProblem(await postJson(server, path, JSON.stringify({ email: "x".repeat(20_000) })), 413, "too_large", path);
    });
  }

  test("413 too_large for a large declared body (2 MiB)", async () => {
    await expectProblem(await postJson(server, "/auth/request-magic-link", "x".repeat(2 * 1024 * 1024)), 413, "too_large", "/auth/request-magic-link");
  });

  test("413 too_large for a chunked body without Content-Length", async () => {
    const chunk = "x".repeat(4096);
    const parts = [`POST /auth/request-magic-link HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`];
    for (let i = 0; i < 6; i++) parts.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    parts.push("0\r\n\r\n");
    const { status, headers, body } = await rawHttp(server.port, parts);
    expect(status).toBe(413);
    expect(headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const doc = JSON.parse(body);
    expect(doc).toMatchObject({ type: "about:blank", status: 413, code: "too_large", instance: "/auth/request-magic-link" });
  });

  test("413 too_large for a streamed fetch body without Content-Length", async () => {
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("y".repeat(4096)));
        controller.close();
      },
    });
    const res = await fetch(`${server.url}/auth/verify`, { method: "POST", body: stream, headers: { "content-type": "application/json" } });
    await expectProblem(res, 413, "too_large", "/auth/verify");
  });

  test("a small chunked body is read normally", async () => {
    const json = JSON.stringify({ token: "A".repeat(43) });
    const { status, body } = await rawHttp(server.port, [
      `POST /auth/verify HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
      `${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`,
    ]);
    expect(status).toBe(400);
    expect(JSON.parse(body).code).toBe("invalid_token");
  });

  const wrongMethods: Array<[string, string[], string[]]> = [
    ["/auth/request-magic-link", ["POST"], ["GET", "PUT", "DELETE", "PATCH"]],
    ["/auth/verify", ["GET", "POST"], ["PUT", "DELETE", "PATCH"]],
    ["/auth/me", ["GET"], ["POST", "PUT", "DELETE"]],
    ["/auth/logout", ["POST"], ["GET", "PUT", "DELETE"]],
    ["/auth/logout-all", ["POST"], ["GET", "PUT", "DELETE"]],
    ["/healthz", ["GET"], ["POST", "PUT", "DELETE"]],
  ];
  for (const [path, allowed, wrong] of wrongMethods) {
    test(`405 method_not_allowed with Allow on ${path}`, async () => {
      for (const method of wrong) {
        const res = await fetch(`${server.url}${path}`, { method, body: method === "GET" ? undefined : "{}" });
        const allow = (res.headers.get("allow") ?? "").split(",").map((m) => m.trim().toUpperCase());
        await expectProblem(res, 405, "method_not_allowed", path);
        for (const m of allowed) expect(allow).toContain(m);
        expect(allow).not.toContain(method);
      }
    });
  }

  // [v2] /api and /files are the server's too: never the web app
  for (const path of ["/auth", "/auth/", "/auth/nope", "/auth/verify/extra", "/auth/me/x", "/auth/../auth/nothing", "/api", "/api/nope", "/files"]) {
    test(`404 not_found problem for ${path}`, async () => {
      for (const method of ["GET", "POST"]) {
        const res = await fetch(`${server.url}${path}`, { method, body: method === "POST" ? "{}" : undefined });
        const expected = new URL(path, "http://x").pathname;
        await expectProblem(res, 404, "not_found", expected);
      }
    });
  }

  // A download without credentials is refused like any /api request (section 6: 401),
  // before anything says whether the id exists.
  test("GET /files/<id> without a session or token: 401 unauthenticated problem, never the web app", async () => {
    for (const path of ["/files/abc", "/files/abc/name.png"]) await expectProblem(await fetch(`${server.url}${path}`), 401, "unauthenticated", path);
  });

  test("404 not_found problem for missing static assets", async () => {
    for (const path of ["/assets/nope.js", "/assets/missing.css", "/nope.png", "/favicon-missing.svg"])
      await expectProblem(await fetch(`${server.url}${path}`), 404, "not_found", path);
  });

  test("GET /api/limits: the limits this server was configured with; other methods 405", async () => {
    const res = await fetch(`${server.url}/api/limits`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ max_message_length: 4000, max_frame_bytes: 65536, message_rate_limit: 50 });
    const post = await fetch(`${server.url}/api/limits`, { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
  });

  test("GET /healthz: 200 {status: ok}", async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  test("routing does not depend on the Host header (a short host name)", async () => {
    for (const host of ["rz", "db:80", "chat"]) {
      const res = await fetch(`${server.url}/healthz`, { headers: { host } });
      expect(`${host} ${res.status}`).toBe(`${host} 200`);
    }
  });

  test("GET /metrics on METRICS_LISTEN: Prometheus text with every metric the contract names", async () => {
    const res = await fetch(server.metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    const types: Array<[string, string]> = [
      ["roomz_connections_open", "gauge"],
      ["roomz_users_connected", "gauge"],
      ["roomz_messages_accepted_total", "counter"],
      ["roomz_messages_delivered_total", "counter"],
      ["roomz_magic_links_total", "counter"],
      ["roomz_auth_failures_total", "counter"],
      ["roomz_slow_consumers_dropped_total", "counter"],
    ];
    for (const [name, type] of types) expect(text).toMatch(new RegExp(`^# TYPE ${name} ${type}$`, "m"));
    const values = await metrics(server);
    for (const name of ["roomz_connections_open", "roomz_users_connected", "roomz_messages_accepted_total", "roomz_messages_delivered_total", "roomz_slow_consumers_dropped_total"])
      expect(values.has(name)).toBe(true);
    for (const result of ["requested", "sent", "refused", "failed"]) expect(values.has(`roomz_magic_links_total{result="${result}"}`)).toBe(true);
  });

  test("/metrics counters move: magic links requested/sent/refused, auth failures by reason", async () => {
    const before = await metrics(server);
    const from = server.output.length;
    expect((await requestLink(server, "ops@example.com")).status).toBe(200);
    expect((await requestLink(server, "unknown-ops@example.com")).status).toBe(200);
    await server.waitForOutput(/magic-link ops@example\.com /, 5000, from);
    await expectProblem(await me(server, bearer("a.b.c")), 401, "unauthenticated", "/auth/me");
    await expectProblem(await postJson(server, "/auth/verify", { token: "Z".repeat(43) }), 400, "invalid_token", "/auth/verify");
    const after = await metrics(server);
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('roomz_magic_links_total{result="requested"}')).toBe(2);
    expect(delta('roomz_magic_links_total{result="sent"}')).toBe(1);
    expect(delta('roomz_magic_links_total{result="refused"}')).toBe(1);
    expect(delta('roomz_magic_links_total{result="failed"}')).toBe(0);
    const failures = [...after.keys()].filter((k) => /^roomz_auth_failures_total\{reason="[^"]+"\}$/.test(k));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.reduce((sum, k) => sum + delta(k), 0)).toBe(2);
  });

  for (const path of ["/", "/rooms/general", "/settings/devices?tab=1", "/some/deep/app/route"]) {
    test(`the web app answers ${path} with HTML and its security headers`, async () => {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).toMatch(/default-src/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(await res.text()).toMatch(/<html/i);
    });
  }

  test("the verify page carries CSP frame-ancestors 'none' and nosniff too", async () => {
    const res = await fetch(`${server.url}/auth/verify?token=${"A".repeat(43)}`);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-security-policy") ?? "").toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("shutdown", () => {
  test("SIGTERM ends the server with exit status 0 and it stops answering", async () => {
    const server = await start({ ALLOWED_EMAILS: "bye@example.com" });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await server.stop("SIGTERM")).toBe(0);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  test("SIGINT ends the server with exit status 0", async () => {
    const server = await start({ ALLOWED_EMAILS: "bye@example.com" });
    expect(await server.stop("SIGINT")).toBe(0);
  });

  test("/healthz after SIGTERM: 503 unavailable problems or a closed port, never 200 after a 503; exit 0", async () => {
    const server = await start({ ALLOWED_EMAILS: "bye@example.com" });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    server.proc.kill("SIGTERM");
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      try {
        const res = await fetch(`${server.url}/healthz`);
        seen.push(res.status);
        if (res.status === 503) await expectProblem(res, 503, "unavailable", "/healthz");
      } catch {
        break;
      }
    }
    const firstUnavailable = seen.indexOf(503);
    if (firstUnavailable >= 0) expect(seen.slice(firstUnavailable).every((s) => s === 503)).toBe(true);
    await server.proc.exited;
    expect(server.proc.exitCode).toBe(0);
  });
});
