/**
 * EMAIL_SENDER=resend against a fake Resend API (PROTOCOL.md sections 1 and 3): the email
 * holds the link and `/token <token>`, nothing prints the token, and when the mail service
 * fails the answer is unchanged, the link is unusable, the failure is logged without the
 * token and counted in roomz_magic_links_total{result="failed"}.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeResend, type FakeResend } from "../helpers/fake-resend";
import { startServer, type TestServer } from "../helpers/server";
import { expectProblem } from "../helpers/problems";
import { until } from "../helpers/wait";
import { expectNoSecretsInOutput, metrics, postJson, requestLink } from "./support";

let fake: FakeResend;
let server: TestServer;
const secrets: string[] = [];

beforeAll(async () => {
  fake = startFakeResend();
  server = await startServer({
    env: {
      ALLOWED_EMAILS: "mail@example.com,fail500@example.com,fail422@example.com,x<b>&y@example.com",
      EMAIL_SENDER: "resend",
      RESEND_API_KEY: ' "re_test_key_123" ',
      EMAIL_FROM: "'Roomz Test <roomz@example.com>'",
      RESEND_BASE_URL: fake.url,
      MAGIC_LINK_RATE_LIMIT: "100",
    },
  });
});

afterAll(async () => {
  await server.stop();
  fake.stop();
  // With the Resend sender nothing on the console may carry a token: not even a magic-link line.
  expect(server.output).not.toMatch(/magic-link/);
  expectNoSecretsInOutput(server.output, secrets);
});

function tokenOf(text: string): string {
  const match = /\/auth\/verify\?token=([A-Za-z0-9_-]+)/.exec(text);
  if (!match) throw new Error(`no link in ${text}`);
  return match[1];
}

test("success: one email through the API, with the link and `/token <token>` in text and HTML; the token works", async () => {
  fake.mode = "ok";
  const from = fake.emails.length;
  const outputFrom = server.output.length;
  const res = await requestLink(server, " MAIL@example.com ");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: "ok", message: expect.any(String) });
  const email = await fake.waitForEmail("mail@example.com", from);
  expect(email.authorization).toBe("Bearer re_test_key_123");
  expect(email.body.from).toBe("Roomz Test <roomz@example.com>");
  expect(typeof email.body.subject).toBe("string");
  const text = String(email.body.text);
  const html = String(email.body.html);
  const token = tokenOf(text);
  secrets.push(token);
  expect(token.length).toBeGreaterThanOrEqual(43);
  expect(text).toContain(`http://localhost:${server.port}/auth/verify?token=${token}`);
  expect(text).toContain(`/token ${token}`);
  expect(html).toContain(`http://localhost:${server.port}/auth/verify?token=${token}`);
  expect(html).toContain(`/token ${token}`);
  expect(server.output.slice(outputFrom)).not.toContain(token);

  const verified = await postJson(server, "/auth/verify", { token });
  expect(verified.status).toBe(200);
  const body = await verified.json();
  secrets.push(body.session);
  expect(body.user.email).toBe("mail@example.com");
  const m = await metrics(server);
  expect(m.get('roomz_magic_links_total{result="sent"}')).toBeGreaterThanOrEqual(1);
});

test("the answer never waits for the mail service: it comes while the API still holds the email", async () => {
  fake.mode = "hold";
  const from = fake.emails.length;
  // If the answer waited for the mail, this would hang until the test's timeout.
  const res = await requestLink(server, "mail@example.com");
  expect(res.status).toBe(200);
  const email = await fake.waitForEmail("mail@example.com", from);
  secrets.push(tokenOf(String(email.body.text)));
  expect(fake.holding).toBe(1);
  fake.release();
  fake.mode = "ok";
});

test("the HTML email escapes the address-derived content", async () => {
  fake.mode = "ok";
  const from = fake.emails.length;
  expect((await requestLink(server, "x<b>&y@example.com")).status).toBe(200);
  const email = await fake.waitForEmail("x<b>&y@example.com", from);
  secrets.push(tokenOf(String(email.body.text)));
  expect(String(email.body.html)).not.toContain("<b>&y");
});

test("an unknown address: the same 200 answer, and no email at all", async () => {
  fake.mode = "ok";
  const from = fake.emails.length;
  const known = await requestLink(server, "mail@example.com");
  const unknown = await requestLink(server, "stranger@example.com");
  expect(unknown.status).toBe(200);
  expect(await unknown.text()).toBe(await known.text());
  const sent = await fake.waitForEmail("mail@example.com", from);
  secrets.push(tokenOf(String(sent.body.text)));
  await Bun.sleep(300);
  expect(fake.emails.slice(from).map((e) => e.body.to).flat()).toEqual(["mail@example.com"]);
});

for (const mode of [500, 422] as const) {
  describe(`the mail service fails with ${mode}`, () => {
    test("the answer is unchanged, the link is unusable, the failure is logged without the token and counted", async () => {
      const address = `fail${mode}@example.com`;
      const before = await metrics(server);
      const okFrom = fake.emails.length;
      const okBody = await (await requestLink(server, "mail@example.com")).text();
      const okEmail = await fake.waitForEmail("mail@example.com", okFrom);
      secrets.push(tokenOf(String(okEmail.body.text)));
      await until(
        async () => expect((await metrics(server)).get('roomz_magic_links_total{result="sent"}')).toBe(before.get('roomz_magic_links_total{result="sent"}')! + 1),
        "one more sent",
        5000,
      );

      fake.mode = mode;
      const from = fake.emails.length;
      const outputFrom = server.output.length;
      const res = await requestLink(server, address);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(okBody);
      const attempted = await fake.waitForEmail(address, from);
      const token = tokenOf(String(attempted.body.text));
      secrets.push(token);

      // Counted as failed.
      await until(
        async () => expect((await metrics(server)).get('roomz_magic_links_total{result="failed"}')).toBe(before.get('roomz_magic_links_total{result="failed"}')! + 1),
        "one more failed",
        5000,
      );
      fake.mode = "ok";
      // Logged, naming what failed but not the token.
      const logged = server.output.slice(outputFrom);
      expect(logged).toMatch(/fail|error|refus/i);
      expect(logged).not.toContain(token);
      // The link can't be used: not by JSON, not by the form, not on the page.
      await expectProblem(await postJson(server, "/auth/verify", { token }), 400, "invalid_token", "/auth/verify");
      const page = await fetch(`${server.url}/auth/verify?token=${token}`);
      expect(page.status).toBe(400);
      // The person simply asks again.
      const again = fake.emails.length;
      expect((await requestLink(server, address)).status).toBe(200);
      const retry = await fake.waitForEmail(address, again);
      const second = tokenOf(String(retry.body.text));
      secrets.push(second);
      const ok = await postJson(server, "/auth/verify", { token: second });
      expect(ok.status).toBe(200);
      secrets.push((await ok.json()).session);
    });
  });
}

test("the mail service unreachable: still 200, counted as failed, the link unusable", async () => {
  const down = startFakeResend();
  const downUrl = down.url;
  down.stop();
  const other = await startServer({
    env: { ALLOWED_EMAILS: "down@example.com", EMAIL_SENDER: "resend", RESEND_API_KEY: "re_x", RESEND_BASE_URL: downUrl },
  });
  try {
    const res = await requestLink(other, "down@example.com");
    expect(res.status).toBe(200);
    await until(async () => expect((await metrics(other)).get('roomz_magic_links_total{result="failed"}')).toBe(1), "one failed", 5000);
    expect(other.output).toMatch(/fail|error|refus/i);
  } finally {
    await other.stop();
    expectNoSecretsInOutput(other.output);
    expect(other.output).not.toMatch(/magic-link/);
  }
});
