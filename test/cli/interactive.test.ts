/** `roomz cli` in a real terminal against a real server, with a library client on the same channel. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ChatMessage, DisplayNameChangedData } from "../../src/client";
import { SessionCache } from "../../src/client/session-cache";
import { tempDir, type TestServer } from "../helpers/server";
import { freshUser, signedInClient, startTestServer, until } from "../client/support";
import { TmuxCli } from "./tmux";

let server: TestServer;
const clis: TmuxCli[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const cli of clis) cli.kill();
  await server?.stop();
});

function openCli(home = tempDir("roomz-home-")): TmuxCli {
  const cli = new TmuxCli(home, server.url);
  clis.push(cli);
  return cli;
}

/** A CLI started with a saved session of `email` (a real one, in its own HOME), once it says it is connected. */
async function connectedCli(email: string): Promise<TmuxCli> {
  const home = tempDir("roomz-home-");
  const { session } = await signedInClient(server, email);
  new SessionCache(join(home, ".roomz", "session.json")).set(server.url, { session, email, expires_at: new Date(Date.now() + 86_400_000).toISOString() });
  const cli = openCli(home);
  await cli.waitFor(`Connected to ${server.url}.`);
  return cli;
}

/** With the server gone: waits for the CLI to say so, then types "typed while away", which it queues. */
async function typedWhileAway(cli: TmuxCli) {
  await cli.waitFor(/(Server unreachable at .*; retrying in \d+ s\.)|(Connection lost .*reconnecting in \d+ s\.)/);
  cli.type("typed while away");
  await cli.waitFor("the message waits and is sent on reconnect");
}

/** Types `/login <email>`, waits for the CLI's answer `shown`, and reads the sign-in link the server printed. */
async function requestLink(cli: TmuxCli, email: string, shown: string): Promise<string> {
  const from = server.output.length;
  cli.type(`/login ${email}`);
  await cli.waitFor(shown);
  const [, link] = await server.waitForOutput(new RegExp(`magic-link ${email.replace(/\./g, "\\.")} (\\S+)`), 10000, from);
  return link;
}

