/**
 * One operation at a time per key, in this process: storing a blob and deleting the last
 * record of the same content must not interleave (the delete would remove what the
 * upload just stored). Across instances (S3) the reference count in the engine is taken
 * before the blob is written, which leaves only the window docs/architecture.md describes.
 */
export class KeyedLock {
  private tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.catch(() => {}).then(job);
    const tail = result.catch(() => {});
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
