/**
 * `roomz send` and `roomz listen` as real processes, for the CLI tests: a HOME whose
 * session cache holds a real session, one-shot runs with their exit codes, and a
 * listener whose output is collected as it prints.
 */
import { join } from "node:path";
import type { ChatMessage } from "../../src/client";
import { SessionCache } from "../../src/client/session-cache";
import { freshUser } from "../client/support";
import { ROOT, signIn, tempDir, type TestServer } from "../helpers/server";

const MAIN = join(ROOT, "src/main.ts");
const DAY = 86_400_000;

export function roomzProcesses(serverOf: () => TestServer) {
  /** A HOME whose session cache holds a real session of a fresh user for `url`. */
  async function signedInHome(url = serverOf().url): Promise<{ home: string; email: string; session: string }> {
    const home = tempDir("roomz-home-");
    const email = freshUser();
    const session = await signIn(serverOf(), email);
    new SessionCache(join(home, ".roomz", "session.json")).set(url, { session, email, expires_at: new Date(Date.now() + DAY).toISOString() });
    return { home, email, session };
  }

  async function roomz(home: string, args: string[], stdin?: string | Uint8Array, env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
    const child = Bun.spawn([process.execPath, MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, HOME: home, ROOMZ_SERVER: undefined, ...env },
      stdin: stdin === undefined ? "ignore" : typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { code, out, err };
  }

  /** Starts `roomz listen --json` (or with `args` instead of --json) and collects what it prints. */
  function listen(home: string, args: string[] = ["--json"]) {
    const child = Bun.spawn([process.execPath, MAIN, "listen", "--server", serverOf().url, ...args], {
      cwd: ROOT,
      env: { ...process.env, HOME: home },
      stdout: "pipe",
      stderr: "pipe",
    });
    const messages: ChatMessage[] = [];
    let out = "";
    let err = "";
    void (async () => {
      let buffer = "";
      for await (const chunk of child.stdout as unknown as AsyncIterable<Uint8Array>) {
        const text = new TextDecoder().decode(chunk);
        out += text;
        if (!args.includes("--json")) continue;
        buffer += text;
        const lines = buffer.split("\n");
        buffer = lines.pop()!;
        for (const line of lines) messages.push(JSON.parse(line));
      }
    })();
    void (async () => {
      for await (const chunk of child.stderr as unknown as AsyncIterable<Uint8Array>) err += new TextDecoder().decode(chunk);
    })();
    return { child, messages, stdout: () => out, stderr: () => err };
  }

  return { signedInHome, roomz, listen };
}
