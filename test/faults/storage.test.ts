/**
 * Storage faults (issue 9): a data directory that can't be written and a database held
 * by another process stop the server at start with one clear line on stderr, a non-zero
 * exit and nothing listening; a store write failing at run time (the file-size limit,
 * EFBIG) refuses that message with `unavailable`, no ack, while the server keeps serving.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allServerOutput, FileSizeLimitedServer, freePort, signIn, startServer, tempDir, TestServer } from "../helpers/server";
import { WsClient } from "../helpers/ws-client";
import { fullHistory } from "./support";
import { leakViolations, stackTraceLines } from "../security/support";

const SECRET = "storage-fault-secret-key-0123456789abcdef";
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop("SIGKILL");
});

/**
 * Starts a server that must refuse to start; resolves with its exit code, its output and
 * whether anything ever answered on its port meanwhile.
 */
async function expectRefusedStart(env: Record<string, string>, dataDir: string) {
  const port = await freePort();
  const server = new TestServer(port, tempDir(), { ALLOWED_EMAILS: "alice@example.com", JWT_SECRET_KEY: SECRET, ...env }, ["serve"]);
  (server.env as any).ROOMZ_DATA_DIR = dataDir; // env wins over the helper's default data dir
  servers.push(server);
  await server.start(false);
  let answered = false;
  const exited = server.proc.exited;
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + 10000;
  while (!done && Date.now() < deadline) {
    try {
      await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(200) });
      answered = true;
    } catch {}
    await Bun.sleep(20);
  }
  expect(done).toBe(true); // it exits rather than hanging
  const code = await exited;
  await Bun.sleep(50); // let the pipes drain
  let listening = false;
  try {
    await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(500) });
    listening = true;
  } catch {}
  return { code, output: server.output, answered: answered || listening };
}

function expectOneClearLine(output: string, mention: RegExp) {
  const lines = output.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^roomz: /);
  expect(lines[0]).toMatch(mention);
  expect(lines[0]).not.toMatch(/\bat .*:\d+|Error:/);
}

/** True when this process can write into a directory mode 0500 (root ignores modes). */
function modesBindUs(): boolean {
  const dir = tempDir("roomz-mode-probe-");
  chmodSync(dir, 0o500);
  try {
    writeFileSync(join(dir, "probe"), "");
    return false;
  } catch {
    return true;
  } finally {
    chmodSync(dir, 0o700);
  }
}

describe("faults: storage refused at start", () => {
  test("ROOMZ_DATA_DIR under a regular file (unwritable even for root): one line, exit 2, nothing listening", async () => {
    const file = join(tempDir(), "not-a-directory");
    writeFileSync(file, "x");
    const result = await expectRefusedStart({}, join(file, "data"));
    expect(result.answered).toBe(false);
    expect(result.code).toBe(2);
    expectOneClearLine(result.output, /ROOMZ_DATA_DIR/);
  }, 20000);

  test("ROOMZ_DATA_DIR on a file system nobody can write (/proc): one line, exit 2, nothing listening", async () => {
    const result = await expectRefusedStart({}, "/proc/roomz-data");
    expect(result.answered).toBe(false);
    expect(result.code).toBe(2);
    expectOneClearLine(result.output, /ROOMZ_DATA_DIR/);
  }, 20000);

  test.skipIf(!modesBindUs())("data directory chmod 0500 (skipped when running as root: modes don't bind root; the two cases above cover it)", async () => {
    const dir = tempDir();
    chmodSync(dir, 0o500);
    try {
      const result = await expectRefusedStart({}, dir);
      expect(result.answered).toBe(false);
      expect(result.code).toBe(2);
      expectOneClearLine(result.output, /ROOMZ_DATA_DIR/);
    } finally {
      chmodSync(dir, 0o700);
    }
  }, 20000);

  test("database locked by another process at start: one line, exit 2, nothing listening; starts once released", async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir, env: { JWT_SECRET_KEY: SECRET } });
    servers.push(first);
    const jwt = await signIn(first, "alice@example.com");
    expect(await first.stop("SIGTERM")).toBe(0);

    const holder = new Database(join(dataDir, "roomz.sqlite"));
    holder.exec("PRAGMA locking_mode=EXCLUSIVE");
    holder.exec("BEGIN EXCLUSIVE");
    holder.query("SELECT count(*) FROM log").get();
    try {
      const result = await expectRefusedStart({}, dataDir);
      expect(result.answered).toBe(false);
      expect(result.code).toBe(2);
      expectOneClearLine(result.output, /locked/);
    } finally {
      holder.exec("ROLLBACK");
      holder.close(); // (the holder must stay referenced until here, or GC closes it early)
    }
    const again = await startServer({ dataDir, env: { JWT_SECRET_KEY: SECRET } });
    servers.push(again);
    expect((await fetch(`${again.url}/auth/me`, { headers: { authorization: `Bearer ${jwt}` } })).status).toBe(200);
  }, 30000);

  test("a damaged database file: one line, non-zero exit, nothing listening", async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, "roomz.sqlite"), Buffer.alloc(8192, 0x5a));
    const result = await expectRefusedStart({}, dataDir);
    expect(result.answered).toBe(false);
    expect(result.code).not.toBe(0);
    expectOneClearLine(result.output, /database|sqlite/i);
  }, 20000);

  test("a database from a newer Roomz (schema version ahead): one line, non-zero exit, nothing listening", async () => {
    const dataDir = tempDir();
    const db = new Database(join(dataDir, "roomz.sqlite"));
    db.exec("PRAGMA user_version = 99");
    db.close();
    const result = await expectRefusedStart({}, dataDir);
    expect(result.answered).toBe(false);
    expect(result.code).not.toBe(0);
    expectOneClearLine(result.output, /newer/);
  }, 20000);

  test("database held by another running Roomz on the same directory: the second exits 2 with one line", async () => {
    const dataDir = tempDir();
    const running = await startServer({ dataDir, env: { JWT_SECRET_KEY: SECRET } });
    servers.push(running);
    const result = await expectRefusedStart({}, dataDir);
    expect(result.answered).toBe(false);
    expect(result.code).toBe(2);
    expectOneClearLine(result.output, /locked/);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
  }, 30000);
});


