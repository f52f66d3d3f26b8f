/**
 * GET and POST /auth/verify (PROTOCOL.md section 1): the confirmation page that does not
 * consume the token, JSON and form verification, the session cookie, single use under
 * concurrency, expiry (crafted in the stopped server's database), and an address removed
 * from the allow-list.
 */
import { Database } from "bun:sqlite";
import { beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { requestToken, tempDir, type TestServer } from "../helpers/server";
import { decodeJwtPart } from "../helpers/jwt";
import { expectProblem } from "../helpers/problems";
import { TIMESTAMP } from "../helpers/timestamp";
import { until } from "../helpers/wait";
import { me, postJson, serversOfThisFile } from "./support";

/** These cases edit the embedded store's SQLite file by hand; the Redis engine has none. */
const ONLY_EMBEDDED_STORE_CAN_BE_EDITED = process.env.ROOMZ_TEST_ENGINE === "redis";

const PATH = "/auth/verify";
const { servers, secrets: seenSecrets, start } = serversOfThisFile();
async function token(server: TestServer, email: string) {
  const t = await requestToken(server, email);
  seenSecrets.push(t);
  return t;
}

function getPage(server: TestServer, t: string | null) {
  return fetch(`${server.url}${PATH}${t === null ? "" : `?token=${encodeURIComponent(t)}`}`, { redirect: "manual" });
}

function postForm(server: TestServer, body: string, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${PATH}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
    redirect: "manual",
  });
}

function expectPageHeaders(res: Response) {
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("cache-control")).toBe("no-store");
}

