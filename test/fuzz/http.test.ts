/**
 * HTTP fuzzing (issue 9) with a fixed seed: thousands of generated requests (random
 * methods, paths, bodies and content types, oversized bodies, header abuse: huge headers,
 * odd Host, bad cookies, bad Authorization). The server never crashes, every error is a
 * problem document with a known code, nothing answers with a stack trace, RSS stays
 * bounded. Hand-written raw requests cover what fetch() can't send.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { allServerOutput, startServer, type TestServer } from "../helpers/server";
import { leakViolations, problemViolations, rssBytes, STACK_TRACE, stackTraceLines } from "../security/support";
import { rawHttp } from "../helpers/tcp";
import { Rng } from "./prng";

const SEED = 0x5eed_0009;
const REQUESTS = 2500;
const CONCURRENCY = 24;

let server: TestServer;
let rssStart = 0;
beforeAll(async () => {
  server = await startServer({ env: { JWT_SECRET_KEY: "http-fuzz-secret-key-0123456789abcdefghij" } });
  for (let i = 0; i < 50; i++) await fetch(`${server.url}/healthz`);
  rssStart = rssBytes(server.proc.pid);
});
afterAll(async () => {
  await server?.stop("SIGKILL");
});

const KNOWN: Record<string, string[]> = {
  "/auth/request-magic-link": ["POST"],
  "/auth/verify": ["GET", "POST"],
  "/auth/me": ["GET"],
  "/auth/logout": ["POST"],
  "/auth/logout-all": ["POST"],
  "/healthz": ["GET"],
};

/** Percent-encodes every byte (lone surrogates become U+FFFD, as any client would send them). */
function pct(text: string): string {
  return [...Buffer.from(text, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
}

function generateRequest(rng: Rng, base: string, port: number) {
  const method = rng.pick(["GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND", "PURGE"]);
  const paths = [
    ...Object.keys(KNOWN),
    "/", "/chat", "/auth", "/auth/", "/auth/nope", "/auth/verify/extra", "/assets/missing.js", "/favicon.ico", "/ws",
    "/%2e%2e/%2e%2e/etc/passwd", "/auth/%ff%fe%00", "/metrics", "/metrics/", "/healthz?probe=1", "//auth//me", "/auth/ME",
    `/auth/verify?token=${pct(rng.oddString(60))}`, `/auth/verify?token=${"A".repeat(rng.pick([10, 43, 200, 5000]))}`,
    `/${pct(rng.oddString(40))}`, `/auth/${"x".repeat(rng.pick([100, 4000]))}`,
  ];
  const path = rng.pick(paths);
  const headers: Record<string, string> = {};
  if (rng.chance(0.6))
    headers["content-type"] = rng.pick([
      "application/json", "application/json; charset=utf-16", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x",
      "application/problem+json", "application/octet-stream", "", "application/json;;;", "x/" + "y".repeat(300),
    ]);
  if (rng.chance(0.25)) headers.origin = rng.pick([`http://127.0.0.1:${port}`, "http://evil.example", "null", "", "http://127.0.0.1", "javascript:alert(1)"]);
  if (rng.chance(0.3))
    headers.authorization = rng.pick([
      "Bearer", "Bearer ", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyOmFsaWNlQGV4YW1wbGUuY29tIn0.", "Basic YWxpY2U6cGFzcw==",
      `Bearer ${"a".repeat(rng.pick([10, 5000]))}`, "Bearer a.b.c", "Bearer ..", `Bearer eyJ${"x".repeat(20)}.eyJ${"y".repeat(30)}.${"z".repeat(43)}`,
      "bearer " + rng.oddString(30).replace(/[^\x20-\x7e]/g, ""),
    ]);
  if (rng.chance(0.3))
    headers.cookie = rng.pick([
      "session_token=", "session_token=garbage", "session_token=a.b.c; session_token=d.e.f", ";;;=;", "session_token", `session_token=${"x".repeat(6000)}`,
      "session_token=eyJhbGciOiJIUzI1NiJ9.e30.AAAA", "a=b; " + "c=d; ".repeat(200),
    ]);
  if (rng.chance(0.15)) headers["x-forwarded-for"] = rng.pick(["1.2.3.4", "::1, 999.999.1.1", "x".repeat(2000), ""]);
  if (rng.chance(0.1)) headers[`x-${rng.int(0, 99)}`] = "v".repeat(rng.pick([1, 1000, 7000]));
  if (rng.chance(0.1)) headers.accept = rng.pick(["*/*", "text/html", "application/problem+json", "\u0001".replace(/[^\x20-\x7e]/g, "")]);
  let body: BodyInit | undefined;
  if (method !== "GET" && method !== "HEAD" && rng.chance(0.85)) {
    const kind = rng.int(0, 7);
    if (kind === 0) body = JSON.stringify(rng.value());
    else if (kind === 1) body = JSON.stringify({ email: rng.pick(["alice@example.com", "mallory@example.com", rng.oddString(30), 5, null, ["a@b.co"]]) });
    else if (kind === 2) body = JSON.stringify({ token: rng.pick([rng.oddString(50), "A".repeat(43), 12, null, {}]) });
    else if (kind === 3) body = rng.bytes(rng.int(0, 3000)) as Uint8Array<ArrayBuffer>;
    else if (kind === 4) body = `token=${pct(rng.oddString(50))}&token=x`;
    else if (kind === 5) body = "x".repeat(rng.pick([16 * 1024, 16 * 1024 + 1, 100_000]));
    else if (kind === 6) body = "[".repeat(rng.int(1000, 16000));
    else body = rng.oddString(500);
  }
  return { method, url: `${base}${path}`, path: path.split("?")[0], headers, body };
}

describe("fuzz: HTTP", () => {
  test(`${REQUESTS} generated requests (seed ${SEED.toString(16)}): every error a problem document with a known code, no 5xx, no stack trace, 405s name Allow`, async () => {
    const rng = new Rng(SEED);
    const violations: string[] = [];
    const statuses = new Map<number, number>();
    let index = 0;
    const worker = async () => {
      while (index < REQUESTS) {
        const i = index++;
        const r = generateRequest(rng, server.url, server.port);
        let res: Response;
        try {
          res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body, redirect: "manual", signal: AbortSignal.timeout(10000) });
        } catch (error) {
          // The client refusing to send (e.g. an invalid header) is not the server's doing.
          if (error instanceof TypeError || /invalid|header/i.test(String(error))) continue;
          violations.push(`#${i} ${r.method} ${r.path}: no answer (${error})`);
          continue;
        }
        const text = r.method === "HEAD" ? "" : await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const what = `#${i} ${r.method} ${r.path.slice(0, 60)} → ${res.status}`;
        if (res.status >= 500) violations.push(`${what}: server error ${text.slice(0, 200)}`);
        // The one HTML error the contract allows: the verify page for an unusable link.
        const verifyPage = r.method === "GET" && r.path === "/auth/verify" && res.status === 400 && (res.headers.get("content-type") ?? "").startsWith("text/html");
        if (res.status >= 400 && r.method !== "HEAD" && !verifyPage)
          for (const v of problemViolations({ status: res.status, contentType: res.headers.get("content-type") ?? "", body: text })) violations.push(`${what}: ${v}`);
        if (res.status === 405 && !res.headers.get("allow")) violations.push(`${what}: 405 without Allow`);
        if (STACK_TRACE.test(text)) violations.push(`${what}: stack trace`);
        const allowed = KNOWN[r.path];
        if (allowed && !allowed.includes(r.method) && r.method !== "HEAD" && res.status !== 405) violations.push(`${what}: known path, wrong method, not 405`);
        if (allowed && r.method === "HEAD" && res.status === 404) violations.push(`${what}: HEAD on a known path is 404`);
        if (r.body && typeof r.body === "string" && r.body.length > 16 * 1024 && r.method === "POST" && allowed?.includes("POST") && !r.headers.origin?.includes("evil") && res.status !== 413 && res.status !== 403)
          violations.push(`${what}: body of ${r.body.length} bytes not refused with 413`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    console.log(`HTTP fuzz: ${REQUESTS} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(violations.slice(0, 30)).toEqual([]);
    expect(server.proc.exitCode).toBeNull();
  }, 60000);

  test("odd Host headers: /healthz and /auth routes still answer by their path (never 404 or 503 for a known path)", async () => {
    const hosts = ["x", "a.b", "web", "app:80", "127.0.0.1", "localhost", `127.0.0.1:${server.port}`, "[::1]", "xn--e1afmkfd.xn--p1ai", "a".repeat(300)];
    const bad: string[] = [];
    for (const host of hosts)
      for (const [path, expected] of [["/healthz", 200], ["/auth/me", 401]] as const) {
        const answer = await rawHttp(server.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        if (answer.status !== expected) bad.push(`Host ${host.slice(0, 20)} GET ${path} → ${answer.status} ${answer.body.slice(0, 120)}`);
      }
    expect(bad).toEqual([]);
  });

  test("malformed Host (space, unclosed bracket, userinfo) and HTTP/1.0 without Host: a 4xx problem document or the right answer, never 503", async () => {
    const cases = [
      "GET /healthz HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: user@evil\r\nConnection: close\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n",
      "GET /healthz HTTP/1.0\r\n\r\n",
      'POST /auth/request-magic-link HTTP/1.1\r\nHost: a b\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    ];
    const bad: string[] = [];
    for (const request of cases) {
      const answer = await rawHttp(server.port, request);
      const line = JSON.stringify(request.split("\r\n").slice(0, 2).join(" | "));
      if (answer.status >= 500 || answer.status === 0) bad.push(`${line} → ${answer.status} ${answer.body.slice(0, 100)}`);
      else if (answer.status >= 400 && answer.body !== "") {
        const v = problemViolations({ status: answer.status, contentType: answer.headers.get("content-type") ?? "", body: answer.body });
        if (v.length) bad.push(`${line} → ${v.join(", ")}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test("every method on every known path: the listed ones answer, any other gets 405 with Allow (HEAD of a GET path is not 404)", async () => {
    const methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND"];
    const bad: string[] = [];
    for (const [path, allowed] of Object.entries(KNOWN))
      for (const method of methods) {
        if (allowed.includes(method)) continue;
        const answer = await rawHttp(server.port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        if (method === "HEAD" && allowed.includes("GET")) {
          if (answer.status === 404) bad.push(`HEAD ${path} → 404`);
          continue;
        }
        if (answer.status !== 405 || !answer.headers.get("allow")) bad.push(`${method} ${path} → ${answer.status} allow=${answer.headers.get("allow")}`);
      }
    expect(bad).toEqual([]);
  });

  test("bodies over 16 KiB get 413 too_large as a problem document, whatever their size or framing", async () => {
    const bad: string[] = [];
    for (const size of [16 * 1024 + 1, 200_000, 1_100_000, 3_000_000]) {
      const res = await fetch(`${server.url}/auth/request-magic-link`, { method: "POST", headers: { "content-type": "application/json" }, body: "x".repeat(size) });
      const text = await res.text();
      const v = problemViolations({ status: res.status, contentType: res.headers.get("content-type") ?? "", body: text });
      if (res.status !== 413 || v.length) bad.push(`Content-Length ${size} → ${res.status} ${v.join(", ")}`);
    }
    // Chunked (no Content-Length): the limit holds while reading.
    const chunks = new ReadableStream({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode("y".repeat(8192)));
        if (Math.random() < 0) controller.close();
      },
    });
    const streamed = await fetch(`${server.url}/auth/request-magic-link`, { method: "POST", headers: { "content-type": "application/json" }, body: chunks as any, signal: AbortSignal.timeout(5000) }).catch((e) => e);
    if (!(streamed instanceof Response) || streamed.status !== 413) bad.push(`chunked endless body → ${streamed instanceof Response ? streamed.status : streamed}`);
    // A small chunked body is read like any other.
    const small = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"email":'));
        controller.enqueue(new TextEncoder().encode('"nobody@example.com"}'));
        controller.close();
      },
    });
    const ok = await fetch(`${server.url}/auth/request-magic-link`, { method: "POST", headers: { "content-type": "application/json" }, body: small as any });
    if (ok.status !== 200) bad.push(`small chunked body → ${ok.status} ${await ok.text()}`);
    expect(bad).toEqual([]);
  }, 30000);

  test("header abuse the HTTP parser refuses itself (huge or control-character headers, garbage request lines) leaves the server serving", async () => {
    const huge = "h".repeat(80_000);
    const cases = [
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${huge}\r\n\r\n`,
      `GET /auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${huge}\r\n\r\n`,
      `GET /auth/me HTTP/1.1\r\nHost: x\r\nCookie: session_token=\u0001\u0002\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 500 }, (_, i) => `X-H${i}: v`).join("\r\n")}\r\n\r\n`,
      "GARBAGE\r\n\r\n",
      "\u0000\u0001\u0002\r\n\r\n",
      `GET /${"a".repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      "POST /auth/verify HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
      "POST /auth/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde",
      "POST /auth/verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
      "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
    ];
    const bad: string[] = [];
    for (const request of cases) {
      const answer = await rawHttp(server.port, request);
      if (answer.status >= 500 && answer.status !== 505) bad.push(`${JSON.stringify(request.slice(0, 50))} → ${answer.status}`);
      if (STACK_TRACE.test(answer.body)) bad.push(`${JSON.stringify(request.slice(0, 50))}: stack trace`);
    }
    expect(bad).toEqual([]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  test("after all of it: alive, /healthz 200, RSS bounded, no stack trace or secret in the output", async () => {
    expect(server.proc.exitCode).toBeNull();
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const rss = rssBytes(server.proc.pid);
    console.log(`HTTP fuzz RSS: start ${(rssStart / 2 ** 20).toFixed(1)} MB, end ${(rss / 2 ** 20).toFixed(1)} MB`);
    expect(rss).toBeLessThan(2 * rssStart + 50 * 2 ** 20);
    expect(stackTraceLines([server.output])).toEqual([]);
    expect(server.output.split("\n").filter((l) => / error /.test(l))).toEqual([]);
    expect(leakViolations(allServerOutput)).toEqual([]);
  });
});
