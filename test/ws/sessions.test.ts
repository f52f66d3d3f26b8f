/**
 * Sessions ending under open sockets (PROTOCOL.md sections 1 and 2): 4001 on logout (that
 * session's sockets only), on logout-all (all of the user's), on expiry; 4003 when an
 * address leaves ALLOWED_EMAILS_FILE and the server gets SIGHUP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { signIn, tempDir, type TestServer } from "../helpers/server";
import { decodeJwtPart, epochSeconds, HS256, mintJwt, sessionClaims } from "../helpers/jwt";
import { expectProblem } from "../helpers/problems";
import { rawUpgrade } from "../helpers/upgrade";
import { within } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";
import { WS_USERS, freshUser, JWT_SECRET_KEY, startWsServer } from "./support";

let server: TestServer;
const allowDir = tempDir("roomz-ws-allow-");
const allowFile = join(allowDir, "allowed.txt");
/** Listed only in the file, so SIGHUP can remove them. */
const FILE_USERS = ["hup1@example.com", "hup2@example.com", "hup3@example.com"];

beforeAll(async () => {
  writeFileSync(allowFile, `# test allow-list\n${FILE_USERS.join("\n")}\n`);
  server = await startWsServer({ ALLOWED_EMAILS: WS_USERS.join(","), ALLOWED_EMAILS_FILE: allowFile });
}, 30000);
afterAll(() => server?.stop(), 30000);

async function closeCode(client: WsClient, ms = 5000): Promise<number> {
  return (await within(client.closed, ms, "close")).code;
}

async function post(path: string, jwt: string) {
  return fetch(`${server.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${jwt}` } });
}

