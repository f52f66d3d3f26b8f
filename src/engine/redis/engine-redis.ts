/**
 * The engine for several instances: messages, presence and sessions in Redis, delivery
 * through Redis pub/sub to every instance, each of which hands its channels' messages to
 * the server (EngineEvents.deliver). Exactly-once ordered delivery and exact join
 * boundaries are ChannelFeeds'; presence and the death of instances are RedisPresence's.
 *
 * Over 250 lines: it implements each method of the Engine interface, most in a few lines;
 * the algorithms live in the files above.
 */
import {
  EngineUnavailable,
  type AppendResult,
  type ControlEvent,
  type Engine,
  type EngineEvents,
  type JoinRequest,
  type Joined,
  type Member,
  type NewMessage,
} from "../engine";
import { LocalMembers } from "../members";
import { REPLAY_LIMIT, replayResets } from "../replay";
import { describeError, log } from "../../log";
import { ChannelFeeds } from "./channel-feeds";
import { ClusterLink } from "./cluster-link";
import { keyspace, type Keyspace } from "./keys";
import { RedisMessageLog } from "./message-log-redis";
import { ALIVE_TTL_MS, HEARTBEAT_MS, RedisPresence, type Forgotten } from "./presence-redis";
import { isClusterUrl, RedisLink, type Link, type LinkOptions } from "./redis-link";
import * as scripts from "./scripts";

const LEAVE_WAIT_ON_CLOSE_MS = 1_000;

export class RedisEngine implements Engine {
  readonly link: Link;
  readonly keys: Keyspace;
  private log: RedisMessageLog;
  private members = new LocalMembers();
  private feeds: ChannelFeeds;
  private presence: RedisPresence;
  private epoch: string | null = null;
  private upSince = 0;
  private registered = false;
  /** Members between join() and their presence entry being written. */
  private unregistered = new Map<string, Member>();
  private joining = new Map<string, { member: Member; done: Promise<unknown> }>();
  private leaving = new Set<Promise<unknown>>();
  private appending = 0;
  private appendsSettled: Array<() => void> = [];
  private heartbeat: Timer;
  private draining = false;
  private closed = false;

