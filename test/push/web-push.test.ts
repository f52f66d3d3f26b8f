/**
 * Web Push end to end (PROTOCOL.md section 8): the real server pushes to a local fake push
 * service listed in PUSH_ENDPOINT_ALLOW; the test decrypts each push with the keys of the
 * subscription it made (RFC 8291 aes128gcm) and verifies the VAPID JWT (RFC 8292) against
 * the server's public key. Run with ROOMZ_TEST_ENGINE=redis for the Redis engine.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { FakePushService, browserSubscription, verifyVapid } from "../helpers/fake-push-service";
import { expectProblem } from "../helpers/problems";
import { signIn, type TestServer } from "../helpers/server";
import { until } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";
import { pushCountReaches, pushCounts, register, subscribed, suite, unregister } from "./support";

setDefaultTimeout(60_000);

let server: TestServer;
let service: FakePushService;
let publicKey: string;

beforeAll(async () => {
  service = new FakePushService();
  server = await suite.start({ PUSH_ENDPOINT_ALLOW: service.origin, PUBLIC_URL: "https://chat.example.com" });
  publicKey = ((await (await fetch(`${server.url}/api/push/key`)).json()) as { public_key: string }).public_key;
});

afterAll(async () => {
  await server?.stop();
  service?.stop();
});

/** A user with two sessions (two browsers) and a connection on each. */
async function twoBrowsers() {
  const email = suite.freshUser();
  const [jwtA, jwtB] = [await signIn(server, email), await signIn(server, email)];
  const [a, b] = [await WsClient.connect(server.wsUrl, { jwt: jwtA }), await WsClient.connect(server.wsUrl, { jwt: jwtB })];
  return { email, jwtA, jwtB, a, b };
}

describe("the routes", () => {
  test("GET /api/push/key: the VAPID public key, an uncompressed P-256 point, no session needed", async () => {
    expect(Buffer.from(publicKey, "base64url").length).toBe(65);
    expect(Buffer.from(publicKey, "base64url")[0]).toBe(4);
    await expectProblem(await fetch(`${server.url}/api/push/key`, { method: "POST" }), 405, "method_not_allowed", "/api/push/key");
  });

  test("registering needs a session, our own Origin and a well-formed subscription and device name", async () => {
    const jwt = await signIn(server, suite.freshUser());
    const good = browserSubscription(service.endpoint()).json;
    const path = "/api/push/subscriptions";
    await expectProblem(await register(server, "not-a-session", good), 401, "unauthenticated", path);
    await expectProblem(await register(server, jwt, good, "Phone", { origin: "https://evil.example" }), 403, "bad_origin", path);
    for (const [subscription, device] of [
      [null, "Phone"],
      [{ ...good, endpoint: undefined }, "Phone"],
      [{ ...good, keys: { p256dh: good.keys.p256dh, auth: "c2hvcnQ" } }, "Phone"],
      [{ ...good, keys: { p256dh: "AAAA", auth: good.keys.auth } }, "Phone"],
      [good, ""],
      [good, "x".repeat(51)],
      [good, "Tab\u0007"],
      [good, 7],
    ] as const)
      await expectProblem(await register(server, jwt, subscription, device as string), 400, "invalid_request", path);
    const created = await register(server, jwt, good, "  Phone  ");
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ endpoint: good.endpoint, device: "Phone" });
    await expectProblem(await fetch(`${server.url}${path}`, { method: "PUT" }), 405, "method_not_allowed", path);
    expect(await (await unregister(server, jwt, good.endpoint)).json()).toEqual({ status: "ok", deleted: true });
    expect(await (await unregister(server, jwt, good.endpoint)).json()).toEqual({ status: "ok", deleted: false });
  });

  test("only https: endpoints on public addresses are taken, unless their origin is in PUSH_ENDPOINT_ALLOW", async () => {
    const jwt = await signIn(server, suite.freshUser());
    for (const endpoint of [
      "https://127.0.0.1/push/1",
      "https://localhost:8443/push/1",
      "https://10.1.2.3/push/1",
      "https://192.168.1.1/push/1",
      "https://169.254.169.254/latest",
      "https://[::1]/push/1",
      "https://[fd00::1]/push/1",
      "https://[fe80::1]/push/1",
      "https://[::ffff:127.0.0.1]/push/1",
      "http://8.8.8.8/push/1",
      "ftp://push.example.com/1",
      "not a url",
      `${service.origin.replace("127.0.0.1", "localhost")}/push/1`,
    ])
      await expectProblem(await register(server, jwt, browserSubscription(endpoint).json), 400, "invalid_request", "/api/push/subscriptions");
  });

  test("at most 20 subscriptions per user: the 21st is refused, registering one again is not", async () => {
    const jwt = await signIn(server, suite.freshUser());
    const endpoints: string[] = [];
    for (let i = 0; i < 20; i++) endpoints.push((await subscribed(server, service, jwt)).json.endpoint);
    const extra = browserSubscription(service.endpoint());
    await expectProblem(await register(server, jwt, extra.json), 429, "rate_limited", "/api/push/subscriptions");
    expect((await register(server, jwt, browserSubscription(endpoints[3]).json, "Renamed")).status).toBe(201);
    await unregister(server, jwt, endpoints[0]);
    expect((await register(server, jwt, extra.json)).status).toBe(201);
  });
});

