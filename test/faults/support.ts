/**
 * A resilient sender for the fault tests: it sends messages with `client_msg_id`, keeps
 * the unacknowledged ones, and after any drop reconnects with `since` and resends them,
 * as PROTOCOL.md asks of every client. It records every ack, every replayed or live
 * `message` frame and every close code, so a test can check nothing acked was lost.
 */
import { expect } from "bun:test";
import { expectSeqRun } from "../helpers/seq";
import type { TestServer } from "../helpers/server";
import { until } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";

export interface Acked {
  id: string;
  seq: number;
  duplicate: boolean;
}

export class ResilientSender {
  /** client_msg_id → content, not yet acknowledged (resent after each reconnect). */
  readonly unacked = new Map<string, string>();
  /** client_msg_id → the ack's first non-error answer (id, seq). */
  readonly acked = new Map<string, Acked>();
  /** Every seq this connection has seen in replays and live frames. */
  readonly seen = new Set<number>();
  readonly closeCodes: number[] = [];
  readonly unavailable: string[] = [];
  lastSeq = 0;
  connects = 0;
  /** Sends of an id that had already been sent on an earlier connection (in flight at a drop). */
  resent = 0;
  /** Acks with duplicate: true (stored before the drop, ack lost with it). */
  duplicates = 0;
  private sentOn = new Map<string, number>();
  /** The store's epoch from `authenticated`, sent back on reconnects like a real client. */
  epoch: string | undefined;
  /** Replays that came with reset: true (the store would have been replaced: must not happen here). */
  resets = 0;
  readonly epochs = new Set<string>();
  ws: WsClient | null = null;
  private counter = 0;
  private stopped = false;
  private quota = 0;
  private loop: Promise<void> | null = null;

  constructor(
    readonly server: TestServer,
    readonly jwt: string,
    readonly name: string,
    private batch = 6,
  ) {}

  /** Allows `n` more new messages (the sender keeps resending unacked ones regardless). */
  allow(n: number) {
    this.quota += n;
  }

  get newLeft() {
    return this.quota;
  }

  start() {
    this.loop = this.run();
  }

  async stop() {
    this.stopped = true;
    this.ws?.close();
    await this.loop;
  }

  private record(frames: any[]) {
    for (const f of frames) {
      if (f.type === "message") this.see(f.data.seq);
      if (f.type === "history" && f.ref === undefined) for (const m of f.data.messages) this.see(m.seq);
    }
  }

  private see(seq: number) {
    this.seen.add(seq);
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  private async run() {
    while (!this.stopped) {
      let ws: WsClient;
      try {
        ws = await WsClient.connect(this.server.wsUrl, { jwt: this.jwt, since: this.lastSeq, epoch: this.epoch, timeoutMs: 3000 });
      } catch {
        await Bun.sleep(30);
        continue;
      }
      this.ws = ws;
      this.connects++;
      this.epoch = ws.authenticated.data.epoch;
      this.epochs.add(this.epoch!);
      if (ws.replay?.data.reset) this.resets++;
      let recorded = 0;
      const sync = () => {
        this.record(ws.frames.slice(recorded));
        recorded = ws.frames.length;
      };
      sync();
      try {
        while (!this.stopped && ws.isOpen) {
          const ids = [...this.unacked.keys()].slice(0, this.batch);
          while (ids.length < this.batch && this.quota > 0) {
            const id = `${this.name}-${++this.counter}`;
            this.unacked.set(id, `${this.name} message ${this.counter} ${"·".repeat(this.counter % 7)}`);
            this.quota--;
            ids.push(id);
          }
          if (ids.length === 0) {
            await Bun.sleep(15);
            sync();
            continue;
          }
          await Promise.allSettled(
            ids.map(async (id) => {
              const before = this.sentOn.get(id);
              if (before !== undefined && before !== this.connects) this.resent++;
              this.sentOn.set(id, this.connects);
              const reply = await ws.request("message", { content: this.unacked.get(id), client_msg_id: id }, { timeoutMs: 5000 });
              if (reply.type === "ack") {
                if (reply.data.duplicate) this.duplicates++;
                if (!this.acked.has(id)) this.acked.set(id, reply.data);
                else expect({ id, ack: reply.data }).toEqual({ id, ack: { ...this.acked.get(id)!, duplicate: true } });
                this.unacked.delete(id);
              } else if (reply.data?.code === "unavailable") this.unavailable.push(id);
              else throw new Error(`${this.name}: unexpected reply ${JSON.stringify(reply)}`);
            }),
          );
          sync();
        }
      } catch {}
      await Promise.race([ws.closed, Bun.sleep(2000)]);
      sync();
      if (ws.closeInfo) this.closeCodes.push(ws.closeInfo.code);
    }
  }

  /** Waits until nothing is left to send, every allowed message acked. */
  async flushed(timeoutMs = 15000) {
    await until(() => this.unacked.size === 0 && this.quota <= 0, () => `${this.name} to flush (${this.unacked.size} unacked, ${this.quota} unsent)`, timeoutMs);
  }

  /** Waits until this connection has seen every seq up to `last`. */
  async seenUpTo(last: number, timeoutMs = 10000) {
    const seen = () => {
      if (this.ws) this.record(this.ws.frames.filter((f) => f.type === "message" || (f.type === "history" && f.ref === undefined)));
      return this.lastSeq >= last;
    };
    await until(seen, () => `${this.name} to see seq ${last} (saw up to ${this.lastSeq})`, timeoutMs);
  }
}

/** Reads a channel's whole history by paging back with `history` requests (limit 200). */
export async function fullHistory(server: TestServer, jwt: string): Promise<any[]> {
  const ws = await WsClient.connect(server.wsUrl, { jwt });
  const pages: any[][] = [];
  let before: number | undefined;
  for (;;) {
    const reply = await ws.request("history", before === undefined ? { limit: 200 } : { before, limit: 200 });
    expect(reply.type).toBe("ack");
    const { messages, has_more } = reply.data;
    pages.unshift(messages);
    if (!has_more || messages.length === 0) break;
    before = messages[0].seq;
  }
  await ws.closeAndWait();
  return pages.flat();
}

/**
 * The invariants after faults, for one user's channel: seq 1..N gapless and ascending,
 * every acknowledged client_msg_id stored exactly once with the acked id and seq, and
 * nothing stored that no sender sent.
 */
export function checkChannel(history: any[], senders: ResilientSender[]) {
  expectSeqRun(history.map((m) => m.seq), 1, history.length);
  const byClientId = new Map<string, any[]>();
  for (const m of history) byClientId.set(m.client_msg_id, [...(byClientId.get(m.client_msg_id) ?? []), m]);
  const duplicated = [...byClientId].filter(([, ms]) => ms.length > 1).map(([id]) => id);
  expect(duplicated).toEqual([]);
  const lost: string[] = [];
  const mismatched: string[] = [];
  let acked = 0;
  for (const sender of senders)
    for (const [id, ack] of sender.acked) {
      acked++;
      const stored = byClientId.get(id)?.[0];
      if (!stored) lost.push(id);
      else if (stored.id !== ack.id || stored.seq !== ack.seq) mismatched.push(`${id}: acked ${ack.seq}/${ack.id}, stored ${stored.seq}/${stored.id}`);
    }
  expect(lost).toEqual([]);
  expect(mismatched).toEqual([]);
  const known = new Set(senders.flatMap((s) => [...s.acked.keys(), ...s.unacked.keys()]));
  expect(history.filter((m) => !known.has(m.client_msg_id)).map((m) => m.client_msg_id)).toEqual([]);
  return acked;
}
