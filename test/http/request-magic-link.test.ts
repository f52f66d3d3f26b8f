/**
 * POST /auth/request-magic-link (PROTOCOL.md section 1): validation, normalisation, the
 * allow-list probe, both rate limits with Retry-After, TRUST_PROXY and X-Forwarded-For.
 */
import { Database } from "bun:sqlite";
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir, type TestServer } from "../helpers/server";
import { expectProblem } from "../helpers/problems";
import { consoleTokens, metrics, postJson, requestLink, serversOfThisFile } from "./support";

/** These cases edit the embedded store's SQLite file by hand; the Redis engine has none. */
const ONLY_EMBEDDED_STORE_CAN_BE_EDITED = process.env.ROOMZ_TEST_ENGINE === "redis";

const PATH = "/auth/request-magic-link";
const { start } = serversOfThisFile();

describe("bodies and addresses", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({
      ALLOWED_EMAILS: " Alice.Trim@Example.com , bob@example.com",
      MAGIC_LINK_RATE_LIMIT: "1000",
      MAGIC_LINK_IP_RATE_LIMIT: "1000",
    });
  });

  const badBodies: Array<[string, string]> = [
    ["not JSON", "email=alice@example.com"],
    ["empty body", ""],
    ["truncated JSON", '{"email": "alice@example.com"'],
    ["a JSON array", '["alice@example.com"]'],
    ["a JSON string", '"alice@example.com"'],
    ["JSON null", "null"],
    ["a JSON number", "42"],
    ["an object without email", '{"mail": "alice@example.com"}'],
    ["email a number", '{"email": 5}'],
    ["email null", '{"email": null}'],
    ["email an array", '{"email": ["alice@example.com"]}'],
    ["email an object", '{"email": {"address": "alice@example.com"}}'],
  ];
  for (const [name, body] of badBodies) {
    test(`400 invalid_request for ${name}`, async () => {
      await expectProblem(await postJson(server, PATH, body), 400, "invalid_request", PATH);
    });
  }

  const implausible: Array<[string, string]> = [
    ["too long (255 characters)", `${"a".repeat(64)}@${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.${"e".repeat(7)}`],
    ["a local part of 65 characters", `${"a".repeat(65)}@example.com`],
    ["two @", "alice@bob@example.com"],
    ["no @", "alice.example.com"],
    ["an empty local part", "@example.com"],
    ["an empty domain", "alice@"],
    ["a space in the local part", "ali ce@example.com"],
    ["a space in the domain", "alice@exa mple.com"],
    ["a tab in the local part", "ali\tce@example.com"],
    ["a control character", "ali\u0001ce@example.com"],
    ["a non-ASCII local part", "alïce@example.com"],
    ["a one-label domain", "alice@localhost"],
    ["an empty label", "alice@example..com"],
    ["a trailing dot", "alice@example.com."],
    ["an underscore in the domain", "alice@exa_mple.com"],
    ["a non-ASCII domain", "alice@exämple.com"],
    ["a bracketed domain", "alice@[127.0.0.1]"],
    ["only white space", "   "],
    ["the empty string", ""],
  ];
  for (const [name, email] of implausible) {
    test(`400 invalid_request for an address with ${name}`, async () => {
      await expectProblem(await requestLink(server, email), 400, "invalid_request", PATH);
    });
  }

  const plausible: Array<[string, string]> = [
    ["exactly 254 characters", `${"a".repeat(64)}@${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.${"e".repeat(6)}`],
    ["a 64-character local part", `${"a".repeat(64)}@example.com`],
    ["printable punctuation", "o'brien+tag!#$%&*/=?^_`{|}~-x@example.com"],
    ["digits and hyphens in labels", "x@mail-1.example-2.co"],
  ];
  for (const [name, email] of plausible) {
    test(`200 for a plausible address with ${name}`, async () => {
      expect(email.length).toBeLessThanOrEqual(254);
      const res = await requestLink(server, email);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await res.json()).toEqual({ status: "ok", message: expect.any(String) });
    });
  }

  test("the address is trimmed and lower-cased before use; the link is built from http://localhost:<PORT>", async () => {
    const from = server.output.length;
    const res = await requestLink(server, " \t ALICE.trim@EXAMPLE.Com \n");
    expect(res.status).toBe(200);
    const line = await server.waitForOutput(/^magic-link .*$/m, 5000, from);
    expect(line[0]).toMatch(new RegExp(`^magic-link alice\\.trim@example\\.com http://localhost:${server.port}/auth/verify\\?token=[A-Za-z0-9_-]{43,}$`));
    // A token is at least 32 random bytes in base64url: 43 characters or more.
    const [token] = consoleTokens(server, "alice.trim@example.com", from);
    expect(token.length).toBeGreaterThanOrEqual(43);
    const verified = await postJson(server, "/auth/verify", { token });
    expect(verified.status).toBe(200);
    expect((await verified.json()).user).toEqual({ id: "user:alice.trim@example.com", email: "alice.trim@example.com" });
  });

  test("each console line is exactly one line per link, and every link has its own token", async () => {
    const from = server.output.length;
    for (let i = 0; i < 3; i++) expect((await requestLink(server, "bob@example.com")).status).toBe(200);
    await server.waitForOutput(/(magic-link bob@example\.com [^\n]*\n[^]*){3}/, 5000, from);
    await Bun.sleep(100);
    const tokens = consoleTokens(server, "bob@example.com", from);
    expect(tokens.length).toBe(3);
    expect(new Set(tokens).size).toBe(3);
    expect(server.output.slice(from).match(/magic-link/g)?.length).toBe(3);
    // A newer link does not invalidate older unexpired ones.
    for (const token of tokens.reverse()) expect((await postJson(server, "/auth/verify", { token })).status).toBe(200);
  });
});

