/** `roomz send` and `roomz listen --json` as real processes, in pipelines, with exit codes. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ChatMessage } from "../../src/client";
import { SessionCache } from "../../src/client/session-cache";
import { ROOT, signIn, tempDir, type TestServer } from "../helpers/server";
import { roomzProcesses } from "./processes";
import { freshUser, startTestServer, until } from "../client/support";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const { signedInHome, roomz, listen } = roomzProcesses(() => server);

describe("roomz send and roomz listen", () => {
  test("send (arguments and stdin) reaches listen --json, which resumes across a restart", async () => {
    const { home } = await signedInHome();
    const listener = listen(home);
    try {
      await until(() => listener.stderr().includes(`Connected to ${server.url}.`), "listen to connect");
      expect(await roomz(home, ["send", "--server", server.url, "hello", "from", "args"])).toMatchObject({ code: 0, err: "" });
      expect((await roomz(home, ["send", `--server=${server.url}/`], "line one\nline two\n")).code).toBe(0);
      await until(() => listener.messages.length === 2, "two messages");
      expect(listener.messages.map((m) => m.content)).toEqual(["hello from args", "line one\nline two"]);
      expect(Object.keys(listener.messages[0]).sort()).toEqual(["client_msg_id", "connection_id", "content", "files", "id", "seq", "timestamp", "user"]);

      await server.restart();
      expect((await roomz(home, ["send", "--server", server.url, "after the restart"])).code).toBe(0);
      await until(() => listener.messages.length === 3, "the message after the restart", 20000);
      expect(listener.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
      expect(listener.stderr()).toMatch(/Connection lost \(the server is restarting\)|Server unreachable/);
    } finally {
      listener.child.kill("SIGINT");
    }
    expect(await listener.child.exited).toBe(0);
  });

  test("standard input: only the newline ending the last line is removed; bytes that are not UTF-8 are refused (exit 2), nothing sent", async () => {
    const { home } = await signedInHome();
    const listener = listen(home);
    try {
      await until(() => listener.stderr().includes(`Connected to ${server.url}.`), "listen to connect");
      const at = ["--server", server.url];
      for (const stdin of ["two blank lines follow\n\n\n", "windows line\r\n", "  indented, no newline"]) expect((await roomz(home, ["send", ...at], stdin)).code).toBe(0);
      const notText = await roomz(home, ["send", ...at], new Uint8Array([0x62, 0x61, 0x64, 0x20, 0xff, 0xfe]));
      expect(notText.code).toBe(2);
      expect(notText.err).toContain("Standard input is not UTF-8 text; nothing was sent.");
      expect((await roomz(home, ["send", ...at, "last"])).code).toBe(0);
      await until(() => listener.messages.length === 4, "four messages");
      expect(listener.messages.map((m) => m.content)).toEqual(["two blank lines follow\n\n", "windows line", "  indented, no newline", "last"]);
    } finally {
      listener.child.kill("SIGINT");
    }
    expect(await listener.child.exited).toBe(0);
  });

  test("in a shell pipeline: printf | roomz send, and roomz listen --json | head", async () => {
    const { home } = await signedInHome();
    const sh = (script: string) =>
      Bun.spawn(["sh", "-c", script], { cwd: ROOT, env: { ...process.env, HOME: home, ROOMZ_SERVER: server.url, BUN: process.execPath }, stdout: "pipe", stderr: "pipe" });
    const pipeline = sh(`"$BUN" src/main.ts listen --json | head -n 2`);
    let err = "";
    void (async () => {
      for await (const chunk of pipeline.stderr as unknown as AsyncIterable<Uint8Array>) err += new TextDecoder().decode(chunk);
    })();
    await until(() => err.includes("Connected to"), "listen to connect");
    for (const text of ["first", "second", "third"]) {
      const send = sh(`printf '%s' '${text}' | "$BUN" src/main.ts send`);
      expect(await send.exited).toBe(0);
    }
    const out = await new Response(pipeline.stdout).text();
    expect(await pipeline.exited).toBe(0);
    const lines = out.trim().split("\n").map((l) => JSON.parse(l) as ChatMessage);
    expect(lines.map((m) => m.content)).toEqual(["first", "second"]);
  });

  test("exit codes: 2 usage, 3 not signed in or refused (and the cache entry removed), 1 unreachable", async () => {
    const empty = tempDir("roomz-home-");
    expect((await roomz(empty, ["send", "--bogus"])).code).toBe(2);
    expect((await roomz(empty, ["send", "--server", "ftp://x", "hi"])).code).toBe(2);
    expect((await roomz(empty, ["listen", "extra"])).code).toBe(2);
    const none = await roomz(empty, ["send", "--server", server.url, "hi"]);
    expect(none.code).toBe(3);
    expect(none.err).toContain(`Not signed in to ${server.url}.`);
    expect((await roomz(empty, ["listen", "--server", server.url])).code).toBe(3);

    const { home, session } = await signedInHome();
    expect((await roomz(home, ["send", "--server", server.url], "   \n")).code).toBe(2);
    await fetch(`${server.url}/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${session}` } });
    const refused = await roomz(home, ["send", "--server", server.url, "hi"]);
    expect(refused.code).toBe(3);
    expect(refused.err).toContain("refused the saved session");
    expect(new SessionCache(join(home, ".roomz", "session.json")).get(server.url)).toBeNull();

    const down = "http://127.0.0.1:9";
    const cached = await signedInHome(down);
    const unreachable = await roomz(cached.home, ["send", "--server", down, "hi"]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toContain("Can't reach the server at http://127.0.0.1:9");
  });

  test("a message the server refuses exits 1 with its reason", async () => {
    const { home } = await signedInHome();
    const tooLong = await roomz(home, ["send", "--server", server.url, "x".repeat(4001)]);
    expect(tooLong.code).toBe(1);
    expect(tooLong.err.length).toBeGreaterThan(10);
  });
});

describe("access tokens from the terminal", () => {
  test("token create/list/revoke with the cached session; send with ROOMZ_TOKEN, listen with --token (a read token, over the stream)", async () => {
    const { home } = await signedInHome();
    const at = ["--server", server.url];
    const created = await roomz(home, ["token", "create", "nightly", "backup", "--scope", "send", "--expires", "30", ...at]);
    expect(created.code).toBe(0);
    const sendToken = created.out.trim();
    expect(sendToken).toMatch(/^rz_[A-Za-z0-9_-]{43}$/);
    expect(created.err).toContain('Token "nightly backup"');
    const readToken = (await roomz(home, ["token", "create", "reader", "--scope=read", ...at])).out.trim();
    const listed = await roomz(home, ["token", "list", ...at]);
    expect(listed.code).toBe(0);
    expect(listed.out.split("\n").filter(Boolean)).toHaveLength(2);
    expect(listed.out).toContain('"nightly backup"');
    expect(listed.out).not.toContain(sendToken);

    const tokenHome = tempDir("roomz-home-"); // no cached session: the token alone
    const listener = listen(tokenHome, ["--json", "--token", readToken]);
    try {
      await until(() => listener.stderr().includes(`Connected to ${server.url}.`), "listen --token to connect");
      expect(await roomz(tokenHome, ["send", ...at, "backup", "done"], undefined, { ROOMZ_TOKEN: sendToken })).toMatchObject({ code: 0, err: "" });
      expect((await roomz(tokenHome, ["send", ...at, `--token=${sendToken}`], "from stdin\n")).code).toBe(0);
      await until(() => listener.messages.length === 2, "two messages on listen --token");
      expect(listener.messages.map((m) => [m.content, m.user.display_name])).toEqual([["backup done", "nightly backup"], ["from stdin", "nightly backup"]]);
    } finally {
      listener.child.kill();
    }
    const id = listed.out.split("\n").find((line) => line.includes('"nightly backup"'))!.split(" ")[0];
    expect((await roomz(home, ["token", "revoke", id, ...at])).code).toBe(0);
    const refused = await roomz(tokenHome, ["send", ...at, "after revoke"], undefined, { ROOMZ_TOKEN: sendToken });
    expect(refused.code).toBe(3);
    expect(refused.err).toContain("refused the access token");
    expect((await roomz(tokenHome, ["send", ...at, "no session"], undefined, { ROOMZ_TOKEN: readToken })).code).toBe(1);
    expect((await roomz(home, ["token", "create", ...at])).code).toBe(2);
    expect((await roomz(home, ["token", "create", "x", "--scope", "admin", ...at])).code).toBe(2);
    expect((await roomz(tokenHome, ["token", "list", ...at])).code).toBe(3);
  }, 30000);
});
