/**
 * The members of each channel on this instance: who is present here (the embedded
 * engine's whole presence), and which channels the Redis engine must follow. Listeners
 * (Member.listener) count for following a channel, never for presence.
 */
import type { Member } from "./engine";

export class LocalMembers {
  private channels = new Map<string, Map<string, Member>>();
  private listeners = new Map<string, number>();

  add(member: Member): void {
    let members = this.channels.get(member.channel);
    if (!members) this.channels.set(member.channel, (members = new Map()));
    members.set(member.connectionId, member);
    if (member.listener) this.listeners.set(member.channel, (this.listeners.get(member.channel) ?? 0) + 1);
  }

  /** Returns false when the member was not (or no longer) here. */
  remove(member: Member): boolean {
    const members = this.channels.get(member.channel);
    if (!members?.delete(member.connectionId)) return false;
    if (members.size === 0) this.channels.delete(member.channel);
    if (member.listener) {
      const left = (this.listeners.get(member.channel) ?? 1) - 1;
      if (left > 0) this.listeners.set(member.channel, left);
      else this.listeners.delete(member.channel);
    }
    return true;
  }

  /** The channel's present members (listeners left out). */
  of(channel: string): Iterable<Member> {
    const members = this.channels.get(channel);
    if (!members) return [];
    return this.listeners.has(channel) ? [...members.values()].filter((m) => !m.listener) : members.values();
  }

  /** The channel's present members here (listeners left out). */
  count(channel: string): number {
    return (this.channels.get(channel)?.size ?? 0) - (this.listeners.get(channel) ?? 0);
  }

  /** Whether anything here (a member or a listener) follows the channel. */
  has(channel: string): boolean {
    return this.channels.has(channel);
  }

  channelNames(): Iterable<string> {
    return this.channels.keys();
  }
}
