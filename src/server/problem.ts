/** RFC 9457 problem documents: every error answer of the HTTP side is one of these. */
import { PROBLEMS, type Problem, type ProblemCode } from "../protocol";

export function problem(code: ProblemCode, detail: string, instance: string, headers: Record<string, string> = {}): Response {
  const { status, title } = PROBLEMS[code];
  const body: Problem = { type: "about:blank", title, status, detail, instance, code };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...headers },
  });
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}
