/**
 * Configuration (PROTOCOL.md section 3): every bad value stops the server at start with
 * exit status 2 and one stderr line naming the variable; an empty allow-list is announced;
 * ALLOWED_EMAILS_FILE is re-read on SIGHUP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { badValues } from "../helpers/bad-config";
import { freePort, runRoomz, signIn, startServer, tempDir, type TestServer } from "../helpers/server";
import { expectProblem } from "../helpers/problems";
import { until } from "../helpers/wait";
import { bearer, expectNoSecretsInOutput, me, requestLink } from "./support";

const ROOMZ_VARS = [
  "PORT", "HOST", "PUBLIC_URL", "JWT_SECRET_KEY", "ALLOWED_EMAILS", "ALLOWED_EMAILS_FILE", "EMAIL_SENDER", "RESEND_API_KEY",
  "EMAIL_FROM", "JWT_EXPIRY_DAYS", "MAGIC_LINK_EXPIRY_MINUTES", "MAGIC_LINK_RATE_LIMIT", "MAGIC_LINK_IP_RATE_LIMIT", "TRUST_PROXY",
  "MAX_CONNECTIONS_PER_USER", "MAX_MESSAGE_LENGTH", "MESSAGE_RATE_LIMIT", "MAX_FRAME_BYTES", "SEND_BUFFER_BYTES", "ROOMZ_DATA_DIR", "REDIS_URL",
];

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `roomz serve` with `env` on top of a clean, valid base; kills it if it starts anyway. */
async function run(env: Record<string, string>): Promise<Outcome> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !ROOMZ_VARS.includes(k)) base[k] = v;
  const dataDir = tempDir();
  const env2 = { ...base, PORT: String(await freePort()), HOST: "127.0.0.1", ROOMZ_DATA_DIR: dataDir, ALLOWED_EMAILS: "a@example.com", ...env };
  return runRoomz(["serve"], { cwd: dataDir, env: env2 });
}

const scratch = tempDir();
const BAD = badValues(scratch);

