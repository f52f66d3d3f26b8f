/**
 * The contract's refusals (PROTOCOL.md section 1): every error answer over HTTP, and every
 * refused WebSocket upgrade, is an RFC 9457 problem document with a stable `code`.
 */
import { expect } from "bun:test";

export interface ProblemDoc {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
}

/** An answer read by hand (rawHttp, rawUpgrade): what a Response would hold. */
export interface TextAnswer {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * Asserts `answer` is a complete problem document for `status`, `code` and `instance` (the
 * request's path): its content type, every member, a real sentence in `detail`, no stack
 * trace and no CORS header. Returns the document.
 */
export async function expectProblem(answer: Response | TextAnswer, status: number, code: string, instance: string): Promise<ProblemDoc> {
  const text = answer instanceof Response ? await answer.text() : answer.body;
  const context = `${answer.status} ${answer.headers.get("content-type")} ${text.slice(0, 400)}`;
  expect(answer.status, context).toBe(status);
  expect(answer.headers.get("content-type") ?? "", context).toMatch(/^application\/problem\+json(;|$)/);
  let body: ProblemDoc;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`problem body is not JSON: ${context}`);
  }
  expect(body.type).toBe("about:blank");
  expect(typeof body.title).toBe("string");
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.status).toBe(status);
  expect(typeof body.detail).toBe("string");
  expect(body.detail.length).toBeGreaterThan(10);
  expect(body.instance).toBe(instance);
  expect(body.code).toBe(code);
  // Nothing answers with a stack trace.
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+/);
  // No CORS headers, ever.
  expect(answer.headers.get("access-control-allow-origin")).toBeNull();
  return body;
}
