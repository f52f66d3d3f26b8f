/**
 * `roomz backup` and `roomz restore` carry the uploaded files (PROTOCOL.md section 5;
 * the embedded store's, so this server runs embedded even in a ROOMZ_TEST_ENGINE=redis run):
 * backed up while the server runs, restored with the server stopped into a data directory
 * whose files were lost, and then served again byte for byte.
 */
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runRoomz, signIn, startServer, tempDir, type TestServer } from "../helpers/server";
import { WsClient } from "../helpers/ws-client";
import { auth, png, sha256, uploaded } from "./support";

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

test("a backup holds the files' bytes; after losing them, a restore serves them again, byte for byte", async () => {
  const dataDir = tempDir("roomz-files-backup-");
  const server = await startServer({ dataDir, env: { ALLOWED_EMAILS: "alice@example.com", JWT_SECRET_KEY: undefined, REDIS_URL: undefined } });
  servers.push(server);
  const jwt = await signIn(server, "alice@example.com");
  const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 13) % 256);
  const files = [
    await uploaded(server, jwt, png(5, 5), "a.png", "image/png"),
    await uploaded(server, jwt, big, "big.bin"),
    await uploaded(server, jwt, new Uint8Array(0), "empty.txt"),
  ];
  const ws = await WsClient.connect(server.wsUrl, { jwt });
  expect((await ws.request("message", { content: "both", files: files.map((f) => f.id) })).type).toBe("ack");
  ws.close();
  const backupFile = join(tempDir(), "roomz.backup");
  const env = { ...process.env, ROOMZ_DATA_DIR: dataDir, REDIS_URL: "" };
  const made = await runRoomz(["backup", backupFile], { env });
  expect([made.code, made.stderr]).toEqual([0, ""]);
  expect(made.stdout).toContain("3 uploaded file(s)");
  // The empty file is one empty piece; a backup of an older release has none, and the
  // restore must still bring it back: take the piece out to be that older backup.
  const backup = new Database(backupFile);
  const emptyPiece = "SELECT length(content) AS bytes FROM backup_blobs WHERE sha256 = ?";
  expect(backup.query(emptyPiece).all(sha256(new Uint8Array(0)))).toEqual([{ bytes: 0 }]);
  backup.query("DELETE FROM backup_blobs WHERE sha256 = ?").run(sha256(new Uint8Array(0)));
  backup.close();
  await server.stop();
  rmSync(join(dataDir, "files"), { recursive: true });
  const restored = await runRoomz(["restore", backupFile], { env });
  expect([restored.code, restored.stderr]).toEqual([0, ""]);
  expect(restored.stdout).toContain("3 uploaded file(s)");
  expect(existsSync(join(dataDir, "files", big.length ? sha256(big).slice(0, 2) : "", sha256(big)))).toBe(true);
  await server.start();
  for (const file of files) {
    const res = await fetch(`${server.url}/files/${file.id}`, { headers: auth(jwt) });
    expect([file.name, res.status]).toEqual([file.name, 200]);
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(file.sha256);
  }
});
