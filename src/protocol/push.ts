/**
 * Web Push (PROTOCOL.md section 8): the payload every push carries and its limits, shared
 * by the server that sends it and the web app's service worker that shows it.
 */
import type { ChatMessage } from "./frames.js";

/** At most this many push subscriptions per user. */
export const PUSH_MAX_SUBSCRIPTIONS = 20;
/** `preview`: the first this many code points of the content. */
export const PUSH_PREVIEW_CODE_POINTS = 120;
/** How long a push service keeps an undelivered push (TTL header, seconds): one day. */
export const PUSH_TTL_SECONDS = 86_400;
/** A subscription's `device` name: 1 to this many code points, no control characters. */
export const PUSH_DEVICE_NAME_MAX = 50;
/**
 * Push services accept about 4 KiB of encrypted payload; file names beyond this many
 * bytes of JSON are left out (docs/protocol.md, "Web Push").
 */
export const PUSH_PAYLOAD_MAX_BYTES = 3_000;

/** The decrypted body of every Web Push Roomz sends. */
export interface PushPayload {
  seq: number;
  /** The sending connection's display name, or null. */
  sender: string | null;
  /** The first 120 code points of the content ("" for a message of files only). */
  preview: string;
  /** The names of the message's files, in order ([] when none). */
  files: string[];
}

/** The payload for a stored message; file names that would make it too large are dropped. */
export function pushPayload(message: ChatMessage, fileNames: string[]): PushPayload {
  const preview = Array.from(message.content).slice(0, PUSH_PREVIEW_CODE_POINTS).join("");
  const payload: PushPayload = { seq: message.seq, sender: message.user.display_name, preview, files: [] };
  let size = new TextEncoder().encode(JSON.stringify(payload)).length;
  for (const name of fileNames) {
    const cost = new TextEncoder().encode(JSON.stringify(name)).length + 1;
    if (size + cost > PUSH_PAYLOAD_MAX_BYTES) break;
    payload.files.push(name);
    size += cost;
  }
  return payload;
}
