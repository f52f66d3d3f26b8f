/**
 * The one table of error codes (PROTOCOL.md section 1), shared by the server, which
 * answers with them, and the client core, which explains them.
 */
export const PROBLEMS = {
  invalid_request: { status: 400, title: "Invalid request" },
  invalid_token: { status: 400, title: "Invalid token" },
  expired_token: { status: 400, title: "Expired token" },
  not_allowed: { status: 403, title: "Not allowed" },
  bad_origin: { status: 403, title: "Bad origin" },
  unauthenticated: { status: 401, title: "Unauthenticated" },
  rate_limited: { status: 429, title: "Too many requests" },
  too_large: { status: 413, title: "Request too large" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  unavailable: { status: 503, title: "Service unavailable" },
  quota_exceeded: { status: 413, title: "Quota exceeded" },
  insufficient_scope: { status: 403, title: "Insufficient scope" },
  // Section 2's message codes, where the HTTP API (POST /api/messages) answers with them.
  invalid_data: { status: 400, title: "Invalid data" },
  empty_message: { status: 400, title: "Empty message" },
  message_too_long: { status: 400, title: "Message too long" },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

/** An RFC 9457 problem document as Roomz sends it. */
export interface Problem {
  type: "about:blank";
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ProblemCode;
}

/** Error codes carried by WebSocket `error` frames (PROTOCOL.md section 2). */
export type FrameErrorCode =
  | "bad_frame"
  | "unknown_type"
  | "invalid_data"
  | "empty_message"
  | "message_too_long"
  | "rate_limited"
  | "unavailable";

/** WebSocket close codes and what they mean to a client. */
export const CLOSE = {
  goingAway: 1001,
  invalidUtf8: 1007,
  tooBig: 1009,
  sessionEnded: 4001,
  notAllowed: 4003,
  tooSlow: 4008,
} as const;
