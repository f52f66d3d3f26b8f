/**
 * Blobs in an S3-compatible bucket (S3_URL), shared by every instance, through Bun's
 * built-in S3 client. Keys are `files/<sha256>`. Uploads go up from the local temporary
 * file in 5 MiB parts, one at a time: the setting that kept memory flat in the measurements
 * (FINDINGS.md: the default part queue grew RSS by 82 MB for 50 MB). Downloads stream.
 */
import { S3Client } from "bun";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { mkdirSync, rmSync } from "node:fs";
import type { BlobStore, ByteRange } from "./blob-store";
import { parseS3Url } from "./s3-url";

const PART_SIZE = 5 * 1024 * 1024;

export class S3BlobStore implements BlobStore {
  readonly tempDir: string;
  private client: S3Client;

  constructor(s3Url: string, dataDir: string) {
    const location = parseS3Url(s3Url);
    if (typeof location === "string") throw new Error(`S3_URL ${location}`);
    this.client = new S3Client(location);
    this.tempDir = join(dataDir, "files", "tmp");
    rmSync(this.tempDir, { recursive: true, force: true });
    mkdirSync(this.tempDir, { recursive: true, mode: 0o700 });
  }

  private key(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error("not a sha256");
    return `files/${sha256}`;
  }

  async putFile(sha256: string, tempPath: string) {
    try {
      const target = this.client.file(this.key(sha256));
      if (!(await target.exists())) await target.write(Bun.file(tempPath), { partSize: PART_SIZE, queueSize: 1 });
    } finally {
      await rm(tempPath, { force: true });
    }
  }

  async read(sha256: string, range: ByteRange | null): Promise<BodyInit> {
    const file = this.client.file(this.key(sha256));
    return (range ? file.slice(range.start, range.end + 1) : file).stream();
  }

  async stat(sha256: string) {
    try {
      return (await this.client.file(this.key(sha256)).stat()).size;
    } catch {
      return null;
    }
  }

  async delete(sha256: string) {
    await this.client.file(this.key(sha256)).delete();
  }
}
