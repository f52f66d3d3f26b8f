/**
 * The default engine: messages in SQLite, presence in this process. Everything runs on
 * one thread, so a join reads its replay and starts its stream in one synchronous step:
 * no live message can fall between the two.
 */
import type { Database } from "bun:sqlite";
import { messageFrame } from "../../protocol";
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
import { storeEpoch } from "./database";
import { SqliteMessageLog } from "./message-log-sqlite";
import { REPLAY_LIMIT, connectionsOf, replayResets } from "../replay";
import { describeError, log } from "../../log";

interface PendingAppend {
  message: NewMessage;
  onStored: (result: AppendResult | EngineUnavailable) => void;
}

export class EmbeddedEngine implements Engine {
  private log: SqliteMessageLog;
  private members = new LocalMembers();
  private epoch: string;
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;

  /** `walGrew` is told after every commit (the checkpointer's cue). */
  constructor(db: Database, private events: EngineEvents, private walGrew: () => void = () => {}) {
    this.log = new SqliteMessageLog(db);
    this.epoch = storeEpoch(db);
  }

  append(message: NewMessage, onStored: PendingAppend["onStored"]): void {
    if (this.closed) return onStored(new EngineUnavailable("The server is shutting down."));
    this.pending.push({ message, onStored });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes the batch in one transaction, then acks and delivers each message in order. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let results: AppendResult[];
    try {
      results = this.log.appendBatch(batch.map((item) => item.message), Date.now());
    } catch (error) {
      log.error(`storing ${batch.length} message(s) failed: ${describeError(error)}`);
      for (const item of batch) item.onStored(new EngineUnavailable());
      return;
    }
    this.walGrew();
    for (let i = 0; i < batch.length; i++) this.acknowledgeAndDeliver(batch[i], results[i]);
  }

  private acknowledgeAndDeliver({ message, onStored }: PendingAppend, result: AppendResult): void {
    this.events.together(message.channel, message.connectionId, () => {
      onStored(result);
      if (!result.duplicate) this.events.deliver(message.channel, messageFrame(result.message), message.connectionId);
    });
  }

  async history(channel: string, before: number | null, limit: number) {
    return this.log.history(channel, before, limit);
  }

  async join(member: Member, request: JoinRequest, onJoined: (joined: Joined) => void) {
    let replay: Joined["replay"] = null;
    if (request.since !== null) {
      const reset = replayResets(request, this.epoch, this.log.tip(member.channel));
      const page = this.log.since(member.channel, reset ? 0 : request.since, REPLAY_LIMIT);
      replay = { messages: page.messages, complete: page.complete, reset };
    }
    this.members.add(member);
    onJoined({ epoch: this.epoch, connections: connectionsOf(this.members.of(member.channel)), replay });
  }

  async leave(member: Member) {
    this.members.remove(member);
    return this.members.count(member.channel);
  }

  async setDisplayName(member: Member, displayName: string | null) {
    member.displayName = displayName;
  }

  async connectionCount(channel: string) {
    return this.members.count(channel);
  }

  broadcastEvent(channel: string, frame: string, exceptConnectionId: string): void {
    this.events.presence(channel, frame, exceptConnectionId);
  }

  async control(event: ControlEvent) {
    this.events.control(event);
  }

  healthy(): boolean {
    // A failing disk is not "unreachable": reading history and joining still work, and
    // each message that can't be stored gets `unavailable` (docs/protocol.md).
    return !this.closed;
  }

  async drain() {
    this.closed = true;
    this.flush();
  }

  async close() {
    this.closed = true;
    this.flush();
    try {
      this.log.close();
    } catch (error) {
      // Not needed for correctness: the next start reads the tips back from the log.
      log.warn(`writing the channels' last seqs at close failed: ${describeError(error)}`);
    }
  }
}
