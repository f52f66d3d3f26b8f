/**
 * Shared pieces of the Web Push tests (PROTOCOL.md section 8): a server whose
 * PUSH_ENDPOINT_ALLOW lists the fake push service, registering subscriptions as a browser
 * does, and the push counters of /metrics.
 */
import { metrics } from "../http/support";
import { FakePushService, browserSubscription } from "../helpers/fake-push-service";
import type { TestServer } from "../helpers/server";
import { testSuite } from "../helpers/suite";
import { until } from "../helpers/wait";

export const suite = testSuite("push", 40, "push-test-secret-key-that-is-long-enough-0123");

export type Subscription = ReturnType<typeof browserSubscription>;

export function register(server: TestServer, jwt: string, subscription: unknown, device = "Test device", headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}/api/push/subscriptions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${jwt}`, ...headers },
    body: JSON.stringify({ subscription, device }),
  });
}

export function unregister(server: TestServer, jwt: string, endpoint: string): Promise<Response> {
  return fetch(`${server.url}/api/push/subscriptions`, {
    method: "DELETE",
    headers: { "content-type": "application/json", authorization: `Bearer ${jwt}` },
    body: JSON.stringify({ endpoint }),
  });
}

/** A new subscription on `service` (answering as `mode`), registered with `jwt`. */
export async function subscribed(server: TestServer, service: FakePushService, jwt: string, mode: Parameters<FakePushService["endpoint"]>[0] = 201): Promise<Subscription> {
  const subscription = browserSubscription(service.endpoint(mode));
  const res = await register(server, jwt, subscription.json);
  if (res.status !== 201) throw new Error(`register ${res.status}: ${await res.text()}`);
  return subscription;
}

/** `roomz_push_total` by result. */
export async function pushCounts(server: TestServer): Promise<Record<string, number>> {
  const values = await metrics(server);
  const counts: Record<string, number> = {};
  for (const [name, value] of values) {
    const match = /^roomz_push_total\{result="(\w+)"\}$/.exec(name);
    if (match) counts[match[1]] = value;
  }
  return counts;
}

/** Waits until `roomz_push_total{result}` reaches `atLeast`. */
export function pushCountReaches(server: TestServer, result: string, atLeast: number): Promise<number> {
  return until(async () => {
    const n = (await pushCounts(server))[result] ?? 0;
    return n >= atLeast ? n : false;
  }, `roomz_push_total{result="${result}"} >= ${atLeast}`, { timeoutMs: 15_000, everyMs: 50 });
}