describe("roomz cli", () => {
  test("sign in, chat with a library client, keep the half-typed line, name, history, logout, quit", async () => {
    const email = freshUser();
    const cli = openCli();
    await cli.waitFor("Not signed in. Type /login <email>");

    const token = new URL(await requestLink(cli, email, "a sign-in link is on its way")).searchParams.get("token");
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    cli.type(`/token ${token}`);
    await cli.waitFor(`Signed in as ${email}.`);
    await cli.waitFor(`Connected to ${server.url}.`);
    const cacheFile = join(cli.home, ".roomz", "session.json");
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    const cliSession = new SessionCache(cacheFile).get(server.url)!.session;
    expect(cli.screen(true)).toContain("\x1b[32m"); // colours on a terminal

    const { client } = await signedInClient(server, email);
    const received: ChatMessage[] = [];
    const renames: DisplayNameChangedData[] = [];
    client.on("message", (m) => received.push(m));
    client.on("display_name_changed", (d) => renames.push(d));
    await client.connect();
    await cli.waitFor("Another connection opened (2 open).");

    cli.type("hello from the terminal");
    await until(() => received.some((m) => m.content === "hello from the terminal"), "the library to get the CLI's message");

    cli.type("a draft in progr", false);
    await cli.waitFor("roomz> a draft in progr");
    await client.send("news from the library");
    const screen = await cli.waitFor("news from the library");
    expect(screen).toMatch(/\d\d:\d\d:\d\d user\d+@example\.com: news from the library/);
    expect(cli.promptLine()).toBe("roomz> a draft in progr"); // redrawn below the message, intact
    cli.type("ess");
    await until(() => received.some((m) => m.content === "a draft in progress"), "the completed draft");

    cli.type("/name desk");
    await cli.waitFor('Display name set to "desk".');
    await until(() => renames.some((d) => d.user.display_name === "desk"), "the library to see the name");

    cli.type("/history 3");
    const history = await cli.waitFor("--- end of history ---");
    expect(history).toContain("--- last 3 messages ---");
    const shown = history.slice(history.lastIndexOf("--- last 3 messages ---"));
    expect(shown).toMatch(/hello from the terminal[\s\S]*news from the library[\s\S]*a draft in progress/);

    cli.type("/nonsense");
    await cli.waitFor("Unknown command /nonsense. Type /help for the list.");
    cli.type("/help");
    await cli.waitFor("/history [n]");

    cli.type("/logout");
    await cli.waitFor("Signed out. Type /login <email> to sign in again.");
    expect(cli.screen()).not.toContain("refused");
    expect(new SessionCache(cacheFile).get(server.url)).toBeNull();
    const me = await fetch(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${cliSession}` } });
    expect(me.status).toBe(401);
    cli.type("not signed in any more");
    await cli.waitFor("You are not signed in. Type /login <email> first.");

    cli.type("/quit");
    expect(await cli.exitCode()).toBe(0);
    client.close();
  });

  test("a cached session refused by the server is removed, with a hint to /login", async () => {
    const home = tempDir("roomz-home-");
    const cache = new SessionCache(join(home, ".roomz", "session.json"));
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    cache.set(server.url, { session: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad", email: "user1@example.com", expires_at: expires });
    cache.set("http://other.example", { session: "keep-me", email: "x@example.com", expires_at: expires });
    const cli = openCli(home);
    await cli.waitFor("Signed in as user1@example.com (saved session).");
    await cli.waitFor("Your saved session was refused by the server, so it was removed. Type /login <email> to sign in again.");
    expect(cache.get(server.url)).toBeNull();
    expect(cache.get("http://other.example")?.session).toBe("keep-me");
    cli.type("/quit");
    expect(await cli.exitCode()).toBe(0);
  });

  test("a cached session connects at once, and the terminal shows a lost server and its return", async () => {
    const email = freshUser();
    const cli = await connectedCli(email);
    await server.stop("SIGKILL");
    await typedWhileAway(cli);
    await server.start();
    await cli.waitFor(/typed while away/, 40000);
    const screen = await cli.waitFor(/\d\d:\d\d:\d\d user\d+@example\.com \(this terminal\): typed while away/, 40000);
    expect(screen.match(/\(this terminal\): typed while away/g)?.length).toBe(1);
    cli.type("/quit");
    expect(await cli.exitCode()).toBe(0);
  }, 90000);

  test("/quit with a message still waiting for the server warns first; the second /quit exits 1 and names what was not sent", async () => {
    const email = freshUser();
    const cli = await connectedCli(email);
    await server.stop("SIGKILL");
    try {
      await typedWhileAway(cli);
      cli.type("/quit");
      await cli.waitFor("1 message is not sent yet: it waits for the server. /quit (or Ctrl-C) again to leave anyway, and lose it.");
      cli.type("/quit");
      expect(await cli.exitCode()).toBe(1);
      expect(cli.screen()).toContain('Not sent: "typed while away"');
    } finally {
      await server.start();
    }
  }, 60000);

  test("/token for another address while signed in: the terminal joins that user's channel, and nothing reaches the first", async () => {
    const [first, second] = [freshUser(), freshUser()];
    const cli = await connectedCli(first);
    const { client: firstClient } = await signedInClient(server, first);
    const { client: secondClient } = await signedInClient(server, second);
    const [toFirst, toSecond]: ChatMessage[][] = [[], []];
    firstClient.on("message", (m) => toFirst.push(m));
    secondClient.on("message", (m) => toSecond.push(m));
    await Promise.all([firstClient.connect(), secondClient.connect()]);

    cli.type(`/token ${await requestLink(cli, second, "a sign-in link is on its way")}`);
    await cli.waitFor(`Signed in as ${second}.`);
    await until(() => cli.screen().split(`Connected to ${server.url}.`).length === 3, "the second connect");
    cli.type("who am i");
    await until(() => toSecond.some((m) => m.content === "who am i"), "the second user's channel to get it");
    cli.type("/history 1");
    await cli.waitFor(new RegExp(`${second.replace(/\./g, "\\.")} \\(this terminal\\): who am i\\n.*--- end of history ---`));
    expect(toFirst).toEqual([]);

    cli.type("/logout");
    await cli.waitFor("Signed out. Type /login <email> to sign in again.");
    expect(cli.screen()).not.toContain("refused");
    cli.type("/quit");
    expect(await cli.exitCode()).toBe(0);
    firstClient.close();
    secondClient.close();
  }, 40000);

  test("/logout of a saved session says that it signed out, not that the session was refused", async () => {
    const email = freshUser();
    const cli = await connectedCli(email);
    cli.type("/logout");
    await cli.waitFor("Signed out. Type /login <email> to sign in again.");
    expect(cli.screen()).not.toContain("refused");
    cli.type("/quit");
    expect(await cli.exitCode()).toBe(0);
  });

  test("the whole sign-in link pasted after /token signs in, as its token does", async () => {
    const email = freshUser();
    const cli = openCli();
    await cli.waitFor("Not signed in.");
    const link = await requestLink(cli, email, "Open it, or type /token followed by the link");
    cli.type(`/token ${link}`);
    await cli.waitFor(`Signed in as ${email}.`);
    cli.type("/quit");
    expect(await cli.exitCode()).toBe(0);
  }, 30000);

  test("failures get a clear sentence: bad token, bad address, rate limit with its wait", async () => {
    const cli = openCli();
    await cli.waitFor("Not signed in.");
    cli.type("/token definitely-not-a-valid-token-000000000000");
    await cli.waitFor("That token is not valid: it is unknown or was already used. Type /login <email> for a new one.");
    cli.type("/login not-an-address");
    await cli.waitFor("The server refused that:");
    cli.type("/quit");
    expect(await cli.exitCode()).toBe(0);
    expect(existsSync(join(cli.home, ".roomz", "session.json"))).toBe(false);

    const strict = await startTestServer({ MAGIC_LINK_RATE_LIMIT: "1" });
    try {
      const limited = new TmuxCli(tempDir("roomz-home-"), strict.url);
      clis.push(limited);
      await limited.waitFor("Not signed in.");
      limited.type("/login user1@example.com");
      await limited.waitFor("a sign-in link is on its way");
      limited.type("/login user1@example.com");
      await limited.waitFor(/Too many requests\. Try again in \d+ (s|min)\./);
      limited.type("/quit");
      expect(await limited.exitCode()).toBe(0);
    } finally {
      await strict.stop();
    }
  });
});
