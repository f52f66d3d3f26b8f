/**
 * The small pieces every HTTP route file shares (http.ts and the feature route files it
 * registers): the request's path, the 405 answer, JSON parsing, and the guard of every
 * state-changing request (the Origin rule, then the body bounded at 16 KiB).
 */
import type { Config } from "./config";
import type { Metrics } from "./metrics";
import type { ProblemCode } from "../protocol";
import { problem } from "./problem";
import { BodyNotUtf8, BodyTooLarge, originAllowed, readBody } from "./request";

/** Bodies are read by hand (readBody), so the 16 KiB limit holds whatever a client declares. */
export const noParse = { parse: "none" as const };

export function pathOf(request: Request): string {
  return new URL(request.url).pathname;
}

export function methodNotAllowed(allow: string) {
  return ({ request }: { request: Request }) =>
    problem("method_not_allowed", `Use ${allow} for this path.`, pathOf(request), { allow });
}

/** Parses a JSON body, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The guard of every state-changing request: the Origin rule, then the bounded body (or the problem to answer). */
/** `notText`: the code for a body that is not UTF-8, the route's code for a malformed body. */
export async function guardedBody(config: Config, metrics: Metrics, request: Request, notText: ProblemCode = "invalid_request"): Promise<string | Response> {
  if (!originAllowed(config, request)) {
    metrics.authFailure("bad_origin");
    return problem("bad_origin", "This request came from another site; use Roomz from its own address.", pathOf(request));
  }
  try {
    return await readBody(request);
  } catch (error) {
    if (error instanceof BodyTooLarge) return problem("too_large", "The request body is over 16 KiB; send less.", pathOf(request));
    if (error instanceof BodyNotUtf8) return problem(notText, "The request body is not UTF-8 text; nothing was stored.", pathOf(request));
    throw error;
  }
}
