/**
 * Attachments (PROTOCOL.md section 7): the shape a file takes in messages and upload
 * answers, and the rules for names, types and how many files a message carries, shared
 * by the server's validation, the client core and the UI.
 */
import { codePoints, hasControlCharacters } from "./text.js";

export type { FileInfo } from "./file-info.js";

export const FILE_NAME_MAX = 255;
export const MAX_FILES_PER_MESSAGE = 10;
export const DEFAULT_MAX_FILE_BYTES = 104_857_600;
export const DEFAULT_USER_QUOTA_BYTES = 10_737_418_240;
/** Types shown inline (`Content-Disposition: inline`); everything else is an attachment. */
export const INLINE_TYPES: ReadonlySet<string> = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"]);
/** File ids: what the server hands out (a UUID) and nothing that could name a path. */
const FILE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isFileId(value: unknown): value is string {
  return typeof value === "string" && FILE_ID.test(value);
}

/**
 * The `files` member of a message (a `message` frame or `POST /api/messages`): absent,
 * null or `[]` is none; otherwise 1 to 10 distinct file ids. Whose files they are is the
 * server's check (an unknown or foreign id is `invalid_data` too).
 */
export function parseFileIds(value: unknown): string[] | { problem: string } {
  if (value === undefined || value === null) return [];
  const problem = `\`files\` must be a list of 1 to ${MAX_FILES_PER_MESSAGE} file ids from POST /api/files.`;
  if (!Array.isArray(value) || value.length > MAX_FILES_PER_MESSAGE || !value.every(isFileId)) return { problem };
  if (new Set(value).size !== value.length) return { problem: "`files` names the same file twice." };
  return value as string[];
}

/** Why a file name can't be kept (a sentence), or null when it is fine. */
export function fileNameProblem(name: string): string | null {
  if (name === "") return "The file needs a name (?name=...).";
  if (!name.isWellFormed()) return "The file name contains broken Unicode (a lone surrogate).";
  if (codePoints(name) > FILE_NAME_MAX) return `File names are at most ${FILE_NAME_MAX} characters.`;
  if (/[/\\]/.test(name)) return "File names can't contain / or \\.";
  if (hasControlCharacters(name)) return "File names can't contain control characters.";
  if (name === "." || name === "..") return "A file can't be named . or ..";
  return null;
}

/**
 * The media type to keep: the essence of a Content-Type (`type/subtype`, lowercased,
 * parameters dropped), or `application/octet-stream` when there is none or it is malformed.
 */
export function mediaType(contentType: string | null | undefined): string {
  const essence = (contentType ?? "").split(";")[0].trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(essence) ? essence : "application/octet-stream";
}
