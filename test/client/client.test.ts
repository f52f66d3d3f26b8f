/** The client core against a real server: requests, errors, presence, display names. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RoomzClient, RoomzError } from "../../src/client";
import type { ChatMessage, DisplayNameChangedData } from "../../src/client";
import { requestToken, type TestServer } from "../helpers/server";
import { FAST, freshUser, signedInClient, startTestServer, until } from "./support";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ MAX_MESSAGE_LENGTH: "100" });
});
afterAll(() => server?.stop());

describe("RoomzClient", () => {
  test("sign-in through the client: verifyToken stores the session and reports it", async () => {
    const email = freshUser();
    const sessions: unknown[] = [];
    const client = new RoomzClient({ server: `${server.url}/`, onSession: (s) => sessions.push(s), ...FAST });
    await client.requestMagicLink(email);
    const token = await requestToken(server, email);
    const result = await client.verifyToken(token);
    expect(result.user.email).toBe(email);
    expect(sessions).toEqual([{ session: result.session, email, expires_at: result.expires_at }]);
    const me = await client.me();
    expect(me.user.email).toBe(email);
    const auth = await client.connect();
    expect(auth.user.email).toBe(email);
    expect(client.state.status).toBe("connected");
    expect(client.connectionId).toBe(auth.connection_id);
    client.close();
    expect(client.state).toEqual({ status: "stopped", reason: "closed", stop: "closed" });
  });

  test("HTTP problems become RoomzError with code, status and a sentence", async () => {
    const client = new RoomzClient({ server: server.url });
    const bad = await client.verifyToken("not-a-real-token-at-all-0000000000000").catch((e) => e);
    expect(bad).toBeInstanceOf(RoomzError);
    expect(bad.code).toBe("invalid_token");
    expect(bad.status).toBe(400);
    expect(bad.message.length).toBeGreaterThan(10);
    const invalid = await client.requestMagicLink("no-at-sign").catch((e) => e);
    expect(invalid.code).toBe("invalid_request");
    const me = await client.me().catch((e) => e);
    expect(me.code).toBe("unauthenticated");
    expect(me.status).toBe(401);
  });

  test("an unreachable server is a RoomzError `unreachable`", async () => {
    const client = new RoomzClient({ server: "http://127.0.0.1:9" });
    const error = await client.requestMagicLink("a@example.com").catch((e) => e);
    expect(error).toBeInstanceOf(RoomzError);
    expect(error.code).toBe("unreachable");
  });

  test("send resolves on the ack; every client of the user gets the message once", async () => {
    const email = freshUser();
    const { client: a } = await signedInClient(server, email);
    const { client: b } = await signedInClient(server, email);
    const seen: ChatMessage[] = [];
    b.on("message", (m) => seen.push(m));
    await a.connect();
    await b.connect();
    const ack = await a.send("hello <b>world</b>", "my-own-id-1");
    expect(ack.duplicate).toBe(false);
    await until(() => seen.length === 1, "b to see the message");
    expect(seen[0]).toMatchObject({ seq: ack.seq, id: ack.id, content: "hello <b>world</b>", client_msg_id: "my-own-id-1" });
    const again = await a.send("whatever", "my-own-id-1");
    expect(again).toMatchObject({ seq: ack.seq, id: ack.id, duplicate: true });
    await Bun.sleep(200);
    expect(seen.length).toBe(1);
    expect(a.lastSeq).toBe(ack.seq);
    a.close();
    b.close();
  });

  test("error frames reject send with their code", async () => {
    const { client } = await signedInClient(server, freshUser());
    await client.connect();
    const empty = await client.send("   ").catch((e) => e);
    expect(empty).toBeInstanceOf(RoomzError);
    expect(empty.code).toBe("empty_message");
    const long = await client.send("x".repeat(101)).catch((e) => e);
    expect(long.code).toBe("message_too_long");
    const ok = await client.send("x".repeat(100));
    expect(ok.seq).toBe(1);
    client.close();
  });

  test("history pages back; a fresh client's events start after the channel's head", async () => {
    const email = freshUser();
    const { client: a } = await signedInClient(server, email);
    await a.connect();
    for (let i = 1; i <= 5; i++) await a.send(`m${i}`);
    const { client: b } = await signedInClient(server, email);
    const seen: number[] = [];
    b.on("message", (m) => seen.push(m.seq));
    await b.connect();
    expect(b.lastSeq).toBe(5);
    const page = await b.history({ limit: 3 });
    expect(page.messages.map((m) => m.content)).toEqual(["m3", "m4", "m5"]);
    expect(page.has_more).toBe(true);
    const older = await b.history({ before: 3, limit: 50 });
    expect(older.messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(older.has_more).toBe(false);
    await a.send("m6");
    await until(() => seen.length === 1, "the live message");
    expect(seen).toEqual([6]);
    a.close();
    b.close();
  });

  test("connections follow joins, leaves and names; the name survives a reconnect", async () => {
    const email = freshUser();
    const { client: a } = await signedInClient(server, email);
    const { client: b } = await signedInClient(server, email);
    await a.connect();
    expect(a.connections.map((c) => c.connection_id)).toEqual([a.connectionId!]);
    const names: DisplayNameChangedData[] = [];
    a.on("display_name_changed", (d) => names.push(d));
    await b.connect();
    await until(() => a.connections.length === 2, "a to see b join");
    expect(await b.setDisplayName("  laptop  ")).toBe("laptop");
    await until(() => names.length === 1, "a to see the new name");
    expect(a.connections.find((c) => c.connection_id === b.connectionId)?.display_name).toBe("laptop");
    expect(b.connections.find((c) => c.connection_id === b.connectionId)?.display_name).toBe("laptop");

    await server.restart();
    await until(() => a.state.status === "connected" && b.state.status === "connected", "both to reconnect");
    const ack = await b.send("after restart");
    const stored = (await b.history({ limit: 1 })).messages[0];
    expect(stored.seq).toBe(ack.seq);
    expect(stored.user.display_name).toBe("laptop");

    expect(await b.setDisplayName(null)).toBeNull();
    b.close();
    await until(() => a.connections.length === 1, "a to see b leave");
    a.close();
  });
});
