/**
 * Web Push subscriptions in Redis: one hash per user (endpoint → record JSON), in the
 * slot of the user's channel, so the limit check and the write are one script on a
 * Redis Cluster too.
 */
import { channelOf } from "../../protocol";
import type { PushStore, PushSubscriptionRecord } from "../push-store";
import type { Keyspace } from "./keys";
import type { Link } from "./redis-link";
import { SAVE_PUSH } from "./scripts";

export class RedisPushStore implements PushStore {
  constructor(private link: Link, private keys: Keyspace) {}

  async savePushSubscription(email: string, record: PushSubscriptionRecord, max: number): Promise<boolean> {
    const key = this.keys.push(channelOf(email));
    return Number(await this.link.script(SAVE_PUSH, [key], [record.endpoint, JSON.stringify(record), String(max)])) === 1;
  }

  async pushSubscriptions(email: string): Promise<PushSubscriptionRecord[]> {
    const values = await this.link.run<string[]>("HVALS", [this.keys.push(channelOf(email))]);
    const records = values.map((value) => JSON.parse(value) as PushSubscriptionRecord);
    return records.sort((a, b) => a.createdAt - b.createdAt || (a.endpoint < b.endpoint ? -1 : 1));
  }

  async deletePushSubscription(email: string, endpoint: string): Promise<boolean> {
    return Number(await this.link.run("HDEL", [this.keys.push(channelOf(email)), endpoint])) > 0;
  }
}