describe("pushing", () => {
  test("every other session's subscription gets one encrypted push per message; the sending session's own gets none", async () => {
    const { jwtA, jwtB, a, b } = await twoBrowsers();
    const ownA = await subscribed(server, service, jwtA);
    const ownB = await subscribed(server, service, jwtB);
    await a.request("set_display_name", { display_name: "Laptop" });
    const content = "😀".repeat(100) + "x".repeat(100);
    const { seq } = await a.sendMessage(content);
    const [pushed] = await service.waitFor(ownB.json.endpoint);
    expect(ownB.decrypt(pushed.body)).toEqual({ seq, sender: "Laptop", preview: "😀".repeat(100) + "x".repeat(20), files: [] });
    expect(pushed.method).toBe("POST");
    expect(pushed.headers.get("ttl")).toBe("86400");
    expect(pushed.headers.get("urgency")).toBe("normal");
    expect(pushed.headers.get("content-encoding")).toBe("aes128gcm");
    const claims = await verifyVapid(pushed.headers.get("authorization"), publicKey, service.origin);
    expect(claims.sub).toBe("https://chat.example.com");

    // From B now: A's subscription gets this one, and had none for A's own message.
    const second = await b.sendMessage("from B");
    const [toA] = await service.waitFor(ownA.json.endpoint);
    expect(ownA.decrypt(toA.body)).toEqual({ seq: second.seq, sender: null, preview: "from B", files: [] });
    expect(service.to(ownA.json.endpoint)).toHaveLength(1);
    expect(service.to(ownB.json.endpoint)).toHaveLength(1);
    a.close();
    b.close();
  });

  test("a message with files pushes their names; one posted with an access token pushes to every subscription, the poster's session's too", async () => {
    const { jwtA, jwtB, a, b } = await twoBrowsers();
    const ownA = await subscribed(server, service, jwtA);
    const upload = await fetch(`${server.url}/api/files?name=plan.pdf`, { method: "POST", headers: { authorization: `Bearer ${jwtA}`, "content-type": "application/pdf" }, body: "%PDF-1.4" });
    expect(upload.status).toBe(201);
    const file = (await upload.json()) as { id: string };
    const withFile = await b.request("message", { content: "", files: [file.id] });
    expect(withFile.type).toBe("ack");
    const [pushed] = await service.waitFor(ownA.json.endpoint);
    expect(ownA.decrypt(pushed.body)).toEqual({ seq: withFile.data.seq, sender: null, preview: "", files: ["plan.pdf"] });
    const created = await fetch(`${server.url}/auth/tokens`, { method: "POST", headers: { authorization: `Bearer ${jwtA}`, "content-type": "application/json" }, body: JSON.stringify({ name: "cron", scope: "send", expires_in_days: null }) });
    const { token } = (await created.json()) as { token: string };
    const posted = await fetch(`${server.url}/api/messages`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" }, body: "backup done" });
    expect(posted.status).toBe(201);
    const [, second] = await service.waitFor(ownA.json.endpoint, 2);
    expect(ownA.decrypt(second.body)).toEqual({ seq: withFile.data.seq + 1, sender: "cron", preview: "backup done", files: [] });
    a.close();
    b.close();
  });

  test("a push service answering 410 (or 404) gets its subscription deleted", async () => {
    const { jwtB, a, b } = await twoBrowsers();
    const gone = await subscribed(server, service, jwtB, 410);
    const vanished = await subscribed(server, service, jwtB, 404);
    const before = (await pushCounts(server)).gone ?? 0;
    await a.sendMessage("to a gone browser");
    await service.waitFor(gone.json.endpoint);
    await service.waitFor(vanished.json.endpoint);
    await pushCountReaches(server, "gone", before + 2);
    expect(await (await unregister(server, jwtB, gone.json.endpoint)).json()).toEqual({ status: "ok", deleted: false });
    expect(await (await unregister(server, jwtB, vanished.json.endpoint)).json()).toEqual({ status: "ok", deleted: false });
    a.close();
    b.close();
  });

  test("a redirect from the push service is not followed", async () => {
    const { jwtB, a, b } = await twoBrowsers();
    const redirecting = await subscribed(server, service, jwtB, "redirect");
    const before = (await pushCounts(server)).failed ?? 0;
    await a.sendMessage("redirected");
    await service.waitFor(redirecting.json.endpoint);
    await pushCountReaches(server, "failed", before + 1);
    expect(service.requests.filter((r) => r.path === "/elsewhere")).toEqual([]);
    a.close();
    b.close();
  });

  test("a subscription ends with its session: after logout it gets nothing and is deleted", async () => {
    const { jwtB, a, b } = await twoBrowsers();
    const sub = await subscribed(server, service, jwtB);
    const logout = await fetch(`${server.url}/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${jwtB}` } });
    expect(logout.status).toBe(200);
    const before = (await pushCounts(server)).ended ?? 0;
    await a.sendMessage("after B logged out");
    await pushCountReaches(server, "ended", before + 1);
    expect(service.to(sub.json.endpoint)).toEqual([]);
    a.close();
    b.close();
  });

  test("a push service that never answers delays no ack and no delivery", async () => {
    const { jwtB, a, b } = await twoBrowsers();
    // More hanging subscriptions than pushes in flight at once (8): every sender slot hangs.
    const hanging: Awaited<ReturnType<typeof subscribed>>[] = [];
    for (let i = 0; i < 10; i++) hanging.push(await subscribed(server, service, jwtB, "hang"));
    const pushesPerEndpoint = () => hanging.map((h) => service.to(h.json.endpoint).length).sort();
    await a.sendMessage("first");
    // Which 8 of the 10 go first is the sender's choice (subscriptions made in one
    // millisecond have no order between them), so wait for any 8.
    await until(() => pushesPerEndpoint().filter((n) => n > 0).length >= 8, "8 hanging pushes");
    // Every slot is now held by a push that has not been answered; messages still flow.
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push(await a.sendMessage(`while hanging ${i}`));
    const delivered = await b.waitForMessages(6);
    expect(delivered.map((m) => m.seq)).toEqual([acks[0].seq - 1, ...acks.map((x) => x.seq)]);
    expect(pushesPerEndpoint()).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
    a.close();
    b.close();
  });
});

describe("the endpoint is checked again when pushing", () => {
  test("an endpoint whose origin is no longer allowed gets nothing (counted as refused); the others still do", async () => {
    const other = new FakePushService();
    try {
      server.env.PUSH_ENDPOINT_ALLOW = `${service.origin},${other.origin}`;
      await server.restart();
      const { jwtA, jwtB } = await twoBrowsers();
      const dropped = await subscribed(server, service, jwtB);
      const refused = browserSubscription(other.endpoint());
      expect((await register(server, jwtB, refused.json)).status).toBe(201);
      server.env.PUSH_ENDPOINT_ALLOW = service.origin;
      await server.restart();
      const a = await WsClient.connect(server.wsUrl, { jwt: jwtA });
      await a.sendMessage("after the allow-list changed");
      await service.waitFor(dropped.json.endpoint);
      await pushCountReaches(server, "refused", 1);
      expect(other.requests).toEqual([]);
      a.close();
    } finally {
      other.stop();
    }
  });
});
