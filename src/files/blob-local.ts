/**
 * Blobs as files under ROOMZ_DATA_DIR/files: `<first two hex digits>/<sha256>`, each 0600
 * in 0700 directories. A blob arrives by rename from the temporary directory (same file
 * system), so it appears whole or not at all.
 */
import { mkdirSync, rmSync } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { BlobStore, ByteRange } from "./blob-store";

export class LocalBlobStore implements BlobStore {
  readonly tempDir: string;
  private root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, "files");
    this.tempDir = join(this.root, "tmp");
    mkdirSync(this.tempDir, { recursive: true, mode: 0o700 });
    // Whatever a crash left half-received is of no use to anyone.
    rmSync(this.tempDir, { recursive: true, force: true });
    mkdirSync(this.tempDir, { recursive: true, mode: 0o700 });
  }

  private path(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error("not a sha256");
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  async putFile(sha256: string, tempPath: string) {
    const target = this.path(sha256);
    mkdirSync(join(this.root, sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
    await rename(tempPath, target);
  }

  async read(sha256: string, range: ByteRange | null): Promise<BodyInit> {
    const file = Bun.file(this.path(sha256));
    return range ? file.slice(range.start, range.end + 1) : file;
  }

  async stat(sha256: string) {
    try {
      return (await stat(this.path(sha256))).size;
    } catch {
      return null;
    }
  }

  async delete(sha256: string) {
    await rm(this.path(sha256), { force: true });
  }
}