describe("the allow-list can't be probed", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({ ALLOWED_EMAILS: "known@example.com", MAGIC_LINK_RATE_LIMIT: "100", MAGIC_LINK_IP_RATE_LIMIT: "1000" });
  });

  test("allowed and unknown addresses get the identical 200 answer; only the allowed one gets a console line", async () => {
    const before = await metrics(server);
    const from = server.output.length;
    const allowed = await requestLink(server, "known@example.com");
    const unknown = await requestLink(server, "stranger@example.com");
    expect(allowed.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(unknown.headers.get("content-type")).toBe(allowed.headers.get("content-type"));
    expect(await unknown.text()).toBe(await allowed.text());
    await server.waitForOutput(/magic-link known@example\.com /, 5000, from);
    await Bun.sleep(500);
    expect(server.output.slice(from)).not.toContain("stranger@example.com");
    const after = await metrics(server);
    expect(after.get('roomz_magic_links_total{result="requested"}')).toBe(before.get('roomz_magic_links_total{result="requested"}')! + 2);
    expect(after.get('roomz_magic_links_total{result="sent"}')).toBe(before.get('roomz_magic_links_total{result="sent"}')! + 1);
    expect(after.get('roomz_magic_links_total{result="refused"}')).toBe(before.get('roomz_magic_links_total{result="refused"}')! + 1);
  });

  // Timing is compared statistically by bench/probe/allow-list-timing.ts, not asserted
  // here; that the answer never waits for the mail is proven in resend.test.ts.
});

describe("rate limit per address", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({ ALLOWED_EMAILS: "limited@example.com", MAGIC_LINK_RATE_LIMIT: "3", MAGIC_LINK_IP_RATE_LIMIT: "1000" });
  });

  test("the 4th request for an address in the hour is 429 rate_limited with Retry-After, whatever its case and spacing", async () => {
    const start = server.output.length;
    for (let i = 0; i < 3; i++) expect((await requestLink(server, "limited@example.com")).status).toBe(200);
    await server.waitForOutput(/(magic-link limited@example\.com [^\n]*\n[^]*){3}/, 5000, start);
    await Bun.sleep(100);
    const from = server.output.length;
    for (const variant of ["limited@example.com", "  LIMITED@Example.COM "]) {
      const res = await requestLink(server, variant);
      const retryAfter = res.headers.get("retry-after");
      await expectProblem(res, 429, "rate_limited", PATH);
      expect(retryAfter).toMatch(/^\d+$/);
      // The window is an hour and every hit is seconds old.
      expect(Number(retryAfter)).toBeGreaterThan(3500);
      expect(Number(retryAfter)).toBeLessThanOrEqual(3600);
    }
    await Bun.sleep(200);
    expect(server.output.slice(from)).not.toContain("magic-link limited@example.com");
  });

  test("another address is not affected", async () => {
    expect((await requestLink(server, "other@example.com")).status).toBe(200);
  });

  test("concurrent requests can't slip past the limit", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => requestLink(server, "burst@example.com")));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
  });

  test("unknown addresses count toward the limit too", async () => {
    for (let i = 0; i < 3; i++) expect((await requestLink(server, "nobody@example.com")).status).toBe(200);
    await expectProblem(await requestLink(server, "nobody@example.com"), 429, "rate_limited", PATH);
  });
});

describe("rate limit per client address", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({ ALLOWED_EMAILS: "ip1@example.com", MAGIC_LINK_RATE_LIMIT: "100", MAGIC_LINK_IP_RATE_LIMIT: "4" });
  });

  test("invalid requests don't count; the 5th valid request from one client is 429 with Retry-After", async () => {
    for (let i = 0; i < 6; i++) expect((await requestLink(server, "not an address")).status).toBe(400);
    const emails = ["ip1@example.com", "ip2@example.com", "ip3@example.com", "ip4@example.com"];
    for (const email of emails) expect((await requestLink(server, email)).status).toBe(200);
    const res = await requestLink(server, "ip5@example.com");
    const retryAfter = res.headers.get("retry-after");
    await expectProblem(res, 429, "rate_limited", PATH);
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThan(3500);
    expect(Number(retryAfter)).toBeLessThanOrEqual(3600);
  });

  test("X-Forwarded-For is ignored without TRUST_PROXY", async () => {
    const res = await requestLink(server, "ip6@example.com", { "x-forwarded-for": "203.0.113.77" });
    await expectProblem(res, 429, "rate_limited", PATH);
  });
});

