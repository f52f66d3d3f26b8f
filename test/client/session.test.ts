/** Sessions: 4001 and refused sessions stop the client; the cache lets a new process connect. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { RoomzClient, type ConnectionState, type SessionInfo } from "../../src/client";
import { createClient } from "../../src/client/node";
import { SessionCache } from "../../src/client/session-cache";
import { ROOT, requestToken, signIn, tempDir, type TestServer } from "../helpers/server";
import { FAST, freshUser, signedInClient, startTestServer, until } from "./support";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

describe("sessions", () => {
  test("logout-all elsewhere closes with 4001: stopped, session dropped, no reconnect", async () => {
    const email = freshUser();
    const dropped: Array<SessionInfo | null> = [];
    const { client } = await signedInClient(server, email, { onSession: (s) => dropped.push(s) });
    const states: ConnectionState[] = [];
    client.on("connection_state", (s) => states.push(s));
    await client.connect();
    const queued = client.send("x");
    const other = new RoomzClient({ server: server.url, session: await signIn(server, email) });
    await other.logoutAll();
    await until(() => client.state.status === "stopped", "the client to stop");
    expect(client.state.reason).toBe("session ended");
    expect(dropped).toEqual([null]);
    await queued.catch(() => {}); // acked before the close or rejected: never left hanging
    const count = states.length;
    await Bun.sleep(800); // many backoff periods
    expect(states.length).toBe(count);
    expect((await client.send("after").catch((e) => e)).code).toBe("session_ended");
  });

  test("a refused session at connect stops with `signed out` and rejects connect()", async () => {
    const dropped: Array<SessionInfo | null> = [];
    const client = new RoomzClient({ server: server.url, session: "not.a.jwt", onSession: (s) => dropped.push(s), ...FAST });
    const error = await client.connect().catch((e) => e);
    expect(error.code).toBe("unauthenticated");
    expect(client.state).toEqual({ status: "stopped", reason: "signed out", stop: "signed_out" });
    expect(dropped).toEqual([null]);
  });

  test("verifyToken for another user stops the first user's connection (`user_changed`); connect() joins the new channel", async () => {
    const [first, second] = [freshUser(), freshUser()];
    const { client } = await signedInClient(server, first);
    await client.connect();
    const { client: watcher } = await signedInClient(server, first);
    const seenByFirst: string[] = [];
    watcher.on("message", (m) => seenByFirst.push(m.content));
    await watcher.connect();
    const result = await client.verifyToken(await requestToken(server, second));
    expect(result.user.email).toBe(second);
    expect(client.state).toEqual({ status: "stopped", reason: "signed in as another user", stop: "user_changed" });
    expect(client.user).toBeNull();
    const auth = await client.connect();
    expect(auth.user.email).toBe(second);
    expect((await client.send("for the second")).seq).toBe(1);
    await client.send("flush");
    await Bun.sleep(200);
    expect(seenByFirst).toEqual([]);
    client.close();
    watcher.close();
  });

  test("a message queued before any connect is not sent when verifyToken signs in another user", async () => {
    const [first, second] = [freshUser(), freshUser()];
    const { client } = await signedInClient(server, first);
    await client.me(); // the client knows its user, never connected
    const queued = client.send("typed by the first user").catch((e) => e);
    await client.verifyToken(await requestToken(server, second));
    expect(((await queued) as Error).message).toBe(`Not sent: you signed in as ${second}.`);
    await client.connect();
    await client.send("the second user's own");
    expect((await client.history()).messages.map((m) => m.content)).toEqual(["the second user's own"]);
    client.close();
  });

  test("logout ends this session on the server and stops the client", async () => {
    const { client, session } = await signedInClient(server, freshUser());
    await client.connect();
    await client.logout();
    expect(client.state.status).toBe("stopped");
    const res = await fetch(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${session}` } });
    expect(res.status).toBe(401);
  });

  test("the session cache lets a new process connect without a link", async () => {
    const home = tempDir("roomz-home-");
    const file = join(home, ".roomz", "session.json");
    const email = freshUser();
    const first = await createClient({ server: `${server.url}/`, sessionCacheFile: file });
    await first.verifyToken(await requestToken(server, email));
    first.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, ".roomz")).mode & 0o777).toBe(0o700);
    expect(new SessionCache(file).get(server.url)?.email).toBe(email);

    const script = `
      import { createClient } from ${JSON.stringify(join(ROOT, "src/client/node.ts"))};
      const client = await createClient({ server: process.argv[2] });
      const auth = await client.connect();
      const ack = await client.send("from a new process");
      console.log(JSON.stringify({ email: auth.user.email, seq: ack.seq }));
      client.close();`;
    const scriptFile = join(home, "child.ts");
    await Bun.write(scriptFile, script);
    const child = Bun.spawn([process.execPath, scriptFile, server.url], { env: { ...process.env, HOME: home }, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = [await new Response(child.stdout).text(), await new Response(child.stderr).text(), await child.exited];
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ email, seq: 1 });
  });

  test("the cache is keyed by server without trailing slash, 0600, and forgets on null", () => {
    const file = join(tempDir("roomz-home-"), "nested", "session.json");
    const cache = new SessionCache(file);
    const info = { session: "s", email: "e@example.com", expires_at: new Date(Date.now() + 60_000).toISOString() };
    cache.set("http://a.example:8000/", info);
    cache.set("http://b.example", { ...info, email: "b@example.com" });
    expect(JSON.parse(require("node:fs").readFileSync(file, "utf8"))["http://a.example:8000"]).toEqual(info);
    expect(cache.get("http://a.example:8000")).toEqual(info);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    cache.set("http://a.example:8000", null);
    expect(cache.get("http://a.example:8000/")).toBeNull();
    expect(cache.get("http://b.example")?.email).toBe("b@example.com");
    cache.set("http://c.example", { ...info, expires_at: new Date(Date.now() - 1000).toISOString() });
    expect(cache.get("http://c.example")).toBeNull();
  });
});
