/**
 * The members of each channel on this instance: who is present here (the embedded
 * engine's whole presence), and which channels the Redis engine must follow.
 */
import type { Member } from "./engine";

export class LocalMembers {
  private channels = new Map<string, Map<string, Member>>();

  add(member: Member): void {
    let members = this.channels.get(member.channel);
    if (!members) this.channels.set(member.channel, (members = new Map()));
    members.set(member.connectionId, member);
  }

  /** Returns false when the member was not (or no longer) here. */
  remove(member: Member): boolean {
    const members = this.channels.get(member.channel);
    if (!members?.delete(member.connectionId)) return false;
    if (members.size === 0) this.channels.delete(member.channel);
    return true;
  }

  of(channel: string): Iterable<Member> {
    return this.channels.get(channel)?.values() ?? [];
  }

  count(channel: string): number {
    return this.channels.get(channel)?.size ?? 0;
  }

  has(channel: string): boolean {
    return this.channels.has(channel);
  }

  channelNames(): Iterable<string> {
    return this.channels.keys();
  }
}
