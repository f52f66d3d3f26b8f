/**
 * The one error type of the client core. HTTP problem documents (RFC 9457), WebSocket
 * `error` frames and the client's own failures all become a RoomzError with a stable
 * `code` and a `message` a person can act on.
 */
import type { FrameErrorCode, ProblemCode } from "../protocol/problems.js";
import type { FetchResponse } from "./types.js";

/** Failures that only the client can observe. */
export type ClientErrorCode =
  | "unreachable" // the server could not be reached at all
  | "session_ended" // close 4001: logout, logout-all or expiry
  | "closed" // close() or logout() was called while the request waited
  | "bad_response" // the server answered something outside the contract
  | "no_websocket"; // this runtime has no WebSocket and none was passed in

export type RoomzErrorCode = ProblemCode | FrameErrorCode | ClientErrorCode;

export class RoomzError extends Error {
  override name = "RoomzError";
  constructor(
    readonly code: RoomzErrorCode,
    message: string,
    readonly status?: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

const FALLBACK: Partial<Record<RoomzErrorCode, string>> = {
  unauthenticated: "You are not signed in, or your session has ended. Sign in again.",
  not_allowed: "This address is not allowed on this server.",
  invalid_token: "That sign-in token is unknown or was already used. Ask for a new link.",
  expired_token: "That sign-in token has expired. Ask for a new link.",
  rate_limited: "Too many requests. Wait a little and try again.",
  unavailable: "The server can't take this right now. Try again shortly.",
  session_ended: "Your session has ended. Sign in again.",
  closed: "The client was closed before the server answered.",
  unreachable: "The server could not be reached.",
  no_websocket: "This runtime has no WebSocket; pass one as the `WebSocket` option (e.g. the ws package on Node 20).",
};

/** Builds a RoomzError from a non-2xx HTTP response (a problem document, or anything else). */
export async function errorFromResponse(res: FetchResponse): Promise<RoomzError> {
  let body: { code?: unknown; detail?: unknown; title?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {}
  const retry = Number(res.headers.get("retry-after"));
  const retryAfter = Number.isFinite(retry) && retry >= 0 && res.headers.has("retry-after") ? retry : undefined;
  const code = (typeof body.code === "string" ? body.code : codeForStatus(res.status)) as RoomzErrorCode;
  let message = typeof body.detail === "string" && body.detail ? body.detail : FALLBACK[code] ?? `The server answered ${res.status}.`;
  if (code === "rate_limited" && retryAfter !== undefined && !/\d/.test(message)) message += ` Try again in ${retryAfter} s.`;
  return new RoomzError(code, message, res.status, retryAfter);
}

/** Builds a RoomzError from the data of an `error` frame. */
export function errorFromFrame(data: { code?: unknown; message?: unknown; retry_after_ms?: unknown } | undefined): RoomzError {
  const code = (typeof data?.code === "string" ? data.code : "bad_response") as RoomzErrorCode;
  const message = typeof data?.message === "string" && data.message ? data.message : FALLBACK[code] ?? "The server refused the request.";
  const ms = typeof data?.retry_after_ms === "number" ? data.retry_after_ms : undefined;
  return new RoomzError(code, message, undefined, ms === undefined ? undefined : Math.ceil(ms / 1000));
}

/** The error for a server that could not be reached (fetch threw). */
export function unreachable(server: string, cause: unknown): RoomzError {
  const where = server || "the server";
  const error = new RoomzError("unreachable", `Could not reach ${where}. Is it running, and is the address right?`);
  (error as { cause?: unknown }).cause = cause;
  return error;
}

export function clientError(code: ClientErrorCode | ProblemCode, message?: string): RoomzError {
  return new RoomzError(code, message ?? FALLBACK[code] ?? code);
}

function codeForStatus(status: number): RoomzErrorCode {
  switch (status) {
    case 401: return "unauthenticated";
    case 403: return "not_allowed";
    case 404: return "not_found";
    case 413: return "too_large";
    case 429: return "rate_limited";
    case 503: return "unavailable";
    default: return status >= 500 ? "unavailable" : "bad_response";
  }
}
