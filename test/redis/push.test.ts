/**
 * PROTOCOL.md section 4 and 8 with two instances on one Redis (and one VAPID pair, as
 * docs/deployment.md asks): a subscription registered through one instance gets each
 * message once, pushed by the instance that accepted it, wherever the message was sent.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { VAPID_PAIR } from "../helpers/bad-config";
import { FakePushService, verifyVapid } from "../helpers/fake-push-service";
import { signIn } from "../helpers/server";
import { WsClient } from "../helpers/ws-client";
import { pushCountReaches, pushCounts, subscribed } from "../push/support";
import { freshUser, quiet, startCluster, type Cluster } from "./support";

let cluster: Cluster;
let service: FakePushService;

beforeAll(async () => {
  service = new FakePushService();
  cluster = await startCluster(2, { PUSH_ENDPOINT_ALLOW: service.origin, VAPID_PUBLIC_KEY: VAPID_PAIR.publicKey, VAPID_PRIVATE_KEY: VAPID_PAIR.privateKey });
}, 30_000);

afterAll(async () => {
  for (const server of cluster?.servers ?? []) expect(quiet(server)).toBe(true);
  await cluster?.stop();
  service?.stop();
});

test("each message is pushed once, by the instance that accepted it", async () => {
  const [one, two] = cluster.servers;
  const email = freshUser();
  const [jwtA, jwtB] = [await signIn(one, email), await signIn(two, email)];
  const phone = await subscribed(two, service, jwtB);
  const onOne = await WsClient.connect(one.wsUrl, { jwt: jwtA });
  const onTwo = await WsClient.connect(two.wsUrl, { jwt: jwtA });
  const first = await onOne.sendMessage("through one");
  const second = await onTwo.sendMessage("through two");
  const pushed = await service.waitFor(phone.json.endpoint, 2);
  await onOne.sendMessage("a third, so any late duplicate of the first two would be here by now");
  await service.waitFor(phone.json.endpoint, 3);
  expect(service.to(phone.json.endpoint).map((r) => (phone.decrypt(r.body) as { seq: number }).seq).sort()).toEqual([first.seq, second.seq, first.seq + 2]);
  for (const request of pushed) await verifyVapid(request.headers.get("authorization"), VAPID_PAIR.publicKey, service.origin);
  // The fake service records a push as it arrives; the instance counts it once answered.
  await pushCountReaches(one, "sent", 2);
  await pushCountReaches(two, "sent", 1);
  expect([(await pushCounts(one)).sent, (await pushCounts(two)).sent]).toEqual([2, 1]);
  onOne.close();
  onTwo.close();
});

test("an instance that found the user without subscriptions pushes to one saved through the other instance, from the next message on", async () => {
  const [one, two] = cluster.servers;
  const email = freshUser();
  const [jwtA, jwtB] = [await signIn(one, email), await signIn(two, email)];
  const onOne = await WsClient.connect(one.wsUrl, { jwt: jwtA });
  // Instance one reads the user's subscriptions for this message, finds none, and remembers that.
  await onOne.sendMessage("before any subscription");
  await onOne.sendMessage("still none");
  const phone = await subscribed(two, service, jwtB);
  const after = await onOne.sendMessage("after the subscription");
  const [pushed] = await service.waitFor(phone.json.endpoint, 1);
  expect((phone.decrypt(pushed.body) as { seq: number }).seq).toBe(after.seq);
  onOne.close();
});
