/**
 * The `roomz` command line (PROTOCOL.md section 5; issue 12, defect 7): every command
 * has --help, help never starts a server, and an unknown command, flag or argument is a
 * usage error (exit 2) with a hint, at once.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { freePort, runRoomz, tempDir } from "../helpers/server";

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `bun src/main.ts ...args` with a private HOME; kills it if it runs for 10 s. */
async function roomz(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const home = tempDir("roomz-home-");
  return runRoomz(args, { cwd: home, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...env }, timeoutMs: 10_000 });
}

async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}

describe("help", () => {
  for (const flag of ["--help", "-h", "help"]) {
    test(`roomz ${flag}: every command, exit 0`, async () => {
      const { code, stdout, stderr } = await roomz([flag]);
      expect(code, stderr).toBe(0);
      for (const command of ["serve", "cli", "send", "listen", "backup FILE", "restore FILE", "COMMAND --help"]) expect(stdout).toContain(`roomz ${command}`);
      expect(stdout).toContain("--version");
    });
  }

  test("roomz --version", async () => {
    const { code, stdout } = await roomz(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`roomz ${pkg.version}`);
  });

  for (const flag of ["--help", "-h"]) {
    test(`roomz serve ${flag}: the settings and a pointer to the README, exit 0 at once, nothing listens, nothing is created`, async () => {
      const port = await freePort();
      const dataDir = join(tempDir(), "would-be-data");
      const run = roomz(["serve", flag], { PORT: String(port), HOST: "127.0.0.1", ROOMZ_DATA_DIR: dataDir, ALLOWED_EMAILS: "a@example.com" });
      let answered = false;
      let done = false;
      void run.then(() => (done = true));
      while (!done) {
        answered ||= await answers(port);
        await Bun.sleep(25);
      }
      const { code, stdout, stderr, ms } = await run;
      expect(code, stderr).toBe(0);
      expect(stderr).toBe("");
      for (const variable of ["PORT", "HOST", "PUBLIC_URL", "ALLOWED_EMAILS", "ROOMZ_DATA_DIR", "REDIS_URL"]) expect(stdout).toContain(variable);
      expect(stdout).toContain("README");
      expect(stdout).not.toMatch(/listening/);
      expect(answered || (await answers(port))).toBe(false);
      expect(existsSync(dataDir)).toBe(false);
      expect(ms).toBeLessThan(5_000);
    });
  }

  for (const command of ["cli", "send", "listen"]) {
    test(`roomz ${command} --help: its own usage, exit 0`, async () => {
      const { code, stdout, stderr } = await roomz([command, "--help"]);
      expect(code, stderr).toBe(0);
      expect(stdout).toContain(`Usage: roomz ${command}`);
      expect(stdout).toContain("--server URL");
    });
  }
});

describe("usage errors: exit 2 at once, with a hint", () => {
  test("roomz serve --port 18601: not ignored; names the flag, suggests PORT=18601 and --help; nothing listens", async () => {
    const port = await freePort();
    const { code, stdout, stderr, ms } = await roomz(["serve", "--port", "18601"], { PORT: String(port), HOST: "127.0.0.1", ALLOWED_EMAILS: "a@example.com" });
    expect(code, stderr).toBe(2);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('"--port"');
    expect(lines[0]).toContain("PORT=18601 roomz serve");
    expect(lines[1]).toContain("roomz serve --help");
    expect(stdout).toBe("");
    expect(await answers(port)).toBe(false);
    expect(await answers(18601)).toBe(false);
    expect(ms).toBeLessThan(5_000);
  });

  for (const args of [["serve", "extra"], ["serve", "--help", "extra"], ["serve", "--verbose"]]) {
    test(`roomz ${args.join(" ")}`, async () => {
      const { code, stderr } = await roomz(args, { PORT: String(await freePort()), HOST: "127.0.0.1", ALLOWED_EMAILS: "a@example.com" });
      expect(code, stderr).toBe(2);
      expect(stderr).toContain(`"${args[1]}"`);
      expect(stderr).toContain("roomz serve --help");
    });
  }

  for (const args of [["--bogus"], ["frobnicate"], ["cli", "--bogus"], ["send", "--bogus"], ["listen", "--bogus"], ["listen", "--port", "1"], ["cli", "stray"]]) {
    test(`roomz ${args.join(" ")}`, async () => {
      const { code, stdout, stderr } = await roomz(args);
      expect(code, stderr).toBe(2);
      expect(stderr).toContain(args[args.length - 1] === "1" ? "--port" : args[args.length - 1]);
      expect(stderr).toMatch(/Usage|roomz --help|roomz serve/);
      expect(stdout).toBe("");
    });
  }
});

describe("backup and restore are commands", () => {
  for (const command of ["backup", "restore"]) {
    test(`roomz ${command} reaches its command (not "unknown command"); --help exits 0; an unknown flag exits 2`, async () => {
      const dataDir = join(tempDir(), "untouched");
      const bare = await roomz([command], { ROOMZ_DATA_DIR: dataDir });
      expect(bare.stderr).not.toContain("unknown command");
      expect(bare.stderr).toContain(`roomz ${command}`);
      const help = await roomz([command, "--help"], { ROOMZ_DATA_DIR: dataDir });
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toContain(`Usage: roomz ${command} FILE`);
      const bogus = await roomz([command, "--bogus", "x"], { ROOMZ_DATA_DIR: dataDir });
      expect(bogus.code, bogus.stderr).toBe(2);
      expect(bogus.stderr).toContain("--bogus");
      expect(existsSync(dataDir)).toBe(false);
    });
  }
});
