/**
 * The server's keepalive (docs/protocol.md): every connection is pinged once per interval
 * (25 s; ROOMZ_PING_EVERY_MS shortens it here), a slice of them each second rather than
 * all at once, whether there are thousands or two. Read with the `ws` package, whose
 * client reports each ping frame.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import WebSocket from "ws";
import { signIn, type TestServer } from "../helpers/server";
import { until } from "../helpers/wait";
import { freshUser, startWsServer } from "./support";

const PING_EVERY_MS = 3_000;
let server: TestServer;

beforeAll(async () => {
  server = await startWsServer({ ROOMZ_PING_EVERY_MS: String(PING_EVERY_MS) });
}, 30_000);
afterAll(() => server?.stop(), 30_000);

/** Opens `count` sockets of one user, each recording the times of the pings it gets. */
async function pingedSockets(count: number) {
  const jwt = await signIn(server, freshUser());
  const sockets: WebSocket[] = [];
  const pings: number[][] = [];
  for (let i = 0; i < count; i++) {
    const socket = new WebSocket(server.wsUrl, { headers: { authorization: `Bearer ${jwt}` } });
    const times: number[] = [];
    socket.on("ping", () => times.push(Date.now()));
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    sockets.push(socket);
    pings.push(times);
  }
  return { sockets, pings };
}

test("a few connections are pinged once per interval too, not once per tick", async () => {
  // Two connections, a 3 s interval: two pings due every three 1 s ticks (a slice rounded
  // up to one per tick pinged each every 2 s).
  const { sockets, pings } = await pingedSockets(2);
  await until(() => pings.every((times) => times.length >= 3), "three pings on each of 2 connections", { timeoutMs: 4 * PING_EVERY_MS });
  for (const times of pings)
    for (const gap of [times[1] - times[0], times[2] - times[1]]) {
      expect(gap).toBeGreaterThan(PING_EVERY_MS - 400);
      expect(gap).toBeLessThan(PING_EVERY_MS + 400);
    }
  for (const socket of sockets) socket.close();
  await until(() => sockets.every((socket) => socket.readyState === WebSocket.CLOSED), "the two sockets closed");
});

test("each connection is pinged once per interval, the connections spread over it", async () => {
  const sockets: WebSocket[] = [];
  const pings: number[][] = [];
  for (let user = 0; user < 6; user++) {
    const opened = await pingedSockets(5);
    sockets.push(...opened.sockets);
    pings.push(...opened.pings);
  }
  await until(() => pings.every((times) => times.length >= 2), "two pings on each of 30 connections", { timeoutMs: 4 * PING_EVERY_MS });
  for (const times of pings) {
    const gap = times[1] - times[0];
    // One interval between a connection's pings (give or take the ticks' jitter): not a
    // tick more (a round that wastes one) nor a burst.
    expect(gap).toBeGreaterThan(PING_EVERY_MS - 700);
    expect(gap).toBeLessThan(PING_EVERY_MS + 700);
  }
  // Spread over the interval: not every first ping in the same second.
  const seconds = new Set(pings.map((times) => Math.floor(times[0] / 1000)));
  expect(seconds.size).toBeGreaterThan(1);
  for (const socket of sockets) socket.close();
});
