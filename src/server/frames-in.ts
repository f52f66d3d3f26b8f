/**
 * Validation of every client frame, once, at entry (PROTOCOL.md section 2). What comes out
 * is typed and in range; what doesn't gets the contract's error code.
 */
import {
  DISPLAY_NAME_MAX,
  HISTORY_DEFAULT_LIMIT,
  HISTORY_MAX_LIMIT,
  ID_MAX,
  codePoints,
  hasControlCharacters,
  isBlank,
  parseFileIds,
  trimWhiteSpace,
  type FrameErrorCode,
} from "../protocol";

export type ClientRequest =
  | { type: "message"; ref?: string; content: string; clientMsgId: string | null; fileIds: string[] }
  | { type: "set_display_name"; ref?: string; displayName: string | null }
  | { type: "history"; ref?: string; before: number | null; limit: number }
  | { type: "ping"; ref?: string };

export interface FrameError {
  code: FrameErrorCode;
  message: string;
  ref?: string;
  /** The frame's type when it was readable: a refused `message` frame still counts toward the rate limit. */
  type?: string;
}

const TYPES = new Set(["message", "set_display_name", "history", "ping"]);

export interface FrameLimits {
  maxMessageLength: number;
}
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isIdString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && codePoints(value) <= ID_MAX;
}

export type MessageError = { code: "invalid_data" | "empty_message" | "message_too_long"; message: string };

/**
 * The rules of a message's content, client_msg_id and files, for a `message` frame and for
 * `POST /api/messages` alike (PROTOCOL.md sections 2, 6 and 7).
 */
export function checkMessage(
  content: unknown,
  id: unknown,
  files: unknown,
  limits: FrameLimits,
): { content: string; clientMsgId: string | null; fileIds: string[] } | MessageError {
  const fail = (code: MessageError["code"], message: string): MessageError => ({ code, message });
  if (typeof content !== "string") return fail("invalid_data", "A message needs `content`, a string.");
  if (!content.isWellFormed()) return fail("invalid_data", "The message contains broken Unicode (a lone surrogate).");
  if (id !== undefined && id !== null && !(isIdString(id) && id.isWellFormed()))
    return fail("invalid_data", "`client_msg_id` must be a string of 1 to 64 characters.");
  const fileIds = parseFileIds(files);
  if ("problem" in fileIds) return fail("invalid_data", fileIds.problem);
  // With files, the content may be empty (a photo without a caption).
  if (fileIds.length === 0 && isBlank(content)) return fail("empty_message", "The message is empty.");
  if (codePoints(content) > limits.maxMessageLength)
    return fail("message_too_long", `Messages are at most ${limits.maxMessageLength} characters; this one was not sent.`);
  return { content, clientMsgId: (id as string | undefined) ?? null, fileIds };
}

export function parseClientFrame(text: string, limits: FrameLimits): ClientRequest | FrameError {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { code: "bad_frame", message: "Frames must be JSON objects." };
  }
  if (!isObject(frame)) return { code: "bad_frame", message: "Frames must be JSON objects." };
  const type = typeof frame.type === "string" ? frame.type : undefined;
  // Without `ref` (it is the bad part), but with the type: a `message` frame counts toward the rate limit.
  if ("ref" in frame && frame.ref !== undefined && !isIdString(frame.ref))
    return { code: "bad_frame", message: "`ref` must be a string of 1 to 64 characters.", type };
  const ref = frame.ref as string | undefined;
  const fail = (code: FrameErrorCode, message: string): FrameError => ({ code, message, ...(ref === undefined ? {} : { ref }), type });
  if (type === undefined) return fail("bad_frame", "Frames need a string `type`.");
  if (!TYPES.has(type)) return fail("unknown_type", `Unknown frame type "${type.slice(0, 40)}".`);
  const data = frame.data;
  if (data !== undefined && data !== null && !isObject(data)) return fail("invalid_data", "`data` must be an object.");
  const d = (data ?? {}) as Record<string, unknown>;

  switch (frame.type) {
    case "message": {
      const message = checkMessage(d.content, d.client_msg_id, d.files, limits);
      if ("code" in message) return fail(message.code, message.message);
      return { type: "message", ref, ...message };
    }
    case "set_display_name": {
      const raw = d.display_name;
      if (raw !== null && typeof raw !== "string") return fail("invalid_data", "`display_name` must be a string or null.");
      const name = raw === null ? "" : trimWhiteSpace(raw);
      if (name === "") return { type: "set_display_name", ref, displayName: null };
      if (codePoints(name) > DISPLAY_NAME_MAX) return fail("invalid_data", `Display names are at most ${DISPLAY_NAME_MAX} characters.`);
      if (hasControlCharacters(name)) return fail("invalid_data", "Display names can't contain control characters.");
      if (!name.isWellFormed()) return fail("invalid_data", "The display name contains broken Unicode (a lone surrogate).");
      return { type: "set_display_name", ref, displayName: name };
    }
    case "history": {
      const { before, limit } = d;
      if (before !== undefined && before !== null && !(Number.isSafeInteger(before) && (before as number) >= 0))
        return fail("invalid_data", "`before` must be a non-negative integer seq.");
      if (limit !== undefined && limit !== null && !(Number.isInteger(limit) && (limit as number) >= 1 && (limit as number) <= HISTORY_MAX_LIMIT))
        return fail("invalid_data", `\`limit\` must be an integer from 1 to ${HISTORY_MAX_LIMIT}.`);
      return { type: "history", ref, before: (before as number | null | undefined) ?? null, limit: (limit as number | null | undefined) ?? HISTORY_DEFAULT_LIMIT };
    }
    default:
      return { type: "ping", ref };
  }
}
