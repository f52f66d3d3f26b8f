/**
 * Access tokens across instances (PROTOCOL.md sections 4 and 6), two instances on one real
 * redis-server: a token made on one works on the other; revoked on one, it is refused on
 * both at once and its sockets and streams on the other close (4001), upgrades racing the
 * revocation included; in Redis only its SHA-256 is kept.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { expectProblem } from "../helpers/problems";
import { signIn } from "../helpers/server";
import { SseClient } from "../helpers/sse";
import { rawUpgrade } from "../helpers/upgrade";
import { within } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";
import { bearer, createToken, postMessage, revokeToken } from "../api/support";
import { until } from "../helpers/wait";
import { freshUser, healthStatus, startCluster, type Cluster } from "./support";

let cluster: Cluster;
const secrets: string[] = [];
beforeAll(async () => {
  cluster = await startCluster(2);
}, 30000);
afterAll(() => cluster?.stop(), 30000);

async function tokenOnA(scope = "full") {
  const [a] = cluster.servers;
  const jwt = await signIn(a, freshUser());
  const token = await createToken(a, jwt, scope);
  secrets.push(token.token);
  return { jwt, token };
}

/** A WebSocket opened with `credential` on `url`, reporting whether it opened and how it closed. */
function racingSocket(url: string, credential: string) {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${credential}` } } as any);
  let opened = false;
  return new Promise<{ opened: boolean; code: number | null }>((resolve) => {
    const timer = setTimeout(() => resolve({ opened, code: null }), 5000);
    ws.onopen = () => (opened = true);
    ws.onclose = (event) => (clearTimeout(timer), resolve({ opened, code: opened ? event.code : null }));
  });
}

describe("tokens on two instances", () => {
  test("made on one, used on the other; revoked on one: refused on both, its socket and stream on the other close with 4001", async () => {
    const [a, b] = cluster.servers;
    const { jwt, token } = await tokenOnA("full");
    expect((await postMessage(b, token.token, "via b")).status).toBe(201);
    const socket = await WsClient.connect(b.wsUrl, { jwt: token.token });
    const stream = await SseClient.open(`${b.url}/api/stream?since=0`, bearer(token.token));
    await stream.until(() => stream.messages().length === 1, "the replay on b");
    const session = await WsClient.connect(b.wsUrl, { jwt });
    expect((await revokeToken(a, jwt, token.id)).status).toBe(200);
    await expectProblem(await postMessage(b, token.token, "revoked"), 401, "unauthenticated", "/api/messages");
    expect((await within(socket.closed, 5000, "b's token socket to close")).code).toBe(4001);
    await stream.endedSoon();
    await expectProblem(await rawUpgrade(b.wsUrl, { jwt: token.token }), 401, "unauthenticated", "/ws");
    expect((await session.request("ping")).type).toBe("ack");
    session.close();
  });

  test("upgrades on one instance racing the revocation on the other (a script reopening every few ms): none stays open", async () => {
    const [a, b] = cluster.servers;
    let opened = 0;
    for (let round = 0; round < 4; round++) {
      const { jwt, token } = await tokenOnA("full");
      const attempts: Array<ReturnType<typeof racingSocket>> = [];
      let stop = false;
      const script = (async () => {
        while (!stop) {
          attempts.push(racingSocket(b.wsUrl, token.token));
          await Bun.sleep(2);
        }
      })();
      await Bun.sleep(40);
      expect((await revokeToken(a, jwt, token.id)).status).toBe(200);
      await Bun.sleep(40);
      stop = true;
      await script;
      for (const result of await Promise.all(attempts)) {
        if (!result.opened) continue;
        opened++;
        expect(result.code).toBe(4001);
      }
    }
    console.log(`token revocation race: ${opened} upgrades on the other instance opened around it; every one closed with 4001`);
  }, 60000);

  test("Redis holds each token only as its SHA-256", async () => {
    const { token } = await tokenOnA("send");
    expect((await postMessage(cluster.servers[1], token.token, "used")).status).toBe(201);
    const keys = (await cluster.redis.command("KEYS", ["roomz:*"])) as string[];
    let dump = keys.join("\n");
    for (const key of keys) {
      const type = String(await cluster.redis.command("TYPE", [key]));
      if (type === "string") dump += String(await cluster.redis.command("GET", [key]));
      if (type === "hash") dump += JSON.stringify(await cluster.redis.command("HGETALL", [key]));
      if (type === "zset") dump += JSON.stringify(await cluster.redis.command("ZRANGE", [key, "0", "-1"]));
    }
    expect(dump).toContain(createHash("sha256").update(token.token).digest("hex"));
    for (const secret of secrets) expect(dump.includes(secret.slice(3))).toBe(false);
    for (const server of cluster.servers) for (const secret of secrets) expect(server.output.includes(secret.slice(3))).toBe(false);
  });

  test("while Redis is unreachable: POST /api/messages (session or token) is 503 unavailable, the stream refuses with 503; both recover", async () => {
    const [a] = cluster.servers;
    const { jwt, token } = await tokenOnA("full");
    await cluster.redis.stop("SIGKILL");
    try {
      await until(async () => (await healthStatus(a)) === 503, "503 from /healthz", 10_000);
      for (const credential of [jwt, token.token]) {
        const refused = await postMessage(a, credential, "while down");
        expect(refused.headers.get("retry-after")).toBe("2");
        await expectProblem(refused, 503, "unavailable", "/api/messages");
      }
      await expectProblem(await fetch(`${a.url}/api/stream`, { headers: bearer(jwt) }), 503, "unavailable", "/api/stream");
      // Redis being down is logged by its link; the requests it refuses add no error lines.
      expect(a.output).not.toMatch(/error .*request POST \/api\/messages failed/);
    } finally {
      await cluster.redis.start();
    }
    await until(async () => (await healthStatus(a)) === 200, "recovery", 20_000);
    // The test's redis-server keeps nothing across a SIGKILL (the token is gone with it); the session is a signed JWT.
    expect((await postMessage(a, jwt, "after recovery")).status).toBe(201);
  }, 60000);
});
