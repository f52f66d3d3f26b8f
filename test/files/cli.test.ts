/**
 * `roomz send --file` and `roomz listen` with files, as real processes (PROTOCOL.md
 * sections 5 and 7): the file is streamed up and attached; listen shows each file (name,
 * size, link) and with --download saves it, byte for byte, never over an existing file.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestServer, until } from "../client/support";
import { roomzProcesses } from "../cli/processes";
import { tempDir, type TestServer } from "../helpers/server";
import { png, sha256 } from "./support";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ MAX_FILE_BYTES: "2000000" });
});
afterAll(() => server?.stop());
const { signedInHome, roomz, listen } = roomzProcesses(() => server);

test("send --file attaches a file (caption optional); listen shows it with its link, and --download saves it", async () => {
  const { home } = await signedInHome();
  const work = tempDir("roomz-cli-files-");
  const downloads = tempDir("roomz-downloads-");
  writeFileSync(join(work, "photo.png"), png(12, 9));
  writeFileSync(join(work, "notes.txt"), "line 1\nline 2\n");
  writeFileSync(join(downloads, "notes.txt"), "already here");
  const shown = listen(home, ["--download", downloads]);
  const json = listen(home);
  try {
    await until(() => shown.stderr().includes("Connected to") && json.stderr().includes("Connected to"), "both listeners to connect");
    expect(await roomz(home, ["send", "--server", server.url, "--file", join(work, "photo.png"), "a", "photo"])).toMatchObject({ code: 0, err: "" });
    expect(await roomz(home, ["send", "--server", server.url, "--file", join(work, "notes.txt")])).toMatchObject({ code: 0, err: "" });
    await until(() => json.messages.length === 2, "two messages");
    const [photo, notes] = json.messages;
    expect(photo).toMatchObject({ content: "a photo", files: [{ name: "photo.png", type: "image/png", width: 12, height: 9 }] });
    expect(notes).toMatchObject({ content: "", files: [{ name: "notes.txt", size: 14, sha256: sha256("line 1\nline 2\n") }] });
    await until(() => /Saved .*notes \(2\)\.txt/.test(shown.stderr()), "both files saved");
    const link = `${server.url}/files/${photo.files[0].id}/photo.png`;
    expect(shown.stdout()).toContain(`a photo\n         [file] photo.png (${photo.files[0].size} B) ${link}`);
    expect(shown.stdout()).toContain("[file] notes.txt (14 B)");
    expect(readdirSync(downloads).sort()).toEqual(["notes (2).txt", "notes.txt", "photo.png"]);
    expect(readFileSync(join(downloads, "notes.txt"), "utf8")).toBe("already here");
    expect(readFileSync(join(downloads, "notes (2).txt"), "utf8")).toBe("line 1\nline 2\n");
    expect(sha256(readFileSync(join(downloads, "photo.png")))).toBe(photo.files[0].sha256);
  } finally {
    shown.child.kill();
    json.child.kill();
  }
});

test("send --file: a missing file is a usage error (2); a file over MAX_FILE_BYTES is refused (1) with the server's reason", async () => {
  const { home } = await signedInHome();
  const missing = await roomz(home, ["send", "--server", server.url, "--file", "/nonexistent/file.bin"]);
  expect(missing.code).toBe(2);
  expect(missing.err).toContain("No file at /nonexistent/file.bin");
  const big = join(tempDir(), "big.bin");
  writeFileSync(big, new Uint8Array(2_000_001));
  const refused = await roomz(home, ["send", "--server", server.url, "--file", big]);
  expect(refused.code).toBe(1);
  expect(refused.err).toContain("2000000 bytes");
});
