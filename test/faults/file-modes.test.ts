/**
 * Private data files (PROTOCOL.md section 3, v2; issue 12, defect 5): the data directory
 * is 0700 and every file in it 0600, even when the directory already existed with 0755
 * and an earlier run left its database 0644, and for the files SQLite makes later (-wal,
 * -shm) while the test process's own umask is 022.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { signIn, startServer, tempDir, type TestServer } from "../helpers/server";
import { WsClient } from "../helpers/ws-client";

const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop("SIGKILL");
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8).padStart(4, "0");

test("a 0755 data directory with an earlier run's 0644 files: after start and a message stored, 0700 and 0600 throughout", async () => {
  const previousUmask = process.umask(0o022); // what an operator's shell usually has
  try {
    const dataDir = tempDir("roomz-modes-");
    // The embedded engine's files are the point here, whatever ROOMZ_TEST_ENGINE says.
    const env = { REDIS_URL: undefined, JWT_SECRET_KEY: undefined };
    const earlier = await startServer({ dataDir, env });
    servers.push(earlier);
    const jwt = await signIn(earlier, "alice@example.com");
    const first = await WsClient.connect(earlier.wsUrl, { jwt });
    await first.sendMessage("from an earlier run");
    first.close();
    expect(await earlier.stop()).toBe(0);

    // What an earlier Roomz (or a restored copy, or an operator's mkdir) left behind.
    chmodSync(dataDir, 0o755);
    for (const name of readdirSync(dataDir)) chmodSync(join(dataDir, name), 0o644);
    expect(mode(join(dataDir, "roomz.sqlite"))).toBe("0644");

    const server = await startServer({ dataDir, env });
    servers.push(server);
    const ws = await WsClient.connect(server.wsUrl, { jwt });
    await ws.sendMessage("stored while the files are checked");

    const files = Object.fromEntries(readdirSync(dataDir).map((name) => [name, mode(join(dataDir, name))]));
    expect({ dir: mode(dataDir), ...files }).toMatchObject({
      dir: "0700",
      "roomz.sqlite": "0600",
      "roomz.sqlite-wal": "0600",
      "roomz.sqlite-shm": "0600",
      "roomz.lock": "0600",
      "jwt-secret.key": "0600",
    });
    // Every file, not only the ones named above.
    for (const [name, fileMode] of Object.entries(files)) expect(`${name} ${fileMode}`).toBe(`${name} 0600`);
    ws.close();
  } finally {
    process.umask(previousUmask);
  }
}, 30_000);

test("ROOMZ_DATA_DIR as a symbolic link to a 0755 directory with 0644 files: the directory it names is made private too", async () => {
  const target = tempDir("roomz-modes-target-");
  const earlier = await startServer({ dataDir: target, env: { REDIS_URL: undefined, JWT_SECRET_KEY: undefined } });
  servers.push(earlier);
  expect(await earlier.stop()).toBe(0);
  chmodSync(target, 0o755);
  for (const name of readdirSync(target)) chmodSync(join(target, name), 0o644);
  const link = join(tempDir("roomz-modes-link-"), "data");
  symlinkSync(target, link);

  const server = await startServer({ dataDir: link, env: { REDIS_URL: undefined, JWT_SECRET_KEY: undefined } });
  servers.push(server);
  expect(mode(target)).toBe("0700");
  for (const name of readdirSync(target)) expect(`${name} ${mode(join(target, name))}`).toBe(`${name} 0600`);
}, 30_000);
