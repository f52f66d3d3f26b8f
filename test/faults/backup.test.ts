/**
 * Backup and restore (issue 12, PROTOCOL.md v2 sections 2 and 5), following
 * docs/deployment.md step by step: `roomz backup` while messages flow, stop, `roomz
 * restore`, start; a client that saw later messages resets and then receives every new
 * message. Before v2 the restored store kept its epoch and reused seqs the client had
 * seen, so the client dropped the new messages as old.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT, requestToken, runRoomz, signIn, startServer, tempDir, type TestServer } from "../helpers/server";
import { RoomzClient } from "../../src/client";
import { FAST, until, watching } from "../client/support";

const EMAIL = "alice@example.com";
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop("SIGKILL");
});

/** Runs `roomz <args>` as an operator would, on the server's data directory. */
function roomz(dataDir: string, ...args: string[]) {
  return runRoomz(args, { env: { ...process.env, ROOMZ_DATA_DIR: dataDir, REDIS_URL: "" } });
}

describe("roomz backup and roomz restore", () => {
  test("backup while messages flow; restore gives a new epoch; a client that saw later messages resets and receives every new one", async () => {
    const dataDir = tempDir("roomz-backup-");
    // No JWT_SECRET_KEY: the generated key travels in the backup, so sessions survive the restore.
    const server = await startServer({ dataDir, env: { ALLOWED_EMAILS: EMAIL, MESSAGE_RATE_LIMIT: "100000", MAGIC_LINK_RATE_LIMIT: "100", JWT_SECRET_KEY: undefined } });
    servers.push(server);
    const view = watching(server, await signIn(server, EMAIL));
    const { client: watcher, seen } = view;
    await watcher.connect();
    const sender = new RoomzClient({ server: server.url, session: await signIn(server, EMAIL), ...FAST });
    await sender.connect();

    // Two tokens and an unused sign-in link in the backup; one token is revoked after it.
    const session = await signIn(server, EMAIL);
    const asSession = { authorization: `Bearer ${session}`, "content-type": "application/json" };
    const makeToken = async (name: string) =>
      (await (await fetch(`${server.url}/auth/tokens`, { method: "POST", headers: asSession, body: JSON.stringify({ name, scope: "read" }) })).json()) as { id: string; token: string };
    const [revokedLater, kept] = [await makeToken("revoked after the backup"), await makeToken("kept")];
    const unusedLink = await requestToken(server, EMAIL);

    const backupFile = join(tempDir("roomz-backup-file-"), "roomz.backup");
    for (let i = 1; i <= 40; i++) await sender.send(`before ${i}`);
    let backupDone = false;
    const backup = roomz(dataDir, "backup", backupFile).finally(() => (backupDone = true));
    let total = 40;
    while (!backupDone) await sender.send(`before ${++total}`); // messages keep flowing meanwhile
    for (let i = 0; i < 20; i++) await sender.send(`before ${++total}`);
    const made = await backup;
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    const backedUp = Number(/backed up (\d+) messages/.exec(made.stdout)![1]);
    expect(backedUp).toBeGreaterThanOrEqual(40);
    expect(backedUp).toBeLessThan(total);
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    // docs/deployment.md's way of looking into a backup, its query run as written.
    const [, documentedQuery] = /`sqlite3 FILE '([^']+)'`/.exec(readFileSync(join(ROOT, "docs/deployment.md"), "utf8"))!;
    const copy = new Database(backupFile, { readonly: true });
    expect(Object.values(copy.query(documentedQuery).get() as object)).toEqual([backedUp]);
    copy.close();
    await until(() => seen.at(-1)?.seq === total, `the watcher at seq ${total}`);
    const oldEpoch = watcher.epoch;

    // A logout and a token's revocation after the backup must stay in force after the restore.
    expect((await fetch(`${server.url}/auth/tokens/${revokedLater.id}`, { method: "DELETE", headers: asSession })).status).toBe(200);
    const loggedOut = await signIn(server, EMAIL);
    expect((await fetch(`${server.url}/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${loggedOut}` } })).status).toBe(200);

    const whileRunning = await roomz(dataDir, "restore", backupFile);
    expect(whileRunning.code).toBe(2);
    expect(whileRunning.stderr).toContain("running");

    await server.stop();
    const restored = await roomz(dataDir, "restore", backupFile);
    expect(restored.stderr).toBe("");
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain(`restored ${backedUp} messages`);
    for (const name of ["roomz.sqlite", "jwt-secret.key"]) expect(statSync(join(dataDir, name)).mode & 0o777).toBe(0o600);
    await server.start();

    // The watcher resumes with since=total and the old epoch: both say start over.
    await until(() => view.resets === 1 && watcher.state.status === "connected", "the watcher's reset");
    expect(watcher.epoch).not.toBe(oldEpoch);
    for (let i = 1; i <= 3; i++) await sender.send(`after ${i}`);
    await until(() => seen.filter((m) => m.content.startsWith("after")).length === 3, "three new messages on the watcher");
    const fresh = seen.filter((m) => m.content.startsWith("after"));
    expect(fresh.map((m) => m.seq)).toEqual([backedUp + 1, backedUp + 2, backedUp + 3]);
    expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: seen.length }, (_, i) => seen[0].seq + i)); // no hole, no repeat

    const me = await fetch(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${loggedOut}` } });
    expect(me.status).toBe(401);
    const read = (token: string) => fetch(`${server.url}/api/messages?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    expect([(await read(revokedLater.token)).status, (await read(kept.token)).status]).toEqual([401, 200]);
    // A link from before the restore never signs in after it (one used since would otherwise work again).
    const verify = await fetch(`${server.url}/auth/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: unusedLink }) });
    expect([verify.status, ((await verify.json()) as { code: string }).code]).toEqual([400, "invalid_token"]);
    watcher.close();
    sender.close();
  }, 60000);

  test("usage: --help, a missing FILE, a file that is not a backup, a missing data directory", async () => {
    const dataDir = tempDir("roomz-backup-usage-");
    const help = await roomz(dataDir, "backup", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: roomz backup FILE");
    expect((await roomz(dataDir, "restore", "--help")).code).toBe(0);
    expect((await roomz(dataDir, "backup")).code).toBe(2);
    expect((await roomz(dataDir, "restore", "a", "b")).code).toBe(2);
    expect((await roomz(dataDir, "backup", "--force", "x")).code).toBe(2);
    const noStore = await roomz(dataDir, "backup", join(dataDir, "out"));
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toContain("ROOMZ_DATA_DIR");
    const notBackup = join(dataDir, "not-a-backup");
    await Bun.write(notBackup, "hello");
    const refused = await roomz(dataDir, "restore", notBackup);
    expect(refused.code).toBe(2);
    expect(refused.stderr.split("\n").filter(Boolean)).toHaveLength(1);
  });
});