  constructor(url: string, private events: EngineEvents, readonly instance = crypto.randomUUID()) {
    const cluster = isClusterUrl(url);
    const keys = (this.keys = keyspace(cluster));
    const options: LinkOptions = {
      url,
      scripts: Object.values(scripts),
      listener: (message, channel) => this.received(message, channel),
      onConnected: () => this.connected(),
      onDown: () => {},
      onResync: (names) => names.forEach((name) => this.feeds.resync(keys.channelOfFeed(name) ?? "")),
      sharded: (channel) => channel !== keys.control,
    };
    this.link = cluster ? new ClusterLink(options) : new RedisLink(options);
    this.log = new RedisMessageLog(this.link, keys);
    this.presence = new RedisPresence(this.link, keys, instance);
    this.feeds = new ChannelFeeds(this.log, {
      subscribe: (channel) => this.link.subscribe(keys.feed(channel)),
      unsubscribe: (channel) => this.link.unsubscribe(keys.feed(channel)),
      deliver: (channel, json) => this.events.deliver(channel, `{"type":"message","data":${json}}`),
      hasLocalSockets: (channel) => this.members.has(channel),
      rewound: (channel) => void this.rewound(channel),
    });
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async start(): Promise<void> {
    this.link.want(this.keys.control);
    await this.link.start();
  }

  /** Runs on every (re)connection, before the link counts as up. */
  private async connected() {
    const { readded, epoch } = await this.presence.heartbeat(crypto.randomUUID());
    this.noteEpoch(epoch);
    if (this.registered && readded) log.warn("redis: this instance had been declared dead; registering its connections again");
    if (this.registered) this.forget(await this.presence.reconcile(() => this.localMembers()));
    this.registered = true;
    this.upSince = Date.now();
    this.feeds.resyncAll();
  }

  private async beat() {
    if (!this.link.up || this.closed) return;
    try {
      const { readded, epoch } = await this.presence.heartbeat(crypto.randomUUID());
      this.noteEpoch(epoch);
      if (readded) this.forget(await this.presence.reconcile(() => this.localMembers()));
      // Right after an outage every heartbeat may have lapsed: let the others renew theirs first.
      if (Date.now() - this.upSince >= ALIVE_TTL_MS) this.forget(await this.presence.reapDead());
    } catch (error) {
      if (!(error instanceof EngineUnavailable)) log.warn(`redis heartbeat failed: ${describeError(error)}`);
    }
  }

  /** Returns true when the epoch changed (every local channel was then told to resume). */
  private noteEpoch(epoch: string): boolean {
    const changed = this.epoch !== null && epoch !== this.epoch;
    if (changed) {
      log.warn("redis: the dataset's epoch changed (Redis was flushed or replaced); channels start again from seq 1");
      this.feeds.reset();
      // Their clients hold seqs of the old dataset: they resume, and the new epoch resets them.
      for (const channel of this.members.channelNames()) this.events.control({ kind: "channel_rewound", channel });
    }
    this.epoch = epoch;
    return changed;
  }

  /**
   * The channel's store went back (an append got a seq this instance had delivered). A
   * flushed Redis looks the same, so the epoch is read first (the append script no longer
   * touches it: it lives in another slot): a new epoch tells every channel at once; else
   * only this channel's connections resume.
   */
  private async rewound(channel: string) {
    try {
      const { epoch } = await this.presence.heartbeat(crypto.randomUUID());
      if (this.noteEpoch(epoch)) return;
    } catch {}
    this.events.control({ kind: "channel_rewound", channel });
  }

  private forget(forgotten: Forgotten[]) {
    for (const { channel, connectionId, remaining } of forgotten) this.events.forgotten(channel, connectionId, remaining);
  }

  private localMembers(): Member[] {
    const members = [...this.joining.values()].map((j) => j.member).filter((member) => !member.listener);
    for (const channel of this.members.channelNames()) members.push(...this.members.of(channel));
    return members;
  }

  private received(message: string, channel: string) {
    if (channel === this.keys.control) return this.receivedControl(message);
    const userChannel = this.keys.channelOfFeed(channel);
    if (userChannel === null) return;
    const space = message.indexOf(" ");
    if (message[0] === "m") {
      this.feeds.offer(userChannel, Number(message.slice(1, space)), message.slice(space + 1));
    } else if (message[0] === "e") {
      const second = message.indexOf(" ", space + 1);
      if (message.slice(1, space) === this.instance) return; // sent here already
      this.events.presence(userChannel, message.slice(second + 1), message.slice(space + 1, second));
    }
  }

  private receivedControl(message: string) {
    try {
      const { origin, event } = JSON.parse(message) as { origin: string; event: ControlEvent };
      if (origin === this.instance) return;
      this.events.control(event);
    } catch (error) {
      log.warn(`redis: bad control event: ${describeError(error)}`);
    }
  }

  append(message: NewMessage, onStored: (result: AppendResult | EngineUnavailable) => void): void {
    if (this.draining || !this.healthy())
      return onStored(new EngineUnavailable(this.draining ? "The server is shutting down." : undefined));
    const token = this.feeds.appendStarted(message.channel);
    this.appending++;
    this.log
      .append(message, Date.now())
      .then(
        (stored) => {
          safely(() => onStored({ message: stored.message, duplicate: stored.duplicate }));
          this.feeds.appendFinished(token, stored.duplicate ? null : { seq: stored.message.seq, json: stored.json });
        },
        (error) => {
          if (!(error instanceof EngineUnavailable)) log.error(`storing a message failed: ${describeError(error)}`);
          safely(() => onStored(new EngineUnavailable()));
          this.feeds.appendFinished(token, null);
        },
      )
      .finally(() => {
        if (--this.appending === 0) for (const wake of this.appendsSettled.splice(0)) wake();
      });
  }

  async history(channel: string, before: number | null, limit: number) {
    if (!this.healthy()) throw new EngineUnavailable();
    return this.log.history(channel, before, limit);
  }

  async join(member: Member, request: JoinRequest, onJoined: (joined: Joined) => void) {
    if (!this.healthy()) throw new EngineUnavailable();
    if (!member.listener) this.unregistered.set(member.connectionId, member);
    const done = this.feeds.exclusive(member.channel, async (delivered) => {
      const [connections, replay] = await Promise.all([
        member.listener ? [] : this.presence.join(member),
        this.replay(member.channel, request, delivered),
      ]);
      // Synchronously from here: the member hears everything after `delivered`, live.
      this.members.add(member);
      onJoined({ epoch: this.epoch!, connections, replay });
    });
    this.joining.set(member.connectionId, { member, done });
    try {
      await done;
    } finally {
      this.joining.delete(member.connectionId);
      this.unregistered.delete(member.connectionId);
    }
  }

  private async replay(channel: string, request: JoinRequest, delivered: number): Promise<Joined["replay"]> {
    if (request.since === null) return null;
    // This instance may not have delivered yet what another one already has: only the
    // stored tip tells whether a `since` past `delivered` is from the future.
    const tip = request.since > delivered ? await this.log.lastSeq(channel) : delivered;
    const reset = replayResets(request, this.epoch!, tip);
    const page = await this.log.since(channel, reset ? 0 : request.since, delivered, REPLAY_LIMIT);
    return { messages: page.messages, complete: page.complete, reset };
  }

  async leave(member: Member) {
    const leaving = this.leaveNow(member);
    this.leaving.add(leaving);
    try {
      return await leaving;
    } finally {
      this.leaving.delete(leaving);
    }
  }

  private async leaveNow(member: Member) {
    await this.joining.get(member.connectionId)?.done.catch(() => {});
    this.members.remove(member);
    const lastHere = !this.members.has(member.channel);
    if (lastHere) this.feeds.release(member.channel);
    if (this.closed || member.listener) return 0;
    return this.presence.leave(member, lastHere);
  }

  async setDisplayName(member: Member, displayName: string | null) {
    await this.presence.rename(member, displayName);
    member.displayName = displayName;
  }

  /** Redis's entries plus this instance's members whose entry may not be written yet. */
  async connectionCount(channel: string) {
    const ids = new Set(await this.presence.connectionIds(channel));
    for (const member of this.unregistered.values()) if (member.channel === channel) ids.add(member.connectionId);
    return ids.size;
  }

  broadcastEvent(channel: string, frame: string, exceptConnectionId: string): void {
    this.events.presence(channel, frame, exceptConnectionId);
    this.link.run(this.keys.publish, [this.keys.feed(channel), `e${this.instance} ${exceptConnectionId} ${frame}`]).catch(() => {});
  }

  async control(event: ControlEvent) {
    this.events.control(event);
    await this.link.run("PUBLISH", [this.keys.control, JSON.stringify({ origin: this.instance, event })]);
  }

  healthy(): boolean {
    return !this.closed && this.link.up && this.epoch !== null;
  }

  async drain() {
    this.draining = true;
    if (this.appending > 0) await new Promise<void>((wake) => this.appendsSettled.push(wake));
  }

  async close() {
    await this.drain();
    await Promise.race([Promise.allSettled([...this.leaving]), Bun.sleep(LEAVE_WAIT_ON_CLOSE_MS)]);
    this.closed = true;
    clearInterval(this.heartbeat);
    this.feeds.close();
    if (this.link.up) await this.presence.close().catch((error) => log.warn(`redis: leaving presence failed: ${describeError(error)}`));
    await this.link.close();
  }
}

function safely(callback: () => void) {
  try {
    callback();
  } catch (error) {
    log.error(`delivering an ack failed: ${describeError(error)}`);
  }
}
