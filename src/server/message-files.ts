/**
 * The files of a message being sent (PROTOCOL.md section 7), for the WebSocket `message`
 * frame and `POST /api/messages` alike: the ids (already well formed, parseFileIds) must
 * all be the sender's own uploads; they are then marked as referenced, so the cleanup of
 * unreferenced uploads keeps them, and their descriptions go into the stored message.
 */
import type { FileStore } from "../engine";
import type { FileInfo } from "../protocol";

export const UNKNOWN_FILES = "`files` names a file that is not one of your uploads (or was deleted); upload it again.";

/** The files in the order given, or "unknown" when any id is not one of the user's. */
export async function claimFiles(files: FileStore, email: string, ids: string[]): Promise<FileInfo[] | "unknown"> {
  return (await files.claim(email, ids)) ?? "unknown";
}
