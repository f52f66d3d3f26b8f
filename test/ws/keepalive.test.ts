/**
 * The server's keepalive (docs/protocol.md): every connection is pinged once per interval
 * (25 s; ROOMZ_PING_EVERY_MS shortens it here), a slice of them each second rather than
 * all at once. Read with the `ws` package, whose client reports each ping frame.
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

test("each connection is pinged once per interval, the connections spread over it", async () => {
  const sockets: WebSocket[] = [];
  const pings: number[][] = [];
  for (let user = 0; user < 6; user++) {
    const jwt = await signIn(server, freshUser());
    for (let i = 0; i < 5; i++) {
      const socket = new WebSocket(server.wsUrl, { headers: { authorization: `Bearer ${jwt}` } });
      const times: number[] = [];
      socket.on("ping", () => times.push(Date.now()));
      await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
      sockets.push(socket);
      pings.push(times);
    }
  }
  await until(() => pings.every((times) => times.length >= 2), "two pings on each of 30 connections", { timeoutMs: 4 * PING_EVERY_MS });
  for (const times of pings) {
    const gap = times[1] - times[0];
    // One interval between a connection's pings (give or take the 1 s ticks' jitter): not
    // a tick more (a round that wastes one) nor a burst.
    expect(gap).toBeGreaterThan(PING_EVERY_MS - 700);
    expect(gap).toBeLessThan(PING_EVERY_MS + 700);
  }
  // Spread over the interval: not every first ping in the same second.
  const seconds = new Set(pings.map((times) => Math.floor(times[0] / 1000)));
  expect(seconds.size).toBeGreaterThan(1);
  for (const socket of sockets) socket.close();
});
