/**
 * Shared pieces of the attachment tests (PROTOCOL.md section 7): uploading with the real
 * HTTP API, small real images made byte by byte, and a real S3-compatible server (s3rver)
 * on a free port for the bucket tests.
 */
import { mkdirSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { join } from "node:path";
import { setDefaultTimeout } from "bun:test";
import type { FileInfo } from "../../src/protocol";
import { freePort, tempDir, type TestServer } from "../helpers/server";

setDefaultTimeout(60_000);

export function auth(jwt: string): Record<string, string> {
  return { authorization: `Bearer ${jwt}` };
}

export function upload(server: TestServer, jwt: string, body: BodyInit, name: string, type = "application/octet-stream", headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}/api/files?name=${encodeURIComponent(name)}`, {
    method: "POST",
    headers: { "content-type": type, ...auth(jwt), ...headers },
    body,
  });
}

/** Uploads and returns the 201 answer's file, failing on anything else. */
export async function uploaded(server: TestServer, jwt: string, body: BodyInit, name: string, type?: string): Promise<FileInfo> {
  const res = await upload(server, jwt, body, name, type);
  if (res.status !== 201) throw new Error(`upload ${res.status}: ${await res.text()}`);
  return (await res.json()) as FileInfo;
}

export function sha256(bytes: Uint8Array | string): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

/** A real PNG of `width` x `height` (an RGB gradient), made with zlib. */
export function png(width: number, height: number): Uint8Array<ArrayBuffer> {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Uint8Array) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = 1 + width * 3;
  const raw = new Uint8Array(row * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) raw.set([(x * 255) / width, (y * 255) / height, 160], y * row + 1 + x * 3);
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", new Uint8Array(deflateSync(raw))), chunk("IEND", new Uint8Array())];
  return new Uint8Array(Buffer.concat(parts));
}

/** A 1x1 GIF made with `width` x `height` in its header (enough for the header parser). */
export function gifHeader(width: number, height: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(32);
  b.set(new TextEncoder().encode("GIF89a"));
  new DataView(b.buffer).setUint16(6, width, true);
  new DataView(b.buffer).setUint16(8, height, true);
  return b;
}

export interface S3Server {
  url: string;
  stop(): Promise<void>;
}

/** A real S3-compatible server (s3rver) on a free port with one bucket, in its own process. */
export async function startS3(bucket = "roomz-test"): Promise<S3Server> {
  const port = await freePort();
  const directory = tempDir("roomz-s3-");
  mkdirSync(join(directory, bucket));
  const script = `
    const S3rver = require("s3rver");
    new S3rver({ port: ${port}, address: "127.0.0.1", silent: true, directory: ${JSON.stringify(directory)}, configureBuckets: [{ name: ${JSON.stringify(bucket)} }] })
      .run().then(() => console.log("s3rver ready"));`;
  const proc = Bun.spawn(["node", "-e", script], { cwd: join(import.meta.dir, "../.."), stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let seen = "";
  while (!seen.includes("s3rver ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`s3rver exited: ${seen}`);
    seen += new TextDecoder().decode(value);
  }
  return {
    url: `s3://S3RVER:S3RVER@127.0.0.1:${port}/${bucket}`,
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}
