/**
 * What the engine keeps about uploaded files: their metadata, who owns them, whether a
 * message refers to them, and each user's total (the quota). The bytes themselves live
 * in a blob store (src/files), content-addressed by sha256; this store counts how many
 * records share each blob so the last one out deletes it. Kept by the engine so that,
 * with Redis, quotas and ownership hold across instances.
 */
import type { FileInfo } from "../protocol";

export interface FileRecord extends FileInfo {
  email: string;
  createdAt: number;
}

export type AddFileResult = "ok" | "quota_exceeded";

export interface RemovedFile {
  sha256: string;
  /** True when no other record refers to the same content: its blob may be deleted. */
  lastOfBlob: boolean;
}

export interface FileStore {
  /**
   * Records an upload when the owner's total plus its size stays within `quotaBytes`;
   * the check and the addition are one atomic step (on every instance).
   */
  add(record: FileRecord, quotaBytes: number): Promise<AddFileResult>;
  /** The bytes of every file the user holds. */
  usage(email: string): Promise<number>;
  /** The user's own file, or null (for anyone else's id, or an unknown one). */
  get(email: string, id: string): Promise<FileRecord | null>;
  /**
   * Marks the files as referenced by a message (so cleanup keeps them) and returns them
   * in the order asked; null, marking nothing, when any id is not one of the user's files.
   */
  claim(email: string, ids: string[]): Promise<FileInfo[] | null>;
  /** Up to `limit` files no message refers to, uploaded before `before` (ms). */
  orphans(before: number, limit: number): Promise<Array<{ email: string; id: string }>>;
  /** Deletes a file's record unless a message refers to it by now; null when kept or gone. */
  removeOrphan(email: string, id: string): Promise<RemovedFile | null>;
  /** True when some record refers to this content (its blob must stay). */
  blobInUse(sha256: string): Promise<boolean>;
}
