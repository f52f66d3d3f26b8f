/**
 * Shared checks for the HTTP contract tests (PROTOCOL.md sections 1 and 3): problem
 * documents, posting JSON, minting JWTs with a known key, reading the metrics, and the
 * end-of-file scan that no token or JWT was printed anywhere but the console sender's
 * magic-link line.
 */
import { afterAll, expect, setDefaultTimeout } from "bun:test";
import { createHmac } from "node:crypto";
import { startServer, type TestServer } from "../helpers/server";

// Each test may start a real server process; on a busy machine that takes seconds.
setDefaultTimeout(30_000);

export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A JWT_SECRET_KEY the tests know, so they can mint their own tokens. */
export const KNOWN_SECRET = "test-secret-key-0123456789-abcdefghijklmnop";

export interface ProblemDoc {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
}

/** Asserts `res` is a complete RFC 9457 problem document and returns it. */
export async function expectProblem(res: Response, status: number, code: string, instance: string): Promise<ProblemDoc> {
  const text = await res.text();
  const context = `${res.status} ${res.headers.get("content-type")} ${text.slice(0, 400)}`;
  expect(res.status, context).toBe(status);
  expect(res.headers.get("content-type") ?? "", context).toMatch(/^application\/problem\+json(;|$)/);
  let body: ProblemDoc;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`problem body is not JSON: ${context}`);
  }
  expect(body.type).toBe("about:blank");
  expect(typeof body.title).toBe("string");
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.status).toBe(status);
  expect(typeof body.detail).toBe("string");
  expect(body.detail.length).toBeGreaterThan(10);
  expect(body.instance).toBe(instance);
  expect(body.code).toBe(code);
  // Nothing answers with a stack trace.
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+/);
  // No CORS headers, ever.
  expect(res.headers.get("access-control-allow-origin")).toBeNull();
  return body;
}

export function postJson(server: TestServer, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    redirect: "manual",
  });
}

export function requestLink(server: TestServer, email: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return postJson(server, "/auth/request-magic-link", { email }, headers);
}

export function me(server: TestServer, headers: Record<string, string> = {}, path = "/auth/me"): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers, redirect: "manual" });
}

export function bearer(jwt: string): Record<string, string> {
  return { authorization: `Bearer ${jwt}` };
}

export function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

export function decodeJwtPart(part: string): any {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

/** Builds a JWT with any header and claims, signed HMAC-SHA256 (or `hash`) with `secret`. */
export function mintJwt(header: object, claims: object, secret: string, hash: "sha256" | "sha512" = "sha256"): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac(hash, secret).update(input).digest("base64url")}`;
}

export function sessionClaims(email: string, overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { sub: `user:${email}`, email, iat: now, exp: now + 3600, jti: crypto.randomUUID(), ver: 0, ...overrides };
}

/** The magic-link console line's token for `email` printed after `from`, if any. */
export function consoleTokens(server: TestServer, email: string, from = 0): string[] {
  const escaped = email.replace(/[.+*?^$()[\]{}|\\]/g, "\\$&");
  const re = new RegExp(`magic-link ${escaped} \\S+token=([A-Za-z0-9_-]+)`, "g");
  return [...server.output.slice(from).matchAll(re)].map((m) => m[1]);
}

/** Parses the Prometheus text of the server's metrics listener into `name{labels}` → value. */
export async function metrics(server: TestServer): Promise<Map<string, number>> {
  const res = await fetch(server.metricsUrl);
  expect(res.status).toBe(200);
  const text = await res.text();
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    values.set(match[1], Number(match[2]));
  }
  return values;
}

/** Polls until `check` passes or `timeoutMs` runs out (then throws its last error). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(50);
    }
  }
}

/**
 * Fails when anything that looks like a magic-link token or a JWT appears in `output`
 * except a token on the console sender's own `magic-link <email> <url>` line, and when
 * any of the `secrets` (tokens and JWTs the test saw) appears outside such a line.
 */
export function expectNoSecretsInOutput(output: string, secrets: Iterable<string> = []) {
  const lines = output.split("\n");
  const magicLine = /^magic-link \S+@\S+ https?:\/\/\S+\/auth\/verify\?token=[A-Za-z0-9_-]+$/;
  const offending: string[] = [];
  for (const line of lines) {
    if (magicLine.test(line)) continue;
    if (/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\./.test(line)) offending.push(`JWT: ${line}`);
    else if (/(^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{43}([^A-Za-z0-9_-]|$)/.test(line)) offending.push(`token-like: ${line}`);
    else for (const secret of secrets) if (secret.length >= 16 && line.includes(secret)) offending.push(`secret: ${line}`);
  }
  expect(offending).toEqual([]);
}

/**
 * The servers of one test file: `start` launches one and keeps it; after the file each is
 * stopped and its output checked for stack traces and for every string in `secrets`.
 */
export function serversOfThisFile() {
  const servers: TestServer[] = [];
  const secrets: string[] = [];
  afterAll(async () => {
    for (const server of servers) {
      await server.stop();
      expectNoSecretsInOutput(server.output, secrets);
    }
  });
  return {
    servers,
    secrets,
    async start(env: Record<string, string>, dataDir?: string): Promise<TestServer> {
      const server = await startServer({ env, dataDir });
      servers.push(server);
      return server;
    },
  };
}
