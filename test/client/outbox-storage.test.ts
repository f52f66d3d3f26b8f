/**
 * The outbox's storage (issue 17): messages sent and not yet acknowledged are kept in a
 * storage the application gives; a new client (a reloaded page) sends them again with
 * their client_msg_id, so each is stored once, and the storage empties as acks arrive.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { OutboxStorage, PendingSend } from "../../src/client";
import type { TestServer } from "../helpers/server";
import { allMessages, freshUser, signedInClient, startTestServer } from "./support";

let server: TestServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server?.stop());

/** A storage in memory, as localStorage would hold it: the last list saved. */
function memoryStorage(): OutboxStorage & { saved: PendingSend[] } {
  const storage = {
    saved: [] as PendingSend[],
    load: () => storage.saved,
    save: (list: PendingSend[]) => void (storage.saved = list.map((p) => ({ ...p }))),
  };
  return storage;
}

test("a message queued before a restart is sent by the next client once, and the storage empties", async () => {
  const email = freshUser();
  const storage = memoryStorage();
  // The first client never connects (offline): its message waits in the outbox and in storage.
  const { client: first, session } = await signedInClient(server, email, { outboxStorage: storage });
  void first.send("typed offline", "queued-1").catch(() => {});
  expect(storage.saved).toEqual([{ client_msg_id: "queued-1", content: "typed offline", created_at: expect.any(String) }]);

  // Sent once already (its ack lost): the server must not store it twice.
  const { client: other } = await signedInClient(server, email);
  await other.connect();
  await other.send("typed offline", "queued-1");

  const { client: second } = await signedInClient(server, email, { outboxStorage: storage, session });
  expect(second.restoredSends()).toEqual([]); // queued only once this client knows its user
  await second.me();
  const restored = second.restoredSends();
  expect(restored.map((r) => r.client_msg_id)).toEqual(["queued-1"]);
  expect(second.restoredSends()).toEqual([]);
  await second.connect();
  const ack = await restored[0].ack;
  expect(ack.duplicate).toBe(true);
  expect(storage.saved).toEqual([]);
  expect((await allMessages(other)).filter((m) => m.client_msg_id === "queued-1")).toHaveLength(1);
  for (const c of [first, other, second]) c.close();
});

test("logging out (or any stop) drops what the storage kept", async () => {
  const storage = memoryStorage();
  const { client } = await signedInClient(server, freshUser(), { outboxStorage: storage });
  const sent = client.send("never sent").catch((e) => e);
  expect(storage.saved).toHaveLength(1);
  client.close();
  expect((await sent).code).toBe("closed");
  expect(storage.saved).toEqual([]);
});

test("a saved message is queued only for the user who typed it; another user's client leaves it stored", async () => {
  const [typist, next] = [freshUser(), freshUser()];
  const storage = memoryStorage();
  const { client: first } = await signedInClient(server, typist, { outboxStorage: storage });
  await first.me(); // the client knows its user, as the web app's does before its chat starts
  void first.send("mine only", "owned-1").catch(() => {});
  expect(storage.saved).toEqual([{ client_msg_id: "owned-1", content: "mine only", created_at: expect.any(String), user: typist }]);

  const { client: other } = await signedInClient(server, next, { outboxStorage: storage });
  await other.connect();
  expect(other.restoredSends()).toEqual([]);
  await other.send("the next user's own");
  expect(storage.saved.map((p) => p.client_msg_id)).toEqual(["owned-1"]);
  expect((await allMessages(other)).map((m) => m.content)).toEqual(["the next user's own"]);

  const { client: back } = await signedInClient(server, typist, { outboxStorage: storage });
  await back.connect();
  const [restored] = back.restoredSends();
  expect((await restored.ack).duplicate).toBe(false);
  expect((await allMessages(back)).map((m) => m.content)).toEqual(["mine only"]);
  expect(storage.saved).toEqual([]);
  for (const c of [first, other, back]) c.close();
});
