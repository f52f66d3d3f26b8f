/**
 * Shared pieces of the HTTP contract tests (PROTOCOL.md sections 1 and 3): posting JSON,
 * the known JWT key, reading the metrics, and the end-of-file scan that no token or JWT
 * was printed anywhere but the console sender's magic-link line.
 */
import { afterAll, expect, setDefaultTimeout } from "bun:test";
import { startServer, type TestServer } from "../helpers/server";

// Each test may start a real server process; on a busy machine that takes seconds.
setDefaultTimeout(30_000);

/** A JWT_SECRET_KEY the tests know, so they can mint their own tokens. */
export const KNOWN_SECRET = "test-secret-key-0123456789-abcdefghijklmnop";

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
