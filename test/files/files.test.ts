/**
 * PROTOCOL.md section 7 over real HTTP: uploads (raw and multipart), downloads with their
 * headers, ranges and ETags, the limits, the quota, the name rules, who may read a file,
 * and the cleanup of files no message refers to. Run with ROOMZ_TEST_ENGINE=redis too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectProblem } from "../helpers/problems";
import { signIn, tempDir, type TestServer } from "../helpers/server";
import { testSuite } from "../helpers/suite";
import { until } from "../helpers/wait";
import { auth, gifHeader, png, sha256, upload, uploaded } from "./support";

const suite = testSuite("files", 12, "files-test-secret-key-that-is-long-enough-0123");
let server: TestServer;
beforeAll(async () => {
  server = await suite.start({ USER_QUOTA_BYTES: "3000000" });
});
afterAll(() => server?.stop());

/** Every blob file under the data directory's files/ (the temporary directory excluded). */
function blobsOnDisk(dataDir: string): string[] {
  const root = join(dataDir, "files");
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((d) => d !== "tmp").flatMap((d) => readdirSync(join(root, d)).map((f) => join(root, d, f)));
}

/** A body of `total` bytes made as it is read, sent chunked (no Content-Length). */
function chunked(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(65536, total - sent);
      sent += size;
      controller.enqueue(new Uint8Array(size).fill(7));
    },
  });
}