describe("sessions ending close sockets", () => {
  test("logout closes that session's sockets with 4001 and no others; the session can't upgrade again", async () => {
    const email = freshUser();
    const one = await signIn(server, email);
    const two = await signIn(server, email);
    const a1 = await WsClient.connect(server.wsUrl, { jwt: one });
    const a2 = await WsClient.connect(server.wsUrl, { jwt: one });
    const b1 = await WsClient.connect(server.wsUrl, { jwt: two });
    const stranger = await WsClient.connect(server.wsUrl, { jwt: await signIn(server, freshUser()) });
    expect((await post("/auth/logout", one)).status).toBe(200);
    expect(await closeCode(a1)).toBe(4001);
    expect(await closeCode(a2)).toBe(4001);
    await Bun.sleep(100);
    expect(b1.closeInfo).toBeNull();
    expect(stranger.closeInfo).toBeNull();
    expect((await b1.request("ping")).type).toBe("ack");
    // b1 hears the two connections leave
    await b1.until(() => b1.ofType("user_left").length === 2, "two user_left");
    expect(b1.ofType("user_left").at(-1)!.data.remaining_connections).toBe(1);
    await expectProblem(await rawUpgrade(server.wsUrl, { jwt: one }), 401, "unauthenticated", "/ws");
    expect((await rawUpgrade(server.wsUrl, { jwt: two })).status).toBe(101);
    b1.close();
    stranger.close();
  });

  test("logout-all closes every socket of the user, of every session, with 4001; other users keep theirs", async () => {
    const email = freshUser();
    const sessions = [await signIn(server, email), await signIn(server, email), await signIn(server, email)];
    const sockets = [];
    for (const jwt of sessions) sockets.push(await WsClient.connect(server.wsUrl, { jwt }), await WsClient.connect(server.wsUrl, { jwt }));
    const stranger = await WsClient.connect(server.wsUrl, { jwt: await signIn(server, freshUser()) });
    expect((await post("/auth/logout-all", sessions[1])).status).toBe(200);
    for (const s of sockets) expect(await closeCode(s)).toBe(4001);
    await Bun.sleep(100);
    expect(stranger.closeInfo).toBeNull();
    expect((await stranger.request("ping")).type).toBe("ack");
    for (const jwt of sessions) await expectProblem(await rawUpgrade(server.wsUrl, { jwt }), 401, "unauthenticated", "/ws");
    // a new sign-in works again
    const fresh = await WsClient.connect(server.wsUrl, { jwt: await signIn(server, email) });
    expect(fresh.authenticated.data.connections).toHaveLength(1);
    fresh.close();
    stranger.close();
  });

  /**
   * A socket opened with this session: `ended` resolves with how it ended (a refused
   * upgrade, or its close code, or null while still open after 5 s) and whether a message
   * sent after `sendLate()` was acked.
   */
  function racingSocket(jwt: string) {
    const ws = new WebSocket(server.wsUrl, { headers: { authorization: `Bearer ${jwt}` } } as any);
    let opened = false;
    let lateAcked = false;
    const ended = new Promise<{ opened: boolean; code: number | null; lateAcked: boolean }>((resolve) => {
      const timer = setTimeout(() => resolve({ opened, code: null, lateAcked }), 5000);
      ws.onopen = () => (opened = true);
      ws.onmessage = (event) => {
        const frame = JSON.parse(String(event.data));
        if (frame.type === "ack" && frame.ref === "late") lateAcked = true;
      };
      ws.onclose = (event) => {
        clearTimeout(timer);
        resolve({ opened, code: opened ? event.code : null, lateAcked });
      };
    });
    const sendLate = () => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "message", ref: "late", data: { content: "after logout" } }));
    };
    return { ended, sendLate };
  }

  test("[v2] a logout racing ten upgrades of its session leaves none of them open, and none can send after it", async () => {
    let opened = 0;
    for (let round = 0; round < 6; round++) {
      const jwt = await signIn(server, freshUser());
      const sockets = Array.from({ length: 10 }, () => racingSocket(jwt));
      await Bun.sleep(round % 3); // land the logout at different points of the upgrades
      expect((await post("/auth/logout", jwt)).status).toBe(200);
      for (const socket of sockets) socket.sendLate();
      for (const result of await Promise.all(sockets.map((s) => s.ended))) {
        if (!result.opened) continue;
        opened++;
        expect(result.code).toBe(4001);
        expect(result.lateAcked).toBe(false);
      }
    }
    console.log(`logout race: ${opened} of 60 upgrades opened around the logout; every one closed with 4001`);
  }, 60000);

  test("[v2] a stolen session reopened every few ms keeps no socket through logout-all", async () => {
    for (let round = 0; round < 3; round++) {
      const email = freshUser();
      const stolen = await signIn(server, email);
      const attempts: Array<ReturnType<typeof racingSocket>> = [];
      let stop = false;
      const thief = (async () => {
        while (!stop) {
          attempts.push(racingSocket(stolen));
          await Bun.sleep(3);
        }
      })();
      await Bun.sleep(30);
      expect((await post("/auth/logout-all", await signIn(server, email))).status).toBe(200);
      await Bun.sleep(30);
      stop = true;
      await thief;
      for (const socket of attempts) socket.sendLate();
      for (const result of await Promise.all(attempts.map((a) => a.ended))) {
        if (!result.opened) continue;
        expect(result.code).toBe(4001);
        expect(result.lateAcked).toBe(false);
      }
    }
  }, 60000);

  test("a socket closes with 4001 when its session's exp passes; a longer session stays", async () => {
    const email = freshUser();
    const short = mintJwt(HS256, sessionClaims(email, { exp: epochSeconds() + 2 }), JWT_SECRET_KEY);
    const client = await WsClient.connect(server.wsUrl, { jwt: short });
    const long = await WsClient.connect(server.wsUrl, { jwt: await signIn(server, email) });
    const opened = Date.now();
    const exp = decodeJwtPart(short.split(".")[1]).exp * 1000;
    expect(await closeCode(client, 6000)).toBe(4001);
    const closedAt = Date.now();
    expect(closedAt).toBeGreaterThanOrEqual(exp - 50);
    expect(closedAt - exp).toBeLessThan(2000);
    expect(closedAt - opened).toBeLessThan(4000);
    expect(long.closeInfo).toBeNull();
    expect((await long.request("ping")).type).toBe("ack");
    await expectProblem(await rawUpgrade(server.wsUrl, { jwt: short }), 401, "unauthenticated", "/ws");
    long.close();
  }, 15000);

  test("SIGHUP after removing an address from ALLOWED_EMAILS_FILE closes its sockets with 4003; others stay; it can't upgrade again (403)", async () => {
    const [gone, stays] = FILE_USERS;
    const goneJwt = await signIn(server, gone);
    const gone1 = await WsClient.connect(server.wsUrl, { jwt: goneJwt });
    const gone2 = await WsClient.connect(server.wsUrl, { jwt: await signIn(server, gone) });
    const stay = await WsClient.connect(server.wsUrl, { jwt: await signIn(server, stays) });
    const envUser = await WsClient.connect(server.wsUrl, { jwt: await signIn(server, freshUser()) });
    writeFileSync(allowFile, FILE_USERS.filter((e) => e !== gone).join("\n") + "\n");
    server.proc.kill("SIGHUP");
    expect(await closeCode(gone1)).toBe(4003);
    expect(await closeCode(gone2)).toBe(4003);
    await Bun.sleep(150);
    for (const c of [stay, envUser]) {
      expect(c.closeInfo).toBeNull();
      expect((await c.request("ping")).type).toBe("ack");
    }
    await expectProblem(await rawUpgrade(server.wsUrl, { jwt: goneJwt }), 403, "not_allowed", "/ws");
    // the server still runs after SIGHUP
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    stay.close();
    envUser.close();
  });
});
