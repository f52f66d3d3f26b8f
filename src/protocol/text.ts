/**
 * The contract's text rules and fixed limits (PROTOCOL.md: conventions and section 2),
 * shared by the server's validation, the client core and the UI, so they can't disagree.
 * Limits the operator sets (MAX_MESSAGE_LENGTH, ...) are the server's: clients learn
 * them from `GET /api/limits` (ServerLimits).
 */

/** The default of MAX_MESSAGE_LENGTH, for clients that have not asked the server yet. */
export const DEFAULT_MAX_MESSAGE_LENGTH = 4000;
export const DISPLAY_NAME_MAX = 50;
/** `ref` and `client_msg_id`: 1 to this many code points. */
export const ID_MAX = 64;
export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 200;

/** The limits a server was configured with (`GET /api/limits`). */
export interface ServerLimits {
  max_message_length: number;
  max_frame_bytes: number;
  message_rate_limit: number;
}

const WHITE_SPACE_ONLY = /^\p{White_Space}*$/u;
const EDGE_WHITE_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;
const CONTROL = /[\p{Cc}\p{Cf}]/u;

/** Length in Unicode code points, without normalisation ("😀" is one). */
export function codePoints(text: string): number {
  let surrogates = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc00 && unit <= 0xdfff && i > 0) {
      const previous = text.charCodeAt(i - 1);
      if (previous >= 0xd800 && previous <= 0xdbff) surrogates++;
    }
  }
  return text.length - surrogates;
}

/** Empty or only Unicode White_Space: an `empty_message`. */
export function isBlank(text: string): boolean {
  return WHITE_SPACE_ONLY.test(text);
}

/** Trims Unicode White_Space at both ends (display names). */
export function trimWhiteSpace(text: string): string {
  return text.replace(EDGE_WHITE_SPACE, "");
}

/**
 * Bytes as text when they are UTF-8, else null: content is stored as it was sent, so bytes
 * that are not UTF-8 are refused, never replaced with U+FFFD (HTTP bodies, `roomz send`'s stdin).
 */
export function utf8Text(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Cc or Cf characters (refused in display names). */
export function hasControlCharacters(text: string): boolean {
  return CONTROL.test(text);
}
