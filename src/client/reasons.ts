/** Why a connection dropped or stopped, in words, from close codes and stop codes (PROTOCOL.md section 2). */
import { CLOSE } from "../protocol/problems.js";
import type { StopCode } from "./types.js";

/** The client's own close code for a connection that stopped answering its pings. */
export const STOPPED_ANSWERING = 4000;

export const STOP_REASONS: Record<StopCode, string> = {
  closed: "closed",
  signed_out: "signed out",
  session_ended: "session ended",
  not_allowed: "not allowed",
  no_websocket: "no WebSocket",
  bad_address: "bad server address",
  user_changed: "signed in as another user",
};

/** Why a connection dropped (and will be resumed), from its close code. */
export function closeReason(code: number, reason: string): string {
  if (code === CLOSE.goingAway) return "the server is restarting";
  if (code === CLOSE.invalidUtf8) return "a frame was not valid UTF-8";
  if (code === CLOSE.tooBig) return "a frame was too big";
  if (code === CLOSE.tooSlow) return "the connection was too slow to keep up";
  if (code === STOPPED_ANSWERING) return reason || "the connection stopped answering";
  return "the connection was lost";
}
