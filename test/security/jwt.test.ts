/**
 * The session JWT on a real server (docs/protocol.md, "Sessions"): what sign-in hands out
 * is made by @elysiajs/jwt (jose) with a header of exactly {alg: HS256, typ: JWT}; what
 * comes back is checked by the hand-written verifier (src/server/jwt.ts), which refuses,
 * on HTTP (Bearer and cookie) and on /ws alike, tokens made with the server's own key
 * whose header says more than HS256, or whose MAC is not in its canonical encoding.
 * auth.test.ts covers forgeries without the key; test/unit/jwt.test.ts the verifier alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { jwt } from "@elysiajs/jwt";
import { signIn, startServer, type TestServer } from "../helpers/server";

const SECRET = "jwt-test-secret-key-0123456789abcdefghijklm";
const alice = "alice@example.com";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { JWT_SECRET_KEY: SECRET, MAGIC_LINK_RATE_LIMIT: "1000", MAGIC_LINK_IP_RATE_LIMIT: "100000" } });
});
afterAll(async () => {
  await server?.stop();
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const part = (token: string, i: number) => JSON.parse(Buffer.from(token.split(".")[i], "base64url").toString());

function claimsFor(email: string) {
  const now = Math.floor(Date.now() / 1000);
  return { sub: `user:${email}`, email, iat: now, exp: now + 3600, jti: crypto.randomUUID(), ver: 0 };
}

/** Claims as the plugin's `sign` takes them: it sets `iat` itself. */
function withoutIat({ iat: _, ...claims }: ReturnType<typeof claimsFor>) {
  return claims;
}

function forge(header: unknown, claims: unknown): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac("sha256", SECRET).update(input).digest("base64url")}`;
}

/** The status and problem code of GET /auth/me with `headers`, and of GET /ws (no upgrade needed to be refused). */
async function answers(token: string) {
  const one = async (path: string, headers: Record<string, string>) => {
    const res = await fetch(`${server.url}${path}`, { headers });
    const body = res.headers.get("content-type")?.includes("json") ? ((await res.json()) as { code?: string }) : (await res.text(), {});
    return `${res.status} ${body.code ?? ""}`.trim();
  };
  return {
    bearer: await one("/auth/me", { authorization: `Bearer ${token}` }),
    cookie: await one("/auth/me", { cookie: `session_token=${token}` }),
    ws: await one("/ws", { authorization: `Bearer ${token}` }),
  };
}

const refused = { bearer: "401 unauthenticated", cookie: "401 unauthenticated", ws: "401 unauthenticated" };

describe("the session JWT", () => {
  test("sign-in hands out a token made by jose: exactly {alg: HS256, typ: JWT}, and jose's HS256-pinned verify accepts it", async () => {
    const session = await signIn(server, alice);
    expect(Buffer.from(session.split(".")[0], "base64url").toString()).toBe('{"alg":"HS256","typ":"JWT"}');
    const claims = part(session, 1);
    expect(Object.keys(claims).sort()).toEqual(["email", "exp", "iat", "jti", "sub", "ver"]);
    expect(claims).toMatchObject({ sub: `user:${alice}`, email: alice });
    const verified = await jwt({ secret: SECRET }).decorator.jwt.verify(session, { algorithms: ["HS256"], requiredClaims: ["exp"] });
    expect(verified).toMatchObject(claims);
    const me = await fetch(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${session}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { session: { issued_at: string } }).session.issued_at).toBe(new Date(claims.iat * 1000).toISOString());
  });

  test("the control: a token made by hand with the exact header and the key is accepted everywhere it is refused below", async () => {
    const token = forge({ alg: "HS256", typ: "JWT" }, claimsFor(alice));
    const got = await answers(token);
    expect(got.bearer).toBe("200");
    expect(got.cookie).toBe("200");
    // Not a WebSocket handshake: past the session check, the upgrade itself fails.
    expect(got.ws).toBe("400 invalid_request");
  });

  const cases: Array<[string, () => string | Promise<string>]> = [
    ["a kid in the header", () => forge({ alg: "HS256", typ: "JWT", kid: "another-key" }, claimsFor(alice))],
    ["crit and b64 in the header", () => forge({ alg: "HS256", typ: "JWT", b64: true, crit: ["b64"] }, claimsFor(alice))],
    ["typ jwt in lower case", () => forge({ alg: "HS256", typ: "jwt" }, claimsFor(alice))],
    ["HS384, made by jose with the server's key", () => jwt({ secret: SECRET, alg: "HS384" }).decorator.jwt.sign(withoutIat(claimsFor(alice)))],
    ["HS512, made by jose with the server's key", () => jwt({ secret: SECRET, alg: "HS512" }).decorator.jwt.sign(withoutIat(claimsFor(alice)))],
    ["the right MAC in a non-canonical encoding", () => {
      const token = forge({ alg: "HS256", typ: "JWT" }, claimsFor(alice));
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      return token.slice(0, -1) + alphabet[alphabet.indexOf(token.at(-1)!) + 1];
    }],
  ];
  for (const [name, make] of cases)
    test(`refused with the server's own key: ${name}`, async () => {
      expect(await answers(await make())).toEqual(refused);
    });
});