/** Parses a Set-Cookie value into its name, value and attributes (lower-cased names). */
function parseCookie(header: string) {
  const [pair, ...attrs] = header.split(";").map((s) => s.trim());
  const eq = pair.indexOf("=");
  const attributes = new Map<string, string>();
  for (const a of attrs) {
    const i = a.indexOf("=");
    attributes.set((i < 0 ? a : a.slice(0, i)).toLowerCase(), i < 0 ? "" : a.slice(i + 1));
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

describe("GET /auth/verify", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({ ALLOWED_EMAILS: "page@example.com,x<b>y&z@example.com", MAGIC_LINK_RATE_LIMIT: "100", MAGIC_LINK_IP_RATE_LIMIT: "1000" });
  });

  test("answers 200 HTML naming the address, with one form POSTing the token, and does not consume it", async () => {
    const t = await token(server, "page@example.com");
    for (let i = 0; i < 3; i++) {
      const res = await getPage(server, t);
      expect(res.status).toBe(200);
      expectPageHeaders(res);
      const html = await res.text();
      expect(html).toContain("page@example.com");
      const forms = html.match(/<form\b[^>]*>/gi) ?? [];
      expect(forms.length).toBe(1);
      expect(forms[0]).toMatch(/method=["']?post["']?/i);
      expect(forms[0]).toMatch(/action=["']?\/auth\/verify["']?/i);
      expect(html).toMatch(new RegExp(`<input[^>]*name=["']?token["']?[^>]*value=["']?${t}["']?|<input[^>]*value=["']?${t}["']?[^>]*name=["']?token`, "i"));
      expect(html).toMatch(/<button|type=["']?submit/i);
      expect(html).not.toMatch(/<script/i);
    }
    // Still usable after being looked at.
    const verified = await postJson(server, PATH, { token: t });
    expect(verified.status).toBe(200);
  });

  test("submitting the page's own form signs in (the browser flow)", async () => {
    const t = await token(server, "page@example.com");
    const html = await (await getPage(server, t)).text();
    const form = /<form\b([^>]*)>([^]*?)<\/form>/i.exec(html);
    expect(form).not.toBeNull();
    const action = /action=["']?([^"'\s>]+)/i.exec(form![1])![1];
    const fields = new URLSearchParams();
    for (const input of form![2].matchAll(/<input\b[^>]*>/gi)) {
      const name = /name=["']?([^"'\s>]+)/i.exec(input[0])?.[1];
      const value = /value=["']?([^"'\s>]*)/i.exec(input[0])?.[1] ?? "";
      if (name) fields.set(name, value.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, "&"));
    }
    const res = await fetch(new URL(action, server.url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: server.url },
      body: fields.toString(),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    const cookie = res.headers.getSetCookie()[0] ?? "";
    const jwt = /^session_token=([^;]+)/.exec(cookie)?.[1] ?? "";
    seenSecrets.push(jwt);
    expect((await me(server, { cookie: `session_token=${jwt}` })).status).toBe(200);
  });

  test("the address on the page is HTML-escaped", async () => {
    const t = await token(server, "x<b>y&z@example.com");
    const res = await getPage(server, t);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain("x<b>y");
    expect(html).toMatch(/x&(lt|#60|#x3c);b&(gt|#62|#x3e);y&(amp|#38|#x26);z@example\.com/i);
  });

  const unusable: Array<[string, string | null]> = [
    ["no token", null],
    ["an empty token", ""],
    ["an unknown token", "A".repeat(43)],
    ["a malformed token", "not a token at all <script>"],
  ];
  for (const [name, t] of unusable) {
    test(`${name} gets the 400 page with a way back to the sign-in form`, async () => {
      const res = await getPage(server, t);
      expect(res.status).toBe(400);
      expectPageHeaders(res);
      const html = await res.text();
      expect(html).toMatch(/<a\b[^>]*href=["']?\/["'>\s?]/i);
      expect(html).not.toMatch(/<form\b[^>]*action=["']?\/auth\/verify/i);
      expect(html).not.toContain("<script>");
    });
  }

  test("a used token gets the 400 page", async () => {
    const t = await token(server, "page@example.com");
    expect((await postJson(server, PATH, { token: t })).status).toBe(200);
    const res = await getPage(server, t);
    expect(res.status).toBe(400);
    expectPageHeaders(res);
    expect(await res.text()).not.toContain(t);
  });
});

describe("POST /auth/verify", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({
      ALLOWED_EMAILS: "json@example.com,form@example.com,race@example.com",
      MAGIC_LINK_RATE_LIMIT: "100",
      MAGIC_LINK_IP_RATE_LIMIT: "1000",
      JWT_EXPIRY_DAYS: "2",
    });
  });

  test("JSON: 200 with user, session JWT and expires_at, and the session cookie", async () => {
    const t = await token(server, "json@example.com");
    const before = Date.now();
    const res = await postJson(server, PATH, { token: t });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = await res.json();
    seenSecrets.push(body.session);
    expect(Object.keys(body).sort()).toEqual(["expires_at", "session", "status", "user"]);
    expect(body.status).toBe("ok");
    expect(body.user).toEqual({ id: "user:json@example.com", email: "json@example.com" });
    expect(body.expires_at).toMatch(TIMESTAMP);
    const [h, p, s] = body.session.split(".");
    expect(s.length).toBeGreaterThan(0);
    expect(decodeJwtPart(h).alg).toBe("HS256");
    const claims = decodeJwtPart(p);
    expect(claims.sub).toBe("user:json@example.com");
    expect(claims.email).toBe("json@example.com");
    expect(typeof claims.jti).toBe("string");
    expect(claims.jti.length).toBeGreaterThan(8);
    expect(Number.isInteger(claims.ver)).toBe(true);
    expect(Math.abs(claims.iat * 1000 - before)).toBeLessThan(5000);
    expect(claims.exp - claims.iat).toBe(2 * 86400);
    expect(new Date(body.expires_at).getTime()).toBe(claims.exp * 1000);

    const cookies = res.headers.getSetCookie();
    expect(cookies.length).toBe(1);
    const cookie = parseCookie(cookies[0]);
    expect(cookie.name).toBe("session_token");
    expect(cookie.value).toBe(body.session);
    expect(cookie.attributes.has("httponly")).toBe(true);
    expect(cookie.attributes.get("samesite")?.toLowerCase()).toBe("strict");
    expect(cookie.attributes.get("path")).toBe("/");
    expect(cookie.attributes.get("max-age")).toBe(String(2 * 86400));
    expect(cookie.attributes.has("secure")).toBe(false); // PUBLIC_URL unset

    // The session works as a Bearer token and as the cookie.
    expect((await me(server, { authorization: `Bearer ${body.session}` })).status).toBe(200);
    expect((await me(server, { cookie: `session_token=${body.session}` })).status).toBe(200);
  });

  test("JSON: the same token twice is 400 invalid_token the second time", async () => {
    const t = await token(server, "json@example.com");
    expect((await postJson(server, PATH, { token: t })).status).toBe(200);
    await expectProblem(await postJson(server, PATH, { token: t }), 400, "invalid_token", PATH);
  });

  const badTokens: Array<[string, unknown]> = [
    ["an unknown token", "A".repeat(43)],
    ["a short token", "abc"],
    ["an empty token", ""],
    ["a token with odd characters", "../../etc/passwd%00"],
  ];
  for (const [name, t] of badTokens) {
    test(`JSON: ${name} is 400 invalid_token`, async () => {
      await expectProblem(await postJson(server, PATH, { token: t }), 400, "invalid_token", PATH);
    });
  }

  test("JSON: a failure sets no session cookie", async () => {
    const res = await postJson(server, PATH, { token: "B".repeat(43) });
    expect(res.status).toBe(400);
    expect(res.headers.getSetCookie().filter((c) => /^session_token=[^;]+/.test(c))).toEqual([]);
  });

  test("form: 303 to / with the session cookie", async () => {
    const t = await token(server, "form@example.com");
    const res = await postForm(server, `token=${encodeURIComponent(t)}`, { origin: server.url });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    const cookies = res.headers.getSetCookie();
    expect(cookies.length).toBe(1);
    const cookie = parseCookie(cookies[0]);
    expect(cookie.name).toBe("session_token");
    seenSecrets.push(cookie.value);
    expect(cookie.attributes.has("httponly")).toBe(true);
    expect(cookie.attributes.get("samesite")?.toLowerCase()).toBe("strict");
    expect(cookie.attributes.get("path")).toBe("/");
    expect(cookie.attributes.get("max-age")).toBe(String(2 * 86400));
    const whoami = await me(server, { cookie: `session_token=${cookie.value}` });
    expect(whoami.status).toBe(200);
    expect((await whoami.json()).user.email).toBe("form@example.com");
  });

  test("form: failures are 303 to /?error=<code> without a session", async () => {
    const unknown = await postForm(server, `token=${"C".repeat(43)}`);
    expect(unknown.status).toBe(303);
    expect(unknown.headers.get("location")).toBe("/?error=invalid_token");
    expect(unknown.headers.getSetCookie().filter((c) => /^session_token=[^;]+/.test(c))).toEqual([]);

    const t = await token(server, "form@example.com");
    expect((await postForm(server, `token=${t}`)).status).toBe(303);
    const again = await postForm(server, `token=${t}`);
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toBe("/?error=invalid_token");

    const missing = await postForm(server, "");
    expect(missing.status).toBe(303);
    expect(missing.headers.get("location")).toBe("/?error=invalid_token");
  });

  test("form: the media type is recognised with parameters and in any case (RFC 9110)", async () => {
    for (const type of ["application/x-www-form-urlencoded; charset=UTF-8", "Application/X-WWW-Form-Urlencoded"]) {
      const res = await fetch(`${server.url}${PATH}`, {
        method: "POST",
        headers: { "content-type": type },
        body: `token=${"D".repeat(43)}`,
        redirect: "manual",
      });
      expect(`${type}: ${res.status} ${res.headers.get("location")}`).toBe(`${type}: 303 /?error=invalid_token`);
    }
  });

  test("exactly one of two concurrent verifications of the same token succeeds (JSON and form alike)", async () => {
    for (let round = 0; round < 6; round++) {
      const t = await token(server, "race@example.com");
      const attempts =
        round % 2 === 0
          ? [postJson(server, PATH, { token: t }), postJson(server, PATH, { token: t })]
          : [postJson(server, PATH, { token: t }), postForm(server, `token=${t}`)];
      const results = await Promise.all(attempts);
      const wins = results.filter((r) => r.status === 200 || (r.status === 303 && r.headers.get("location") === "/"));
      const losses = results.filter((r) => r.status === 400 || (r.status === 303 && r.headers.get("location") === "/?error=invalid_token"));
      expect(wins.length).toBe(1);
      expect(losses.length).toBe(1);
      for (const r of results) if (r.status === 200) seenSecrets.push((await r.json()).session);
    }
  });

  test("five concurrent verifications of one token: exactly one wins", async () => {
    const t = await token(server, "race@example.com");
    const results = await Promise.all(Array.from({ length: 5 }, () => postJson(server, PATH, { token: t })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400]);
  });
});

describe("Secure cookie and links with an https PUBLIC_URL", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({ ALLOWED_EMAILS: "secure@example.com", PUBLIC_URL: "https://chat.example.com" });
  });

  test("the link is built from PUBLIC_URL, never from the request's Host", async () => {
    const from = server.output.length;
    const res = await fetch(`${server.url}/auth/request-magic-link`, {
      method: "POST",
      headers: { "content-type": "application/json", host: "evil.example.net", "x-forwarded-host": "evil.example.net" },
      body: JSON.stringify({ email: "secure@example.com" }),
    });
    expect(res.status).toBe(200);
    const line = await server.waitForOutput(/^magic-link secure@example\.com (\S+)$/m, 5000, from);
    expect(line[1]).toMatch(/^https:\/\/chat\.example\.com\/auth\/verify\?token=[A-Za-z0-9_-]{43,}$/);
    seenSecrets.push(line[1].split("token=")[1]);
  });

  test("the session cookie carries Secure", async () => {
    const t = await token(server, "secure@example.com");
    const res = await postJson(server, PATH, { token: t });
    expect(res.status).toBe(200);
    seenSecrets.push((await res.clone().json()).session);
    const cookie = parseCookie(res.headers.getSetCookie()[0]);
    expect(cookie.attributes.has("secure")).toBe(true);
    expect(cookie.attributes.get("max-age")).toBe(String(30 * 86400));
    const logout = await postJson(server, "/auth/logout", {}, { cookie: `session_token=${cookie.value}` });
    expect(logout.status).toBe(200);
  });

  test("an http PUBLIC_URL gives no Secure", async () => {
    const plain = await start({ ALLOWED_EMAILS: "secure@example.com", PUBLIC_URL: "http://chat.example.com:8080" });
    const from = plain.output.length;
    const t = await token(plain, "secure@example.com");
    expect(plain.output.slice(from)).toContain("http://chat.example.com:8080/auth/verify?token=");
    const res = await postJson(plain, PATH, { token: t });
    expect(res.status).toBe(200);
    seenSecrets.push((await res.clone().json()).session);
    expect(parseCookie(res.headers.getSetCookie()[0]).attributes.has("secure")).toBe(false);
  });
});

describe.skipIf(ONLY_EMBEDDED_STORE_CAN_BE_EDITED)("expired links (expiry crafted in the stopped server's database)", () => {
  let server: TestServer;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    const dataDir = tempDir();
    server = await start({ ALLOWED_EMAILS: "old@example.com,fresh@example.com", MAGIC_LINK_RATE_LIMIT: "100" }, dataDir);
    for (const name of ["json", "json2", "form", "page"]) tokens[name] = await token(server, "old@example.com");
    tokens.fresh = await token(server, "fresh@example.com");
    expect(await server.stop()).toBe(0);
    const db = new Database(join(dataDir, "roomz.sqlite"));
    const changed = db.query("UPDATE magic_links SET expires_at = ? WHERE email = 'old@example.com'").run(Date.now() - 60_000);
    db.close();
    expect(changed.changes).toBe(4);
    await server.start();
  }, 30_000);

  test("GET shows the 400 page", async () => {
    const res = await getPage(server, tokens.page);
    expect(res.status).toBe(400);
    expectPageHeaders(res);
    expect(await res.text()).toMatch(/expired/i);
  });

  test("JSON: 400 expired_token", async () => {
    await expectProblem(await postJson(server, PATH, { token: tokens.json }), 400, "expired_token", PATH);
  });

  test("JSON: still expired_token when tried again (an unused expired link is not 'already used')", async () => {
    await expectProblem(await postJson(server, PATH, { token: tokens.json2 }), 400, "expired_token", PATH);
    await expectProblem(await postJson(server, PATH, { token: tokens.json2 }), 400, "expired_token", PATH);
  });

  test("form: 303 to /?error=expired_token", async () => {
    const res = await postForm(server, `token=${tokens.form}`);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/?error=expired_token");
  });

  test("an unexpired link survives the restart and works", async () => {
    const res = await postJson(server, PATH, { token: tokens.fresh });
    expect(res.status).toBe(200);
    seenSecrets.push((await res.json()).session);
  });
});

describe("an address removed from the allow-list", () => {
  let server: TestServer;
  let file: string;
  beforeAll(async () => {
    file = join(tempDir(), "allowed.txt");
    writeFileSync(file, "gone@example.com\nstays@example.com\n");
    server = await start({ ALLOWED_EMAILS: "", ALLOWED_EMAILS_FILE: file, MAGIC_LINK_RATE_LIMIT: "100" });
  });

  test("403 not_allowed, and the token is consumed all the same", async () => {
    const probeToken = await token(server, "gone@example.com");
    const probe = await postJson(server, PATH, { token: probeToken });
    expect(probe.status).toBe(200);
    const session = (await probe.json()).session;
    seenSecrets.push(session);
    const jsonToken = await token(server, "gone@example.com");
    const formToken = await token(server, "gone@example.com");
    writeFileSync(file, "stays@example.com\n");
    process.kill(server.proc.pid, "SIGHUP");
    // The session of the removed address turns 403 once the file is re-read.
    await until(async () => expect((await me(server, { authorization: `Bearer ${session}` })).status).toBe(403), "the session refused after SIGHUP", 5000);
    await expectProblem(await postJson(server, PATH, { token: jsonToken }), 403, "not_allowed", PATH);
    const form = await postForm(server, `token=${formToken}`);
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toBe("/?error=not_allowed");

    // Allowed again: both tokens stay used.
    writeFileSync(file, "gone@example.com\nstays@example.com\n");
    process.kill(server.proc.pid, "SIGHUP");
    await until(async () => expect((await me(server, { authorization: `Bearer ${session}` })).status).toBe(200), "the session accepted after SIGHUP", 5000);
    await expectProblem(await postJson(server, PATH, { token: jsonToken }), 400, "invalid_token", PATH);
    await expectProblem(await postJson(server, PATH, { token: formToken }), 400, "invalid_token", PATH);
    const ok = await postJson(server, PATH, { token: await token(server, "gone@example.com") });
    expect(ok.status).toBe(200);
    seenSecrets.push((await ok.json()).session);
  });
});