const outcomes = new Map<string, Outcome>();
beforeAll(async () => {
  // A few at a time: each is a short-lived process, mostly Bun's start-up.
  const queue = [...BAD];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) outcomes.set(next.name, await run(next.env));
  };
  await Promise.all([worker(), worker(), worker()]);
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("a bad configuration value stops the server at start", () => {
  for (const { name, variable } of BAD) {
    test(`${name}: exit status 2 and one stderr line naming ${variable}`, () => {
      const { code, stdout, stderr } = outcomes.get(name)!;
      const context = `exit ${code}\nstderr: ${stderr}\nstdout: ${stdout}`;
      expect(code, context).toBe(2);
      const lines = stderr.split("\n").filter((line) => line.trim() !== "");
      expect(lines.length, context).toBe(1);
      expect(lines[0]).toContain(variable);
      // Names the fix too, not just the variable.
      expect(lines[0].length).toBeGreaterThan(variable.length + 20);
      expect(stderr).not.toMatch(/\n\s+at |\.ts:\d+/);
      expect(stdout).not.toMatch(/listening/i);
    });
  }

  test("the line says what is wrong with the value, and never echoes a password", () => {
    const line = (name: string) => outcomes.get(name)!.stderr.trim();
    expect(line("HOST=999.1.1.1 (an octet over 255)")).toContain('HOST: "999.1.1.1" is not an IP address or host name');
    expect(line("HOST=192.0.2.1 (valid, but not an address of this machine)")).toMatch(/HOST: 192\.0\.2\.1 is not an address of this machine/);
    expect(line("HOST=192.0.2.1 (valid, but not an address of this machine)")).not.toMatch(/in use/);
    expect(line("PUBLIC_URL with a path")).toContain("https://chat.example.com");
    expect(line("PUBLIC_URL with credentials")).not.toContain("hunter2");
    expect(line("ALLOWED_EMAILS=notanemail")).toContain('"notanemail"');
    expect(line("ALLOWED_EMAILS with one bad entry among good ones")).toContain('"b@example"');
    expect(line("ALLOWED_EMAILS_FILE with a line that is not an address")).toMatch(/line 3.*"frank at example\.com"/);
  });

  test("a port another program holds: one line naming PORT and saying it is in use, exit 2, promptly", async () => {
    const holder = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("someone else") });
    try {
      const started = Date.now();
      const { code, stdout, stderr } = await run({ PORT: String(holder.port) });
      const context = `exit ${code}\nstderr: ${stderr}\nstdout: ${stdout}`;
      expect(code, context).toBe(2);
      const lines = stderr.split("\n").filter((line) => line.trim() !== "");
      expect(lines, context).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^roomz: PORT: port ${holder.port} on 127\\.0\\.0\\.1 is already in use`));
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      holder.stop(true);
    }
  });
});

describe("values at the edges start normally", () => {
  const good: Array<[string, Record<string, string>]> = [
    ["MAX_FRAME_BYTES exactly 12 × MAX_MESSAGE_LENGTH + 1024", { MAX_MESSAGE_LENGTH: "100", MAX_FRAME_BYTES: "2224" }],
    ["a 32-character JWT_SECRET_KEY, TRUST_PROXY=0, quoted RESEND values", { JWT_SECRET_KEY: "k".repeat(32), TRUST_PROXY: "0", RESEND_API_KEY: '"re_x"' }],
    ["TRUST_PROXY=TRUE (case-insensitive), EMAIL_SENDER=Console", { TRUST_PROXY: "TRUE", EMAIL_SENDER: "Console" }],
    ["PUBLIC_URL with a trailing slash and a port; ALLOWED_EMAILS spaced and capitalised", { PUBLIC_URL: "https://chat.example.com:8443/", ALLOWED_EMAILS: " A@Example.com ,b@example.com," }],
  ];
  for (const [name, env] of good) {
    test(name, async () => {
      const server = await startServer({ env });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(await server.stop()).toBe(0);
    });
  }
});

describe("the allow-list at start", () => {
  const warning = (output: string) => output.split("\n").filter((line) => /ALLOWED_EMAILS/.test(line) && /(nobody|no one|empty)/i.test(line));

  for (const [name, env] of [
    ["ALLOWED_EMAILS unset", { ALLOWED_EMAILS: "" }],
    ["ALLOWED_EMAILS only separators", { ALLOWED_EMAILS: " , ,, " }],
  ] as Array<[string, Record<string, string>]>) {
    test(`${name}: the server says nobody can sign in`, async () => {
      const server = await startServer({ env });
      await server.waitForOutput(/ALLOWED_EMAILS/, 3000);
      expect(warning(server.output).length).toBe(1);
      // And nobody gets a link.
      expect((await requestLink(server, "a@example.com")).status).toBe(200);
      await Bun.sleep(300);
      expect(server.output).not.toContain("magic-link");
      await server.stop();
    });
  }

  test("a file of comments only counts as empty", async () => {
    const file = join(tempDir(), "allowed.txt");
    writeFileSync(file, "# nobody yet\n\n   # still nobody\n");
    const server = await startServer({ env: { ALLOWED_EMAILS: "", ALLOWED_EMAILS_FILE: file } });
    await server.waitForOutput(/ALLOWED_EMAILS/, 3000);
    expect(warning(server.output).length).toBe(1);
    await server.stop();
  });

  test("a non-empty allow-list gives no such warning", async () => {
    const server = await startServer({ env: { ALLOWED_EMAILS: "someone@example.com" } });
    await Bun.sleep(200);
    expect(warning(server.output)).toEqual([]);
    await server.stop();
  });
});

describe("ALLOWED_EMAILS_FILE is re-read on SIGHUP", () => {
  let server: TestServer;
  let file: string;
  const secrets: string[] = [];
  beforeAll(async () => {
    file = join(tempDir(), "allowed.txt");
    writeFileSync(file, "# the team\n\n  Erin@Example.com  \n");
    server = await startServer({ env: { ALLOWED_EMAILS: " Env@Example.com ", ALLOWED_EMAILS_FILE: file, MAGIC_LINK_RATE_LIMIT: "100" } });
  });
  afterAll(async () => {
    await server.stop();
    expectNoSecretsInOutput(server.output, secrets);
  });

  async function getsLink(email: string): Promise<boolean> {
    const from = server.output.length;
    expect((await requestLink(server, email)).status).toBe(200);
    const deadline = Date.now() + 400;
    while (Date.now() < deadline) {
      if (server.output.slice(from).includes(`magic-link ${email} `)) return true;
      await Bun.sleep(20);
    }
    return false;
  }

  test("addresses from the file (trimmed, lower-cased, comments skipped) join ALLOWED_EMAILS", async () => {
    expect(await getsLink("erin@example.com")).toBe(true);
    expect(await getsLink("env@example.com")).toBe(true);
    expect(await getsLink("frank@example.com")).toBe(false);
  });

  test("an address added to the file can sign in after SIGHUP; one removed loses its session (403) and its links", async () => {
    const erin = await signIn(server, "erin@example.com");
    secrets.push(erin);
    writeFileSync(file, "# the team\nfrank@example.com\n");
    process.kill(server.proc.pid, "SIGHUP");
    await until(async () => expect((await me(server, bearer(erin))).status).toBe(403), "erin refused after SIGHUP", 5000);
    await expectProblem(await me(server, bearer(erin)), 403, "not_allowed", "/auth/me");
    expect(await getsLink("frank@example.com")).toBe(true);
    expect(await getsLink("erin@example.com")).toBe(false);
    // ALLOWED_EMAILS still counts.
    expect(await getsLink("env@example.com")).toBe(true);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  test("an address added back gets links again", async () => {
    writeFileSync(file, "frank@example.com\nerin@example.com\n");
    process.kill(server.proc.pid, "SIGHUP");
    await until(async () => expect(await getsLink("erin@example.com")).toBe(true), "erin allowed after SIGHUP", 5000);
  });

  test("a session logged out while its address was off the list stays logged out when the address comes back", async () => {
    writeFileSync(file, "frank@example.com\nerin@example.com\n");
    process.kill(server.proc.pid, "SIGHUP");
    await until(async () => expect(await getsLink("erin@example.com")).toBe(true), "erin allowed after SIGHUP", 5000);
    const erin = await signIn(server, "erin@example.com");
    secrets.push(erin);
    writeFileSync(file, "frank@example.com\n");
    process.kill(server.proc.pid, "SIGHUP");
    await until(async () => expect((await me(server, bearer(erin))).status).toBe(403), "erin refused after SIGHUP", 5000);
    const logout = await fetch(`${server.url}/auth/logout`, { method: "POST", headers: bearer(erin) });
    expect(logout.status).toBe(200);
    writeFileSync(file, "frank@example.com\nerin@example.com\n");
    process.kill(server.proc.pid, "SIGHUP");
    await until(async () => expect(await getsLink("erin@example.com")).toBe(true), "erin allowed after SIGHUP", 5000);
    // The person logged this session out; it must not come back to life.
    await expectProblem(await me(server, bearer(erin)), 401, "unauthenticated", "/auth/me");
  });

  test("a file that gains a line that is not an address: the reload is refused and logged, the current list stays", async () => {
    writeFileSync(file, "frank@example.com\nerin@example.com\n");
    process.kill(server.proc.pid, "SIGHUP");
    await until(async () => expect(await getsLink("erin@example.com")).toBe(true), "erin allowed after SIGHUP", 5000);
    const from = server.output.length;
    // Erin removed, and a typo: applying the rest would shut Erin out because of a typo.
    writeFileSync(file, "frank@example.com\ngrace(at)example.com\n");
    process.kill(server.proc.pid, "SIGHUP");
    const [line] = await server.waitForOutput(/.*allow-list reload failed.*/, 5000, from);
    expect(line).toContain("ALLOWED_EMAILS_FILE");
    expect(line).toContain('line 2: "grace(at)example.com"');
    expect(server.proc.exitCode).toBeNull();
    expect(await getsLink("erin@example.com")).toBe(true);
    expect(await getsLink("frank@example.com")).toBe(true);
  });

  test("a file that becomes unreadable does not stop the server", async () => {
    rmSync(file);
    process.kill(server.proc.pid, "SIGHUP");
    await Bun.sleep(300);
    expect(server.proc.exitCode).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await getsLink("frank@example.com")).toBe(true);
  });
});