describe("TRUST_PROXY=true: the client address is the rightmost X-Forwarded-For entry", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({ ALLOWED_EMAILS: "proxy@example.com", TRUST_PROXY: "true", MAGIC_LINK_RATE_LIMIT: "100", MAGIC_LINK_IP_RATE_LIMIT: "2" });
  });

  test("leftmost entries (client-controlled) don't give a new budget; the rightmost does", async () => {
    expect((await requestLink(server, "p1@example.com", { "x-forwarded-for": "198.51.100.1, 203.0.113.10" })).status).toBe(200);
    expect((await requestLink(server, "p2@example.com", { "x-forwarded-for": "198.51.100.2,203.0.113.10" })).status).toBe(200);
    await expectProblem(
      await requestLink(server, "p3@example.com", { "x-forwarded-for": "198.51.100.3, 203.0.113.10" }),
      429,
      "rate_limited",
      PATH,
    );
    expect((await requestLink(server, "p4@example.com", { "x-forwarded-for": "203.0.113.10, 203.0.113.11" })).status).toBe(200);
    expect((await requestLink(server, "p5@example.com", { "x-forwarded-for": "203.0.113.12" })).status).toBe(200);
  });

  test("IPv6 clients count by their /64: another address in the same /64 has no new budget, another /64 has", async () => {
    const other = await start({ ALLOWED_EMAILS: "proxy@example.com", TRUST_PROXY: "true", MAGIC_LINK_IP_RATE_LIMIT: "2" });
    expect((await requestLink(other, "v1@example.com", { "x-forwarded-for": "2001:db8:7:7::1" })).status).toBe(200);
    expect((await requestLink(other, "v2@example.com", { "x-forwarded-for": "2001:db8:7:7::2" })).status).toBe(200);
    await expectProblem(await requestLink(other, "v3@example.com", { "x-forwarded-for": "2001:db8:7:7:ffff::3" }), 429, "rate_limited", PATH);
    expect((await requestLink(other, "v4@example.com", { "x-forwarded-for": "2001:db8:7:8::1" })).status).toBe(200);
  });

  test("TRUST_PROXY=1 is accepted as true", async () => {
    const other = await start({ ALLOWED_EMAILS: "proxy@example.com", TRUST_PROXY: "1", MAGIC_LINK_IP_RATE_LIMIT: "1" });
    expect((await requestLink(other, "q1@example.com", { "x-forwarded-for": "203.0.113.20" })).status).toBe(200);
    expect((await requestLink(other, "q2@example.com", { "x-forwarded-for": "203.0.113.21" })).status).toBe(200);
    expect((await requestLink(other, "q3@example.com", { "x-forwarded-for": "203.0.113.21" })).status).toBe(429);
  });
});

describe.skipIf(ONLY_EMBEDDED_STORE_CAN_BE_EDITED)("the rate limits are sliding windows of one hour (hit times shifted in the stopped server's database)", () => {
  // The schema is the embedded store's own: rate_hits(key, at). This test ages the hits
  // instead of waiting an hour.
  test("Retry-After counts down to when the oldest hit leaves the window; once it has, the address may ask again", async () => {
    const dataDir = tempDir();
    const server = await start({ ALLOWED_EMAILS: "slide@example.com", MAGIC_LINK_RATE_LIMIT: "2", MAGIC_LINK_IP_RATE_LIMIT: "1000" }, dataDir);
    for (let i = 0; i < 2; i++) expect((await requestLink(server, "slide@example.com")).status).toBe(200);
    await expectProblem(await requestLink(server, "slide@example.com"), 429, "rate_limited", PATH);

    const age = (offsets: number[]) => {
      const db = new Database(join(dataDir, "roomz.sqlite"));
      const rows = db.query("SELECT rowid AS id FROM rate_hits WHERE key LIKE '%slide@example.com%' ORDER BY at").all() as Array<{ id: number }>;
      expect(rows.length).toBe(2);
      rows.forEach((row, i) => db.query("UPDATE rate_hits SET at = ? WHERE rowid = ?").run(Date.now() - offsets[i], row.id));
      db.close();
    };

    // Oldest hit 59 min 30 s ago: still limited, for about 30 more seconds.
    expect(await server.stop()).toBe(0);
    age([3_570_000, 1_000]);
    await server.start();
    const res = await requestLink(server, "slide@example.com");
    const retryAfter = Number(res.headers.get("retry-after"));
    await expectProblem(res, 429, "rate_limited", PATH);
    expect(retryAfter).toBeGreaterThanOrEqual(20);
    expect(retryAfter).toBeLessThanOrEqual(31);

    // Oldest hit just over an hour ago: one hit left in the window, so one more request is allowed.
    expect(await server.stop()).toBe(0);
    age([3_601_000, 1_000]);
    await server.start();
    expect((await requestLink(server, "slide@example.com")).status).toBe(200);
    await expectProblem(await requestLink(server, "slide@example.com"), 429, "rate_limited", PATH);
  });
});
