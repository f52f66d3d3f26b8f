/**
 * Secrets and isolation (issue 9): magic-link tokens only hashed at rest and never printed
 * except on the console sender's line, no JWT in any output, the allow-list can't be
 * probed through the answers, and one user's connections never see another user's frames.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { allServerOutput, requestToken, signIn, startServer, type TestServer } from "../helpers/server";
import { rawHttp } from "../helpers/tcp";
import { WsClient } from "../helpers/ws-client";
import { JWT_PATTERN, leakViolations, stackTraceLines } from "./support";

const SECRET = "secrets-test-secret-key-0123456789abcdefgh";
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop("SIGKILL");
});

async function start(env: Record<string, string> = {}) {
  const s = await startServer({ env: { JWT_SECRET_KEY: SECRET, ...env } });
  servers.push(s);
  return s;
}

describe("security: secrets at rest and in logs", () => {
  test("magic-link tokens are stored only as sha256 hashes; no token or session JWT in any file of the data directory", async () => {
    const server = await start({ MAGIC_LINK_RATE_LIMIT: "100" });
    const used = await requestToken(server, "alice@example.com");
    const unused = await requestToken(server, "alice@example.com");
    const verify = await fetch(`${server.url}/auth/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: used }) });
    const { session } = await verify.json();
    // One revoked session too, so the sessions tables hold something.
    await fetch(`${server.url}/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${session}` } });
    // Stop hard, so the WAL is left as it was (a clean stop would checkpoint it).
    await server.stop("SIGKILL");

    // Every file below the data directory, uploads (files/) included.
    const files = (readdirSync(server.dataDir, { recursive: true }) as string[]).filter((f) => statSync(join(server.dataDir, f)).isFile());
    expect(files).toContain("roomz.sqlite");
    for (const file of files) {
      const bytes = readFileSync(join(server.dataDir, file)).toString("latin1");
      for (const secret of [used, unused, session]) expect({ file, found: bytes.includes(secret) }).toEqual({ file, found: false });
      expect({ file, jwt: bytes.match(JWT_PATTERN) }).toEqual({ file, jwt: null });
    }

    const db = new Database(join(server.dataDir, "roomz.sqlite"));
    try {
      const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((t) => t.name);
      const everything = tables.flatMap((table) => db.query(`SELECT * FROM "${table}"`).values().flat().map(String));
      for (const secret of [used, unused, session]) expect(everything.filter((v) => v.includes(secret))).toEqual([]);
      for (const token of [used, unused]) {
        const hash = createHash("sha256").update(token).digest("hex");
        expect(db.query("SELECT count(*) AS n FROM magic_links WHERE token_hash = ?").get(hash)).toEqual({ n: 1 });
      }
    } finally {
      db.close();
    }
  }, 30000);

  test("each link is printed exactly once, on its one console line; refused addresses print nothing", async () => {
    const server = await start({ MAGIC_LINK_RATE_LIMIT: "100" });
    const tokens = [await requestToken(server, "bob@example.com"), await requestToken(server, "bob@example.com")];
    await fetch(`${server.url}/auth/request-magic-link`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"email":"mallory@example.com"}' });
    await Bun.sleep(200);
    for (const token of tokens) expect(server.output.split("\n").filter((l) => l.includes(token))).toEqual([
      `magic-link bob@example.com http://localhost:${server.port}/auth/verify?token=${token}`,
    ]);
    expect(server.output).not.toContain("mallory");
  });

  test("Host header poisoning: links are built from the configured origin, never from Host or X-Forwarded-*", async () => {
    for (const env of [{}, { PUBLIC_URL: "https://chat.example.com" }, { TRUST_PROXY: "true" }] as Array<Record<string, string>>) {
      const server = await start({ MAGIC_LINK_RATE_LIMIT: "100", ...env });
      const from = server.output.length;
      const answer = await rawHttp(
        server.port,
        `POST /auth/request-magic-link HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\nForwarded: host=evil.example;proto=https\r\nContent-Type: application/json\r\nContent-Length: 29\r\nConnection: close\r\n\r\n{"email":"alice@example.com"}`,
        5000,
      );
      expect(answer.raw).toStartWith("HTTP/1.1 200");
      const line = (await server.waitForOutput(/magic-link alice@example\.com (\S+)/, 10000, from))[1];
      expect(new URL(line).origin).toBe(env.PUBLIC_URL ?? `http://localhost:${server.port}`);
      expect(line).not.toContain("evil");
    }
  }, 30000);

  test("the allow-list can't be probed: allowed and unknown addresses get identical answers (besides Date)", async () => {
    const server = await start({ MAGIC_LINK_RATE_LIMIT: "2", MAGIC_LINK_IP_RATE_LIMIT: "1000" });
    const ask = async (email: string) => {
      const res = await fetch(`${server.url}/auth/request-magic-link`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email }) });
      const headers = [...res.headers].filter(([k]) => k !== "date").sort();
      return { status: res.status, headers, body: await res.text() };
    };
    const pairs: Array<[string, string]> = [
      ["alice@example.com", "mallory@example.com"],
      ["  Carol@Example.COM ", "  Trudy@Example.COM "],
    ];
    for (const [allowed, unknown] of pairs) {
      const a = await ask(allowed);
      const u = await ask(unknown);
      expect(a.status).toBe(200);
      expect(u).toEqual(a);
    }
    // The limits too: both are refused alike once over it.
    await ask("alice@example.com");
    await ask("mallory@example.com");
    const a = await ask("alice@example.com");
    const u = await ask("mallory@example.com");
    expect(a.status).toBe(429);
    expect({ ...u, headers: u.headers.filter(([k]) => k !== "retry-after") }).toEqual({ ...a, headers: a.headers.filter(([k]) => k !== "retry-after") });
    expect(u.headers.map(([k]) => k)).toEqual(a.headers.map(([k]) => k));
  });
});

describe("security: limits can't be dodged", () => {
  const ask = (server: TestServer, email: string, xff?: string) =>
    fetch(`${server.url}/auth/request-magic-link`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(xff === undefined ? {} : { "x-forwarded-for": xff }) },
      body: JSON.stringify({ email }),
    });

  test("without TRUST_PROXY, a forged X-Forwarded-For does not reset the per-address limit", async () => {
    const server = await start({ MAGIC_LINK_IP_RATE_LIMIT: "3", MAGIC_LINK_RATE_LIMIT: "100" });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await ask(server, `p${i}@example.com`, `10.0.0.${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  test("with TRUST_PROXY, only the rightmost X-Forwarded-For entry counts: forged entries on the left don't help", async () => {
    const server = await start({ MAGIC_LINK_IP_RATE_LIMIT: "3", MAGIC_LINK_RATE_LIMIT: "100", TRUST_PROXY: "true" });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await ask(server, `q${i}@example.com`, `203.0.113.${i}, 198.51.100.7`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // Another real client (another rightmost address) is not affected.
    expect((await ask(server, "r@example.com", "198.51.100.8")).status).toBe(200);
  });

  test("a burst of 40 concurrent upgrades can't pass MAX_CONNECTIONS_PER_USER=5", async () => {
    const server = await start({ MAX_CONNECTIONS_PER_USER: "5" });
    const jwt = await signIn(server, "alice@example.com");
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => WsClient.connect(server.wsUrl, { jwt, timeoutMs: 5000 })));
    const open = results.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<WsClient>).value);
    await Bun.sleep(300);
    expect(open.filter((ws) => ws.isOpen).length).toBe(5);
    for (const ws of open) ws.close();
  }, 30000);
});

describe("security: isolation between users", () => {
  test("20 users × 3 connections sending concurrently: no connection ever receives another user's frame", async () => {
    const users = Array.from({ length: 20 }, (_, i) => `iso${i}@example.com`);
    const server = await start({ ALLOWED_EMAILS: users.join(","), MAGIC_LINK_IP_RATE_LIMIT: "1000", MESSAGE_RATE_LIMIT: "1000" });
    const PER_CONNECTION = 10;
    const sessions = await Promise.all(users.map((email) => signIn(server, email)));
    const clients = await Promise.all(
      users.flatMap((email, u) => [0, 1, 2].map(async (c) => ({ email, c, ws: await WsClient.connect(server.wsUrl, { jwt: sessions[u], since: 0 }) }))),
    );
    await Promise.all(
      clients.map(async ({ email, c, ws }) => {
        await Promise.all(
          Array.from({ length: PER_CONNECTION }, (_, i) => ws.sendMessage(`${email} conn ${c} #${i}`, `${email}-${c}-${i}`)),
        );
      }),
    );
    await Promise.all(clients.map(({ ws }) => ws.waitForMessages(3 * PER_CONNECTION)));
    await Bun.sleep(200);
    for (const { email, ws } of clients) {
      const channel = `user:${email}`;
      const foreign = ws.frames.filter((f) => {
        const d: any = f.data ?? {};
        if (f.type === "message") return d.user.id !== channel || !d.content.startsWith(`${email} `);
        if (f.type === "user_joined" || f.type === "user_left" || f.type === "display_name_changed") return d.user.id !== channel;
        if (f.type === "authenticated") return d.channel !== channel || d.connections.length > 3;
        if (f.type === "history") return d.messages.some((m: any) => m.user.id !== channel);
        return false;
      });
      expect({ email, foreign }).toEqual({ email, foreign: [] });
      const seqs = ws.messages().map((m) => m.seq);
      expect(seqs).toEqual(Array.from({ length: 3 * PER_CONNECTION }, (_, i) => i + 1));
    }
    // History, asked for concurrently by everyone, holds only the asker's messages.
    const pages = await Promise.all(clients.map(({ ws }) => ws.request("history", { limit: 200 })));
    pages.forEach((page, i) => {
      const channel = `user:${clients[i].email}`;
      expect(page.data.messages.length).toBe(3 * PER_CONNECTION);
      expect(page.data.messages.filter((m: any) => m.user.id !== channel)).toEqual([]);
    });
    for (const { ws } of clients) ws.close();
  }, 60000);

  test("no token, JWT or stack trace in anything these servers printed", () => {
    expect(leakViolations(allServerOutput)).toEqual([]);
    expect(stackTraceLines(allServerOutput)).toEqual([]);
  });
});