describe("upload and download", () => {
  test("a raw upload answers 201 with the file; the owner downloads the same bytes with the contract's headers", async () => {
    const jwt = await signIn(server, suite.freshUser());
    const bytes = png(30, 20);
    const file = await uploaded(server, jwt, bytes, "dot.png", "image/png");
    expect(file).toEqual({ id: expect.any(String), name: "dot.png", type: "image/png", size: bytes.length, sha256: sha256(bytes), width: 30, height: 20 });
    for (const path of [`/files/${file.id}`, `/files/${file.id}/dot.png`, `/files/${file.id}/any-name.txt`]) {
      const res = await fetch(`${server.url}${path}`, { headers: auth(jwt) });
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
      expect(res.headers.get("etag")).toBe(`"${file.sha256}"`);
      expect(res.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toBe("sandbox; default-src 'none'");
      expect(res.headers.get("content-type")).toBe("image/png");
      expect(res.headers.get("content-disposition")).toStartWith("inline;");
    }
  });

  test("ranges: 206 with Content-Range, a suffix range, 416 past the end; If-None-Match with the ETag is 304", async () => {
    const jwt = await signIn(server, suite.freshUser());
    const text = "0123456789abcdef";
    const file = await uploaded(server, jwt, text, "digits.txt", "text/plain");
    const get = (headers: Record<string, string>) => fetch(`${server.url}/files/${file.id}`, { headers: { ...auth(jwt), ...headers } });
    const part = await get({ range: "bytes=2-5" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 2-5/16");
    expect(await part.text()).toBe("2345");
    const tail = await get({ range: "bytes=-3" });
    expect([tail.status, await tail.text()]).toEqual([206, "def"]);
    const open = await get({ range: "bytes=10-" });
    expect([open.status, await open.text()]).toEqual([206, "abcdef"]);
    const past = await get({ range: "bytes=16-20" });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe("bytes */16");
    const cached = await get({ "if-none-match": `"${file.sha256}"` });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe("");
  });

  test("everything but PNG, JPEG, GIF, WebP and AVIF is an attachment, with the exact name in filename*", async () => {
    const jwt = await signIn(server, suite.freshUser());
    for (const [name, type] of [["page.html", "text/html"], ["drawing.svg", "image/svg+xml"], ["résumé \"final\".pdf", "application/pdf"]]) {
      const file = await uploaded(server, jwt, `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, name, type);
      const res = await fetch(`${server.url}/files/${file.id}`, { headers: auth(jwt) });
      const disposition = res.headers.get("content-disposition")!;
      expect(disposition).toStartWith("attachment;");
      expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent(name)}`);
      expect(disposition).not.toMatch(/filename="[^"]*"[^;]/);
    }
  });

  test("multipart/form-data with one file part: its name and type are kept", async () => {
    const jwt = await signIn(server, suite.freshUser());
    const form = new FormData();
    form.append("file", new Blob(["hello, multipart"], { type: "text/plain" }), "note ☃.txt");
    const res = await fetch(`${server.url}/api/files`, { method: "POST", headers: auth(jwt), body: form });
    expect(res.status).toBe(201);
    const file = await res.json();
    expect(file).toMatchObject({ name: "note ☃.txt", type: "text/plain", size: 16, sha256: sha256("hello, multipart") });
    const two = new FormData();
    two.append("a", new Blob(["1"]), "a.txt");
    two.append("b", new Blob(["2"]), "b.txt");
    await expectProblem(await fetch(`${server.url}/api/files`, { method: "POST", headers: auth(jwt), body: two }), 400, "invalid_request", "/api/files");
  });

  test("image dimensions for GIF headers; a generic type is taken from an image's own bytes; anything else has null dimensions", async () => {
    const jwt = await signIn(server, suite.freshUser());
    expect(await uploaded(server, jwt, gifHeader(640, 480), "anim.gif", "image/gif")).toMatchObject({ width: 640, height: 480 });
    expect(await uploaded(server, jwt, png(3, 4), "no-type")).toMatchObject({ type: "image/png", width: 3, height: 4 });
    expect(await uploaded(server, jwt, "just text", "a.txt", "text/plain; charset=utf-8")).toMatchObject({ type: "text/plain", width: null, height: null });
  });

  test("identical content is stored once (files 0600 in 0700 directories)", async () => {
    const jwt = await signIn(server, suite.freshUser());
    const content = `same content ${crypto.randomUUID()}`;
    const a = await uploaded(server, jwt, content, "a.txt");
    const b = await uploaded(server, await signIn(server, suite.freshUser()), content, "b.txt");
    expect(a.id).not.toBe(b.id);
    const blobs = blobsOnDisk(server.dataDir).filter((path) => path.endsWith(a.sha256));
    expect(blobs.length).toBe(1);
    expect(statSync(blobs[0]).mode & 0o777).toBe(0o600);
    expect(statSync(join(server.dataDir, "files")).mode & 0o777).toBe(0o700);
  });
});

describe("refusals", () => {
  test("names: empty, over 255 code points, path separators, control characters, .. (400 invalid_request); 255 emoji are fine", async () => {
    const jwt = await signIn(server, suite.freshUser());
    for (const name of ["", "x".repeat(256), "../etc/passwd", "a/b", "a\\b", "bell\u0007.txt", "rtl\u202e.txt", "line\nbreak", ".."])
      await expectProblem(await upload(server, jwt, "x", name), 400, "invalid_request", "/api/files");
    expect((await uploaded(server, jwt, "x", "😀".repeat(255))).name).toBe("😀".repeat(255));
  });

  test("without a session: 401; a foreign Origin: 403; GET /api/files: 405", async () => {
    await expectProblem(await fetch(`${server.url}/api/files?name=a`, { method: "POST", body: "x" }), 401, "unauthenticated", "/api/files");
    const jwt = await signIn(server, suite.freshUser());
    await expectProblem(await upload(server, jwt, "x", "a", "text/plain", { origin: "https://evil.example" }), 403, "bad_origin", "/api/files");
    await expectProblem(await fetch(`${server.url}/api/files`, { headers: auth(jwt) }), 405, "method_not_allowed", "/api/files");
  });

  test("another user, an id guess and name tricks all get 404; no session gets 401", async () => {
    const owner = await signIn(server, suite.freshUser());
    const other = await signIn(server, suite.freshUser());
    const file = await uploaded(server, owner, "private", "secret.txt");
    await expectProblem(await fetch(`${server.url}/files/${file.id}`, { headers: auth(other) }), 404, "not_found", `/files/${file.id}`);
    const guess = crypto.randomUUID();
    await expectProblem(await fetch(`${server.url}/files/${guess}`, { headers: auth(other) }), 404, "not_found", `/files/${guess}`);
    for (const path of [`/files/..%2F${file.id}`, `/files/${file.id}/..%2F..%2Froomz.sqlite`, `/files/${file.id}%00`, `/files/${file.id}/${"a".repeat(5000)}`, `/files/${file.sha256}`, `/files/tmp`])
      expect((await fetch(`${server.url}${path}`, { headers: auth(other) })).status).toBe(404);
    expect((await fetch(`${server.url}/files/${file.id}/a/b`, { headers: auth(owner) })).status).toBe(404);
    await expectProblem(await fetch(`${server.url}/files/${file.id}`), 401, "unauthenticated", `/files/${file.id}`);
  });

  test("a 101 MB upload (real curl, streamed from a sparse file) is refused with 413 too_large before anything is stored", async () => {
    const jwt = await signIn(server, suite.freshUser());
    const path = join(tempDir(), "big.bin");
    writeFileSync(path, "");
    truncateSync(path, 101 * 1024 * 1024);
    const before = blobsOnDisk(server.dataDir).length;
    const curl = Bun.spawn(["curl", "-sS", "-X", "POST", "-T", path, "-H", `authorization: Bearer ${jwt}`, "-w", "\n%{http_code}", `${server.url}/api/files?name=big.bin`], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(curl.stdout).text();
    await curl.exited;
    expect(out.trim().split("\n").pop()).toBe("413");
    expect(JSON.parse(out.trim().split("\n")[0]).code).toBe("too_large");
    expect(blobsOnDisk(server.dataDir).length).toBe(before);
    expect(readdirSync(join(server.dataDir, "files", "tmp"))).toEqual([]);
  });

  test("a chunked body (no Content-Length) is cut as it passes MAX_FILE_BYTES, its partial file removed", async () => {
    const small = await suite.start({ MAX_FILE_BYTES: "1000000" });
    try {
      const jwt = await signIn(small, suite.freshUser());
      const res = await upload(small, jwt, chunked(3_000_000), "stream.bin").catch(() => null);
      if (res) await expectProblem(res, 413, "too_large", "/api/files");
      await until(() => readdirSync(join(small.dataDir, "files", "tmp")).length === 0, () => "the partial file to be removed");
      expect(blobsOnDisk(small.dataDir)).toEqual([]);
      // Exactly at the limit is fine.
      expect((await uploaded(small, jwt, new Uint8Array(1_000_000), "exact.bin")).size).toBe(1_000_000);
    } finally {
      await small.stop();
    }
  });

  test("USER_QUOTA_BYTES: an upload that would pass it is 413 quota_exceeded, declared or streamed; other users are not affected", async () => {
    const jwt = await signIn(server, suite.freshUser());
    await uploaded(server, jwt, new Uint8Array(2_000_000).fill(1), "first.bin");
    await expectProblem(await upload(server, jwt, new Uint8Array(1_500_000).fill(2), "second.bin"), 413, "quota_exceeded", "/api/files");
    const streamed = chunked(1_500_000);
    await expectProblem(await upload(server, jwt, streamed, "third.bin"), 413, "quota_exceeded", "/api/files");
    expect((await uploaded(server, jwt, new Uint8Array(900_000).fill(4), "fits.bin")).size).toBe(900_000);
    expect((await uploaded(server, await signIn(server, suite.freshUser()), new Uint8Array(2_500_000).fill(5), "other.bin")).size).toBe(2_500_000);
  });

  test("uploads still arriving count against the quota together: a second one that would pass it is refused while the first is on its way", async () => {
    const jwt = await signIn(server, suite.freshUser());
    // The first sends 1,200,000 bytes (chunked, no size declared), then holds its body open.
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    let sent = 0;
    const first = upload(server, jwt, new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= 1_200_000) {
          await held;
          return controller.close();
        }
        sent += 60_000;
        controller.enqueue(new Uint8Array(60_000).fill(8));
      },
    }), "first.bin");
    const temp = join(server.dataDir, "files", "tmp");
    const arrived = () => readdirSync(temp).reduce((sum, name) => sum + statSync(join(temp, name)).size, 0);
    await until(() => arrived() >= 1_200_000, "the first upload's bytes on disk");
    await expectProblem(await upload(server, jwt, chunked(2_000_000), "second.bin"), 413, "quota_exceeded", "/api/files");
    finish();
    expect((await first).status).toBe(201);
  });
});

test("uploads no message refers to are deleted after the configured age (24 h by default), bytes and all", async () => {
  const quick = await suite.start({ ROOMZ_ORPHAN_FILE_AGE_MS: "500", ROOMZ_ORPHAN_SWEEP_MS: "200" });
  try {
    const jwt = await signIn(quick, suite.freshUser());
    const file = await uploaded(quick, jwt, `orphan ${crypto.randomUUID()}`, "orphan.txt");
    expect(blobsOnDisk(quick.dataDir).length).toBe(1);
    await until(async () => (await fetch(`${quick.url}/files/${file.id}`, { headers: auth(jwt) })).status === 404, () => "the orphan to be deleted");
    await until(() => blobsOnDisk(quick.dataDir).length === 0, () => "its blob to be deleted");
    // The quota counts it no more.
  } finally {
    await quick.stop();
  }
});
