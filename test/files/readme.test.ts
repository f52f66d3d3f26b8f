/**
 * The README's curl lines for files, run verbatim with real curl and sh (only the
 * server's address is changed): the upload, then a message naming it, with a send-scoped
 * access token. The message arrives with the file, whose bytes are the photo's.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createToken } from "../api/support";
import { ROOT, signIn, tempDir, type TestServer } from "../helpers/server";
import { testSuite } from "../helpers/suite";
import { WsClient } from "../helpers/ws-client";
import { auth, png, sha256 } from "./support";

const suite = testSuite("readme", 2, "readme-test-secret-key-that-is-long-enough-0123");
let server: TestServer;
beforeAll(async () => {
  server = await suite.start();
});
afterAll(() => server?.stop());

/** The sh block that follows the README's marker comment for this test. */
function readmeBlock(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const marker = readme.indexOf("test/files/readme.test.ts runs this block verbatim");
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (marker < 0 || !block) throw new Error("the README lost its curl block for files");
  return block[1];
}

test("the README's curl upload and message lines work as written", async () => {
  const jwt = await signIn(server, suite.users[0]);
  const token = await createToken(server, jwt, "send", "readme");
  const listener = await WsClient.connect(server.wsUrl, { jwt });
  const dir = tempDir("roomz-readme-");
  const photo = png(16, 12);
  writeFileSync(join(dir, "photo.jpg"), photo);
  const script = readmeBlock().replaceAll("localhost:8000", `127.0.0.1:${server.port}`);
  const run = Bun.spawn(["sh", "-e", "-c", script], { cwd: dir, env: { PATH: process.env.PATH, ROOMZ_TOKEN: token.token }, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text()]);
  expect(await run.exited).toBe(0);
  expect(err).toBe("");
  const posted = JSON.parse(out);
  expect(posted).toMatchObject({ content: "Holiday!", duplicate: false, files: [{ name: "photo.jpg", sha256: sha256(photo), width: 16, height: 12 }] });
  const [message] = await listener.waitForMessages(1);
  expect(message.files).toEqual(posted.files);
  const res = await fetch(`${server.url}/files/${message.files[0].id}/photo.jpg`, { headers: auth(jwt) });
  expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(photo));
  listener.close();
});
