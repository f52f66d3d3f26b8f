/**
 * Presence across instances: a hash per channel, connection id → {instance, display
 * name, connected_at}. Each instance renews a key with a TTL (its heartbeat); when one's
 * key is gone, one survivor (the first to claim it) removes that instance's connections
 * and reports them, so the protocol can announce `user_left`.
 */
import type { ConnectionInfo } from "../../protocol";
import type { Member } from "../engine";
import { log } from "../../log";
import type { Keyspace } from "./keys";
import type { Link } from "./redis-link";
import { HEARTBEAT, JOIN, LEAVE, REAP_CHANNEL, RENAME } from "./scripts";

export const HEARTBEAT_MS = 5_000;
/** A heartbeat older than this marks the instance dead; reaping follows within HEARTBEAT_MS. */
export const ALIVE_TTL_MS = 15_000;
const REAP_CLAIM_MS = 30_000;

export interface Forgotten {
  channel: string;
  connectionId: string;
  remaining: number;
}

interface Entry {
  i: string;
  n: string | null;
  t: number;
}

export class RedisPresence {
  constructor(private link: Link, private keys: Keyspace, readonly instance: string) {}

  /**
   * Adds the member; returns every connection of its channel, by connected_at. The
   * instance's set of channels (another slot) is written first, so a survivor that reaps
   * this instance finds every channel it has entries in. Both commands are sent at once:
   * the set's SADD and SREM (from `leave`) reach its node in the order they are called.
   */
  async join(member: Member): Promise<ConnectionInfo[]> {
    const keys = this.keys;
    const [, flat] = await Promise.all([
      this.link.run("SADD", [keys.instanceChannels(this.instance), member.channel]),
      this.link.script<string[]>(JOIN, [this.keys.presence(member.channel)], [member.connectionId, this.entry(member, member.displayName)]),
    ]);
    return connectionsFrom(flat);
  }

  /** Removes the member; `lastHere` when no other member of its channel is on this instance. */
  async leave(member: Member, lastHere: boolean): Promise<number> {
    const keys = this.keys;
    const [remaining] = await Promise.all([
      this.link.script<number>(LEAVE, [this.keys.presence(member.channel)], [member.connectionId]),
      lastHere ? this.link.run("SREM", [keys.instanceChannels(this.instance), member.channel]) : null,
    ]);
    return remaining;
  }

  async rename(member: Member, displayName: string | null): Promise<void> {
    await this.link.script(RENAME, [this.keys.presence(member.channel)], [member.connectionId, this.entry(member, displayName)]);
  }

  async connectionIds(channel: string): Promise<string[]> {
    return this.link.run<string[]>("HKEYS", [this.keys.presence(channel)]);
  }

  /** Renews this instance's key; returns whether it had to be re-added (it was reaped) and the epoch. */
  async heartbeat(epochCandidate: string): Promise<{ readded: boolean; epoch: string }> {
    const [added, epoch] = await this.link.script<[number, string]>(HEARTBEAT, [this.keys.alive(this.instance), this.keys.instances, this.keys.epoch], [
      this.instance,
      String(ALIVE_TTL_MS),
      epochCandidate,
    ]);
    return { readded: added === 1, epoch };
  }

  /**
   * Makes Redis agree with this instance's members after an outage: its old entries go
   * (those whose members closed meanwhile are returned as forgotten), the live ones return.
   */
  async reconcile(localSockets: () => Member[]): Promise<Forgotten[]> {
    const removed = await this.removeInstance(this.instance);
    const members = localSockets();
    await Promise.all(members.map((member) => this.join(member)));
    const here = new Set(members.map((s) => s.connectionId));
    return removed.filter((f) => !here.has(f.connectionId));
  }

  /** Forgets the connections of every instance whose heartbeat is gone. */
  async reapDead(): Promise<Forgotten[]> {
    const ids = (await this.link.run<string[]>("SMEMBERS", [this.keys.instances])).filter((id) => id !== this.instance);
    const alive = await Promise.all(ids.map((id) => this.link.run<number | boolean>("EXISTS", [this.keys.alive(id)])));
    const forgotten: Forgotten[] = [];
    for (let i = 0; i < ids.length; i++) {
      if (alive[i]) continue;
      const claimed = await this.link.run("SET", [this.keys.reaping(ids[i]), this.instance, "NX", "PX", String(REAP_CLAIM_MS)]);
      if (claimed !== "OK") continue;
      const removed = await this.removeInstance(ids[i]);
      forgotten.push(...removed);
      await this.link.run("SREM", [this.keys.instances, ids[i]]);
      log.info(`redis: cleaned up after instance ${ids[i]} (no heartbeat): forgot ${removed.length} connection${removed.length === 1 ? "" : "s"}`);
    }
    return forgotten;
  }

  /** Leaves cleanly: this instance's entries and keys go. */
  async close(): Promise<void> {
    await this.removeInstance(this.instance);
    await this.link.run("SREM", [this.keys.instances, this.instance]);
    await this.link.run("DEL", [this.keys.alive(this.instance)]);
  }

  private async removeInstance(instance: string): Promise<Forgotten[]> {
    const channels = await this.link.run<string[]>("SMEMBERS", [this.keys.instanceChannels(instance)]);
    const forgotten: Forgotten[] = [];
    for (const channel of channels) {
      const [remaining, ...removed] = await this.link.script<[number, ...string[]]>(REAP_CHANNEL, [this.keys.presence(channel)], [instance]);
      // Announced one by one, so the counts step down to what is left.
      removed.forEach((connectionId, i) => forgotten.push({ channel, connectionId, remaining: remaining + removed.length - 1 - i }));
    }
    await this.link.run("DEL", [this.keys.instanceChannels(instance)]);
    return forgotten;
  }

  private entry(member: Member, displayName: string | null): string {
    const entry: Entry = { i: this.instance, n: displayName, t: member.connectedAt };
    return JSON.stringify(entry);
  }
}

/** HGETALL's flat [field, value, ...] as connection entries, ordered by connected_at. */
function connectionsFrom(flat: string[]): ConnectionInfo[] {
  const entries: Array<{ id: string; entry: Entry }> = [];
  for (let i = 0; i < flat.length; i += 2) {
    try {
      entries.push({ id: flat[i], entry: JSON.parse(flat[i + 1]) as Entry });
    } catch {}
  }
  entries.sort((a, b) => a.entry.t - b.entry.t || (a.id < b.id ? -1 : 1));
  return entries.map(({ id, entry }) => ({ connection_id: id, display_name: entry.n, connected_at: new Date(entry.t).toISOString() }));
}
