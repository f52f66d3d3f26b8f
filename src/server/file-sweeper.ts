/**
 * Deletes uploads that no message refers to within a day (PROTOCOL.md section 7): every
 * few minutes, the oldest such files are removed from the engine and, when they were the
 * last record of their content, from the blob store. Each instance sweeps; the engine's
 * removal is atomic, so two instances never delete one record twice.
 */
import type { FileStore } from "../engine";
import type { BlobStore } from "../files/blob-store";
import type { KeyedLock } from "../files/keyed-lock";
import { describeError, log } from "../log";

const BATCH = 100;

export interface SweeperDeps {
  files: FileStore;
  blobs: BlobStore;
  blobLock: KeyedLock;
  maxAgeMs: number;
  everyMs: number;
}

export class FileSweeper {
  private timer: ReturnType<typeof setInterval>;
  private running: Promise<void> | null = null;

  constructor(private deps: SweeperDeps) {
    this.timer = setInterval(() => void this.sweep(), deps.everyMs);
    this.timer.unref();
  }

  /** One pass; a pass still running is joined, not doubled. */
  sweep(): Promise<void> {
    this.running ??= this.pass()
      .catch((error) => log.warn(`file cleanup failed: ${describeError(error)}`))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async pass() {
    const { files, blobs, blobLock } = this.deps;
    for (;;) {
      const orphans = await files.orphans(Date.now() - this.deps.maxAgeMs, BATCH);
      for (const { email, id } of orphans) {
        const removed = await files.removeOrphan(email, id);
        if (removed?.lastOfBlob) await blobLock.run(removed.sha256, async () => {
          if (!(await files.blobInUse(removed.sha256))) await blobs.delete(removed.sha256);
        });
      }
      if (orphans.length > 0) log.info(`file cleanup: ${orphans.length} upload(s) no message referred to were deleted`);
      if (orphans.length < BATCH) return;
    }
  }

  async close() {
    clearInterval(this.timer);
    await this.running;
  }
}
