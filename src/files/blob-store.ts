/**
 * Where the bytes of uploaded files live: one small interface, content-addressed by
 * sha256 (identical content is stored once), with a local-directory implementation
 * (the default, ROOMZ_DATA_DIR/files) and an S3 one (S3_URL). Nothing here knows users
 * or messages: the engine's FileStore keeps the metadata and counts each blob's records.
 *
 * Every upload is first received into a private temporary file on local disk (hashed and
 * counted while it streams, see receive.ts); `putFile` then moves it into place.
 */
export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface BlobStore {
  /** The directory for temporary uploads (always local, private). */
  readonly tempDir: string;
  /** Stores the temporary file under `sha256` and removes it; storing content already there is harmless. */
  putFile(sha256: string, tempPath: string): Promise<void>;
  /** The content (or a range of it), streamed: never read whole into memory. */
  read(sha256: string, range: ByteRange | null): Promise<BodyInit>;
  /** The stored size, or null when the blob is missing. */
  stat(sha256: string): Promise<number | null>;
  delete(sha256: string): Promise<void>;
}

export interface BlobStoreOptions {
  dataDir: string;
  s3Url: string | null;
}

export async function createBlobStore(options: BlobStoreOptions): Promise<BlobStore> {
  if (options.s3Url) {
    const { S3BlobStore } = await import("./blob-s3");
    return new S3BlobStore(options.s3Url, options.dataDir);
  }
  const { LocalBlobStore } = await import("./blob-local");
  return new LocalBlobStore(options.dataDir);
}
