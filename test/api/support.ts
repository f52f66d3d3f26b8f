/**
 * Shared pieces of the access-token and HTTP API tests (PROTOCOL.md section 6): the
 * suite's users and server, and the calls of `/auth/tokens` and `/api/*` as any script
 * makes them.
 */
import { signIn, type TestServer } from "../helpers/server";
import { testSuite } from "../helpers/suite";

export const suite = testSuite("api", 60, "api-test-secret-key-that-is-long-enough-0123456789");
export const { users: API_USERS, freshUser, start: startApiServer } = suite;

export interface CreatedToken {
  token: string;
  id: string;
  name: string;
  scope: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export function bearer(credential: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${credential}`, ...extra };
}

/** `POST /auth/tokens` with a session; the raw answer. */
export function postToken(server: TestServer, jwt: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}/auth/tokens`, {
    method: "POST",
    headers: bearer(jwt, { "content-type": "application/json" }),
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Creates a token (201 expected) and returns it. */
export async function createToken(server: TestServer, jwt: string, scope = "full", name = `token ${scope}`, expiresInDays: number | null = null): Promise<CreatedToken> {
  const res = await postToken(server, jwt, { name, scope, expires_in_days: expiresInDays });
  if (res.status !== 201) throw new Error(`POST /auth/tokens ${res.status}: ${await res.text()}`);
  return (await res.json()) as CreatedToken;
}

/** Signs a fresh user in (or uses the session `jwt`; then `email` is not its user) and gives them a token of `scope`. */
export async function tokenUserOn(server: TestServer, scope = "full", jwt?: string, name?: string) {
  const email = freshUser();
  const session = jwt ?? (await signIn(server, email));
  const token = await createToken(server, session, scope, name);
  return { email, jwt: session, token };
}

/** `POST /api/messages` with `credential`: a text body as text/plain, an object as JSON. */
export function postMessage(server: TestServer, credential: string, body: string | object, headers: Record<string, string> = {}): Promise<Response> {
  const type = typeof body === "string" ? "text/plain" : "application/json";
  return fetch(`${server.url}/api/messages`, {
    method: "POST",
    headers: bearer(credential, { "content-type": type, ...headers }),
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function revokeToken(server: TestServer, jwt: string, id: string): Promise<Response> {
  return fetch(`${server.url}/auth/tokens/${id}`, { method: "DELETE", headers: bearer(jwt) });
}
