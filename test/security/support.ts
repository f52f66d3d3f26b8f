/**
 * Shared checks of the fault, fuzz and security suites: the contract's error codes,
 * problem documents, stack-trace detection and the token/JWT leak scan over everything
 * the servers printed.
 */
import { expect } from "bun:test";

/** PROTOCOL.md section 1: the `code` of every HTTP problem document. */
export const PROBLEM_CODES = [
  "invalid_request",
  "invalid_token",
  "expired_token",
  "not_allowed",
  "bad_origin",
  "unauthenticated",
  "rate_limited",
  "too_large",
  "not_found",
  "method_not_allowed",
  "unavailable",
] as const;

/** PROTOCOL.md section 2: the `code` of every WebSocket `error` frame. */
export const FRAME_ERROR_CODES = [
  "bad_frame",
  "unknown_type",
  "invalid_data",
  "empty_message",
  "message_too_long",
  "rate_limited",
  "unavailable",
] as const;

/** Looks like a JavaScript/Bun stack trace, or an internal error leaking out. */
export const STACK_TRACE = /(^|\n)\s+at .*(:\d+|native|<anonymous>)|\bat [\w.<>$ ]+ \([^)]*:\d+:\d+\)|node:internal|[\w/-]+\.(ts|js):\d+:\d+/;

/** A JWT: base64url JSON header `{"` → `eyJ`, three dot-separated parts. */
export const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

export interface ProblemCheck {
  status: number;
  contentType: string;
  body: string;
  path?: string;
}

/** Returns a list of ways `r` is not a valid contract problem document (empty = fine). */
export function problemViolations(r: ProblemCheck): string[] {
  const out: string[] = [];
  if (!r.contentType.startsWith("application/problem+json")) out.push(`content-type ${JSON.stringify(r.contentType)}`);
  let doc: any;
  try {
    doc = JSON.parse(r.body);
  } catch {
    out.push(`body not JSON: ${JSON.stringify(r.body.slice(0, 200))}`);
    return out;
  }
  if (typeof doc !== "object" || doc === null) return [...out, "body not an object"];
  if (doc.type !== "about:blank") out.push(`type ${doc.type}`);
  if (!PROBLEM_CODES.includes(doc.code)) out.push(`unknown code ${doc.code}`);
  if (doc.status !== r.status) out.push(`status member ${doc.status} != ${r.status}`);
  if (typeof doc.title !== "string" || typeof doc.detail !== "string" || typeof doc.instance !== "string") out.push("missing title/detail/instance");
  if (r.path !== undefined && doc.instance !== r.path) out.push(`instance ${doc.instance} != ${r.path}`);
  if (STACK_TRACE.test(r.body)) out.push("stack trace in body");
  return out;
}

export async function expectProblemResponse(res: Response, status: number, code: string): Promise<any> {
  const body = await res.text();
  expect({ status: res.status, body }).toMatchObject({ status });
  expect(problemViolations({ status: res.status, contentType: res.headers.get("content-type") ?? "", body })).toEqual([]);
  const doc = JSON.parse(body);
  expect(doc.code).toBe(code);
  return doc;
}

/**
 * Scans server output for secrets: a JWT anywhere is a leak; a magic-link token may only
 * appear on the console sender's `magic-link <email> <url>` line. Returns the offending lines.
 */
export function leakViolations(chunks: string[]): string[] {
  const text = chunks.join("");
  const lines = text.split("\n");
  const tokens = new Set<string>();
  const linkLine = /^magic-link \S+@\S+ https?:\/\/\S+\/auth\/verify\?token=([A-Za-z0-9_-]+)$/;
  for (const line of lines) {
    const m = linkLine.exec(line);
    if (m) tokens.add(m[1]);
  }
  const bad: string[] = [];
  for (const line of lines) {
    if (JWT_PATTERN.test(line)) bad.push(`JWT in: ${line.slice(0, 300)}`);
    JWT_PATTERN.lastIndex = 0;
    if (linkLine.test(line)) continue;
    for (const token of tokens) if (line.includes(token)) bad.push(`magic-link token outside its line: ${line.slice(0, 300)}`);
    if (/token=[A-Za-z0-9_-]{20,}/.test(line)) bad.push(`token= outside a magic-link line: ${line.slice(0, 300)}`);
  }
  return bad;
}

/** Output lines that carry a stack trace. */
export function stackTraceLines(chunks: string[]): string[] {
  return chunks
    .join("")
    .split("\n")
    .filter((line, i, all) => STACK_TRACE.test(line) || (/^\s+at /.test(line) && i > 0));
}

/** The resident set size of a process in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}