describe("faults: a store write fails at run time", () => {
  test("EFBIG: the message gets `unavailable` and no ack, nothing half-stored; the server keeps serving; a restart recovers", async () => {
    const dataDir = tempDir();
    const env = { ALLOWED_EMAILS: "alice@example.com", JWT_SECRET_KEY: SECRET, MESSAGE_RATE_LIMIT: "100000" };
    const server = new FileSizeLimitedServer(await freePort(), dataDir, env, 1024);
    servers.push(server);
    await server.start();
    const jwt = await signIn(server, "alice@example.com");
    const ws = await WsClient.connect(server.wsUrl, { jwt });
    const watcher = await WsClient.connect(server.wsUrl, { jwt });

    const acked = new Map<string, any>();
    const refused: string[] = [];
    const body = "x".repeat(3900);
    for (let i = 0; i < 600 && refused.length < 5; i++) {
      const id = `efbig-${i}`;
      const reply = await ws.request("message", { content: `${i} ${body}`, client_msg_id: id });
      if (reply.type === "ack") acked.set(id, reply.data);
      else {
        expect(reply.data.code).toBe("unavailable");
        expect(typeof reply.data.message).toBe("string");
        refused.push(id);
      }
    }
    expect(refused.length).toBeGreaterThan(0); // the limit was reached
    expect(acked.size).toBeGreaterThan(10);
    expect(server.output).toMatch(/error storing .* failed/);
    // The rolled-back batches took back only their own client_msg_ids: an acked one is still a duplicate.
    const [firstId, firstAck] = [...acked][0];
    expect((await ws.request("message", { content: "resent", client_msg_id: firstId })).data).toMatchObject({ id: firstAck.id, duplicate: true });

    // Still serving: the process is alive, ping and history answer, connections still open.
    await Bun.sleep(200);
    expect(server.proc.exitCode).toBeNull();
    expect(ws.isOpen && watcher.isOpen).toBe(true);
    expect((await ws.request("ping", {})).type).toBe("ack");
    const page = await ws.request("history", { limit: 200 });
    expect(page.type).toBe("ack");
    const ids = page.data.messages.map((m: any) => m.client_msg_id);
    for (const id of refused) expect(ids).not.toContain(id);
    expect(page.data.messages.at(-1).seq).toBe(Math.max(...[...acked.values()].map((a) => a.seq)));
    // No ack and no delivery for a refused message, on either connection.
    for (const client of [ws, watcher]) {
      expect(client.messages().filter((m) => refused.includes(m.client_msg_id))).toEqual([]);
      expect(client.messages().length).toBe(acked.size);
    }
    expect(ws.frames.filter((f) => f.type === "ack" && f.data?.duplicate !== undefined).length).toBe(acked.size + 1); // and the duplicate
    expect((await fetch(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${jwt}` } })).status).toBe(200);
    const health = await fetch(`${server.url}/healthz`);
    expect([200, 503]).toContain(health.status);
    const fresh = await WsClient.connect(server.wsUrl, { jwt, since: 0 });
    expect(fresh.replay!.data.messages.length).toBe(acked.size);

    // A restart without the limit: every acked message, none of the refused, gapless; the refused can be resent.
    await server.stop("SIGTERM");
    const healthy = await startServer({ dataDir, env });
    servers.push(healthy);
    const history = await fullHistory(healthy, jwt);
    expect(history.map((m) => m.seq)).toEqual(Array.from({ length: acked.size }, (_, i) => i + 1));
    for (const [id, ack] of acked) expect(history.find((m) => m.client_msg_id === id)?.id).toBe(ack.id);
    const again = await WsClient.connect(healthy.wsUrl, { jwt });
    const resent = await again.sendMessage("resent after the fault", refused[0]);
    expect(resent).toMatchObject({ seq: acked.size + 1, duplicate: false });
  }, 60000);

  test("no room even to create the database (file-size limit 8 KiB): one line, non-zero exit, nothing listening", async () => {
    const dataDir = tempDir();
    const server = new FileSizeLimitedServer(await freePort(), dataDir, { ALLOWED_EMAILS: "alice@example.com", JWT_SECRET_KEY: SECRET }, 8);
    servers.push(server);
    await server.start(false);
    const code = await Promise.race([server.proc.exited, Bun.sleep(10000).then(() => "hung")]);
    expect(code).not.toBe("hung");
    expect(code).not.toBe(0);
    await Bun.sleep(50);
    let listening = false;
    try {
      await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(500) });
      listening = true;
    } catch {}
    expect(listening).toBe(false);
    expectOneClearLine(server.output, /roomz/);
  }, 20000);

  test("no token, JWT or stack trace in anything these servers printed", () => {
    expect(leakViolations(allServerOutput)).toEqual([]);
    expect(stackTraceLines(allServerOutput)).toEqual([]);
  });
});
