/**
 * A database written by the previous release (schema 1: one clustered `messages` table
 * with a client_msg_id index), made by that release's server and kept in
 * test/fixtures/roomz-schema1.sqlite (alice: 30 messages, bob: 12; two of every three
 * with a client_msg_id). The current server opens it, migrates it to the append-only log
 * (schema 2), and continues it: same epoch, same seqs, de-dup of the old ids.
 */
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { startServer, tempDir, type TestServer } from "../helpers/server";
import { WsClient } from "../helpers/ws-client";
import { MIGRATIONS_KNOWN } from "../../src/engine/embedded/database";
import { HS256, mintJwt, sessionClaims } from "../helpers/jwt";

const FIXTURE = join(import.meta.dir, "../fixtures/roomz-schema1.sqlite");
const SECRET = "fixture-secret-key-0123456789-abcdefghij";
let server: TestServer | undefined;
const session = (email: string) => mintJwt(HS256, sessionClaims(email), SECRET);
afterAll(() => server?.stop());

test("a schema-1 database migrates to the log and continues: history, epoch, seqs, old client_msg_ids are duplicates", async () => {
  const dataDir = tempDir("roomz-migrate-");
  const file = join(dataDir, "roomz.sqlite");
  copyFileSync(FIXTURE, file);
  const old = new Database(file);
  expect(old.query("PRAGMA user_version").get()).toEqual({ user_version: 1 });
  const epoch = (old.query("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string }).value;
  // The fixture's messages were sent when it was made; de-dup covers the last day, so
  // they are moved to "just now" (nothing else of the file changes).
  old.query("UPDATE messages SET created_at = ?").run(Date.now() - 60_000);
  old.close();

  server = await startServer({ dataDir, env: { ALLOWED_EMAILS: "alice@example.com,bob@example.com", JWT_SECRET_KEY: SECRET } });
  const alice = await WsClient.connect(server.wsUrl, { jwt: session("alice@example.com"), since: 0 });
  expect(alice.authenticated.data.epoch).toBe(epoch);
  const replay = alice.replay!.data.messages;
  expect(replay.map((m: any) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  expect(replay.map((m: any) => m.content)).toEqual(Array.from({ length: 30 }, (_, i) => `alice ${i + 1}`));
  expect(replay[4].client_msg_id).toBe("fixture-alice-5");
  expect(replay[2].client_msg_id).toBeNull();

  const resent = await alice.request("message", { content: "sent again", client_msg_id: "fixture-alice-5" });
  expect(resent.data).toEqual({ id: replay[4].id, seq: 5, timestamp: replay[4].timestamp, duplicate: true, files: [] });
  const fresh = await alice.request("message", { content: "after the upgrade", client_msg_id: "new-after-upgrade" });
  expect(fresh.data.seq).toBe(31);
  expect(fresh.data.duplicate).toBe(false);

  const bob = await WsClient.connect(server.wsUrl, { jwt: session("bob@example.com"), since: 10 });
  expect(bob.replay!.data.messages.map((m: any) => m.content)).toEqual(["bob 11", "bob 12"]);
  expect((await bob.request("message", { content: "bob 13" })).data.seq).toBe(13);
  const page = await bob.request("history", { before: 3, limit: 5 });
  expect(page.data.messages.map((m: any) => m.content)).toEqual(["bob 1", "bob 2"]);
  alice.close();
  bob.close();

  // After a restart the new ids are duplicates too (rebuilt from the log).
  await server.restart();
  const again = await WsClient.connect(server.wsUrl, { jwt: session("alice@example.com") });
  const repeat = await again.request("message", { content: "x", client_msg_id: "new-after-upgrade" });
  expect(repeat.data).toEqual({ ...fresh.data, duplicate: true });
  again.close();
  await server.stop();
  const migrated = new Database(file, { readonly: true });
  expect(migrated.query("PRAGMA user_version").get()).toEqual({ user_version: MIGRATIONS_KNOWN });
  expect(migrated.query("SELECT name FROM sqlite_master WHERE name = 'messages'").get()).toBeNull();
  expect(migrated.query("SELECT count(*) AS n FROM log").get()).toEqual({ n: 44 });
  migrated.close();
});
