/**
 * Receives an upload's bytes into a private temporary file: hashed (sha256) and counted
 * as they stream, never held whole in memory. Past `maxBytes` it stops reading, removes
 * the partial file and throws TooLarge, so nothing over the limit is ever stored; when
 * `take` refuses a chunk (the sender's room is used up) it does the same with NoRoom.
 */
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { IMAGE_HEAD_BYTES } from "./image-size";

export class TooLarge extends Error {}
export class NoRoom extends Error {}

export interface Received {
  path: string;
  size: number;
  sha256: string;
  /** The first bytes (up to IMAGE_HEAD_BYTES), for the image dimensions. */
  head: Uint8Array;
}

export async function receiveToTemp(
  body: AsyncIterable<Uint8Array>,
  tempDir: string,
  maxBytes: number,
  take: (bytes: number) => boolean = () => true,
): Promise<Received> {
  const path = join(tempDir, crypto.randomUUID());
  const file = await open(path, "wx", 0o600);
  const hasher = new Bun.CryptoHasher("sha256");
  const head = new Uint8Array(IMAGE_HEAD_BYTES);
  let headLength = 0;
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new TooLarge();
      if (!take(chunk.byteLength)) throw new NoRoom();
      if (headLength < head.length) {
        const start = chunk.subarray(0, head.length - headLength);
        head.set(start, headLength);
        headLength += start.length;
      }
      hasher.update(chunk);
      await file.write(chunk);
    }
    await file.close();
  } catch (error) {
    await file.close().catch(() => {});
    await rm(path, { force: true });
    throw error;
  }
  return { path, size, sha256: hasher.digest("hex"), head: head.slice(0, headLength) };
}
