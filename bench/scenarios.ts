/**
 * The bench scenarios S1–S6 (bench/README.md). Each starts its servers fresh, drives one
 * generator, and returns result records (one JSON line each in bench/results/<date>.jsonl).
 */
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Generator } from "./lib/driver";
import { benchEmail } from "./lib/jwt";
import { rssAfterGc, rssKiB, sumRss } from "./lib/procstat";
import { round2 } from "./lib/stats";
import { startTarget, note, type Target, type TargetName } from "./lib/targets";

export interface Ctx {
  quick: boolean;
  logDir: string;
  record: (r: object) => void;
}

const S1_USERS = 1000; // × 4 connections = 4,000 sockets
const SENDERS = 200;

/** Writes a failure's stack to the run's notes and says it in one line; the scenario reports nothing. */
export function reportFailure(ctx: Ctx, what: string, e: unknown, doing = "failed"): null {
  note(ctx.logDir, `${what}: ${(e as Error).stack ?? e}`);
  console.error(`  ${what} ${doing}: ${(e as Error).message ?? e}`);
  return null;
}

async function withTarget<T>(ctx: Ctx, name: TargetName, body: (t: Target, g: Generator) => Promise<T>): Promise<T | null> {
  let t: Target | null = null;
  let g: Generator | null = null;
  try {
    t = await startTarget(name, ctx.logDir);
    g = new Generator(t);
    await g.cmd("init", { kind: t.kind, urls: t.urls, secret: t.secret });
    return await body(t, g);
  } catch (e) {
    return reportFailure(ctx, name, e);
  } finally {
    await g?.close();
    await t?.stop();
  }
}

async function connect(g: Generator, users: number) {
  const r = await g.cmd("connect", { users, concurrency: 128 });
  if (r.failed) console.error(`  ${r.failed} connections failed`);
  return r;
}

const passes = (r: any, rate: number) =>
  r.lost === 0 && r.sendFailed === 0 && r.wrongUser === 0 && r.dup === 0 && Object.keys(r.errors).length === 0 &&
  r.latencyMs.p99 < 50 && r.achievedRate >= rate * 0.98;

/** One target's search for its highest passing rate: doubling, then bisection. */
class RateSearch {
  good = 0;
  bad = 0;
  rate = 1000;
  bisections = 0;
  done = false;
  steps: any[] = [];
  constructor(private maxBisections: number) {}
  record(rate: number, ok: boolean) {
    if (ok) this.good = Math.max(this.good, rate);
    else this.bad = this.bad ? Math.min(this.bad, rate) : rate;
    if (!this.bad) {
      this.rate = rate * 2;
      if (this.rate > 64000) this.done = true;
      return;
    }
    if (this.bisections >= this.maxBisections || this.bad - this.good <= 250) {
      this.done = true;
      return;
    }
    this.bisections++;
    this.rate = Math.round((this.good + this.bad) / 2 / 100) * 100;
  }
}

// S1: the highest offered rate with no loss and p99 < 50 ms, 4,000 sockets, 200 senders.
// All targets are up at once and their searches advance in turn, one step each, so that
// the load other sessions put on this machine falls alike on every target.
export async function s1All(ctx: Ctx, names: TargetName[]) {
  const ms = ctx.quick ? 2000 : 4000;
  const runs: Array<{ name: TargetName; t: Target; g: Generator; search: RateSearch; sockets: number }> = [];
  const results: any[] = [];
  try {
    for (const name of names) {
      try {
        const t = await startTarget(name, ctx.logDir);
        const g = new Generator(t);
        runs.push({ name, t, g, search: new RateSearch(ctx.quick ? 1 : 3), sockets: 0 });
        await g.cmd("init", { kind: t.kind, urls: t.urls, secret: t.secret });
        runs[runs.length - 1].sockets = (await connect(g, S1_USERS)).total;
      } catch (e) {
        reportFailure(ctx, name, e, "failed to start");
      }
    }
    const step = async (run: (typeof runs)[number], rate: number) => {
      const opts = { rate, ms, senders: SENDERS, drainMs: 2000 };
      let r = await run.g.measured("send", opts);
      // One stall of the VM (raw Bun and Roomz alike) fails a 4 s step on p99: a failed
      // step is measured once more, and fails only when both tries do.
      if (!passes(r, rate)) {
        console.log(`  ${run.name} ${rate} msg/s: failed (p99 ${r.latencyMs.p99} ms, lost ${r.lost}, ${r.otherCpuPct}% foreign CPU load); measuring again`);
        r = await run.g.measured("send", opts);
      }
      const ok = passes(r, rate);
      run.search.steps.push({ rate, ok, ...r });
      ctx.record({ scenario: "S1", target: run.name, kind: "step", rate, ok, ...r });
      console.log(`  ${run.name} ${rate} msg/s: ${ok ? "ok" : "FAIL"} p99=${r.latencyMs.p99}ms lost=${r.lost} achieved=${r.achievedRate} server=${r.serverCpuPct}% gen=${r.genCpuPct}% other=${r.otherCpuPct}%`);
      return ok;
    };
    for (;;) {
      const active = runs.filter((r) => !r.search.done);
      if (!active.length) break;
      for (const run of active) {
        const rate = run.search.rate;
        run.search.record(rate, await step(run, rate));
      }
    }
    for (const run of runs) {
      const { good, bad, steps } = run.search;
      const best = steps.filter((s) => s.ok && s.rate === good).pop();
      const fail = steps.filter((s) => s.rate === bad).pop();
      results.push({
        scenario: "S1", target: run.name, kind: "summary", sockets: run.sockets, maxRate: good, firstFailRate: bad || null,
        atMax: best ? { p50: best.latencyMs.p50, p99: best.latencyMs.p99, serverCpuPct: best.serverCpuPct, genCpuPct: best.genCpuPct, otherCpuPct: best.otherCpuPct } : null,
        failReason: fail ? failReason(fail) : null,
        generatorBound: !!fail && fail.genCpuPct >= 80, // its core is full: kernel network time comes on top
      });
    }
  } finally {
    for (const run of runs) {
      await run.g.close();
      await run.t.stop();
    }
  }
  return results;
}

function failReason(r: any): string {
  const why: string[] = [];
  if (r.lost) why.push(`lost ${r.lost}`);
  if (r.latencyMs.p99 >= 50) why.push(`p99 ${r.latencyMs.p99} ms`);
  if (r.achievedRate < r.rate * 0.98) why.push(`offered only ${r.achievedRate}/s`);
  if (Object.keys(r.errors).length) why.push(`errors ${JSON.stringify(r.errors)}`);
  if (r.sendFailed) why.push(`send failed ${r.sendFailed}`);
  why.push(`gen ${r.genCpuPct}% (backlog ${r.maxBacklogMs} ms), server ${r.serverCpuPct}%, foreign ${r.otherCpuPct}%`);
  return why.join(", ");
}

// S2: RSS with 10,000 then 19,900 idle authenticated sockets.
export async function s2(ctx: Ctx, name: TargetName) {
  return withTarget(ctx, name, async (t, g) => {
    // RSS as it is after settling, then after a full GC in the server (SIGUSR2, the same
    // for every target): the second leaves out the connect burst's garbage, which
    // otherwise makes one target's number depend on when its collector last ran.
    const settle = async () => {
      await Bun.sleep(ctx.quick ? 1500 : 3000);
      const asIs = sumRss(t.pids());
      return { asIs, afterGc: await rssAfterGc(t.pids(), 1500) };
    };
    const rss0 = await settle();
    const c1 = await connect(g, 2500);
    const rss1 = await settle();
    const c2 = await connect(g, 4975);
    const rss2 = await settle();
    const added = Math.max(1, c2.total - c1.total);
    const r = {
      scenario: "S2", target: name, kind: "summary", rss0KiB: rss0.asIs, rss10kKiB: rss1.asIs, rss19900KiB: rss2.asIs,
      rssAfterGcKiB: [rss0.afterGc, rss1.afterGc, rss2.afterGc],
      sockets1: c1.total, sockets2: c2.total, connectPerSec: c2.perSec,
      kbPerConnFirst10k: round2((rss1.asIs - rss0.asIs) / Math.max(1, c1.total)),
      kbPerAddedConn: round2((rss2.asIs - rss1.asIs) / added),
      kbPerAddedConnAfterGc: round2((rss2.afterGc - rss1.afterGc) / added),
      // Less sensitive to the allocator keeping what the first connect burst used.
      kbPerConnFromEmpty: round2((rss2.asIs - rss0.asIs) / Math.max(1, c2.total)),
    };
    console.log(`  ${name}: ${rss0.asIs} → ${rss1.asIs} → ${rss2.asIs} KiB (after GC ${r.rssAfterGcKiB.join(" → ")}); ${r.kbPerAddedConn} KB per added connection, ${r.kbPerAddedConnAfterGc} after GC (${c2.total} sockets)`);
    return r;
  });
}

// S3: latency at 500 msg/s with 4,000 sockets.
export async function s3(ctx: Ctx, name: TargetName) {
  return withTarget(ctx, name, async (t, g) => {
    await connect(g, S1_USERS);
    await g.cmd("send", { rate: 500, ms: 1000, senders: SENDERS, drainMs: 500 }); // warm-up
    const r = await g.measured("send", { rate: 500, ms: ctx.quick ? 5000 : 10000, senders: SENDERS, drainMs: 2000 });
    console.log(`  ${name}: p50=${r.latencyMs.p50} p99=${r.latencyMs.p99} p99.9=${r.latencyMs.p999} max=${r.latencyMs.max} ms, lost=${r.lost}, other load ${r.otherCpuPct}%`);
    ctx.record({ scenario: "S3", target: name, kind: "run", rate: 500, ...r });
    return { scenario: "S3", target: name, rate: 500, ...r };
  });
}

// S4: server CPU per delivery at a fixed 16,000 msg/s (or the highest the generator offers);
// a target that can't carry that (the Redis pairs) is given its S1 maximum instead.
export async function s4(ctx: Ctx, name: TargetName, rate = 16000) {
  return withTarget(ctx, name, async (t, g) => {
    await connect(g, S1_USERS);
    await g.cmd("send", { rate: 2000, ms: 1000, senders: SENDERS, drainMs: 1000 }); // warm-up
    const r = await g.measured("send", { rate, ms: ctx.quick ? 4000 : 8000, senders: SENDERS, drainMs: 3000 });
    const usPerDelivery = round2(r.serverCpuUs / Math.max(1, r.delivered));
    console.log(`  ${name}: offered ${rate}, achieved ${r.achievedRate} msg/s, ${r.delivered} deliveries, ${usPerDelivery} µs CPU/delivery, server ${r.serverCpuPct}%, gen ${r.genCpuPct}%, lost ${r.lost}, other load ${r.otherCpuPct}%`);
    ctx.record({ scenario: "S4", target: name, kind: "run", offeredRate: rate, usPerDelivery, ...r });
    return { scenario: "S4", target: name, offeredRate: rate, usPerDelivery, ...r };
  });
}

// S5: 4,000 sockets reconnect with ?since= after SIGTERM and restart on the same data dir.
export async function s5(ctx: Ctx) {
  return withTarget(ctx, "roomz", async (t, g) => {
    await connect(g, S1_USERS);
    let restart: Promise<any> | null = null;
    g.onEvent((ev) => {
      if (ev.event === "restart_now") restart = t.restartInstance(0);
    });
    const r = await g.cmd("storm", { rate: 1000, senders: S1_USERS, preMs: 3000, postMs: 2000, drainMs: 3000, retryMs: 100, resumeTimeoutMs: 30000 });
    const times = await restart!;
    const res = {
      scenario: "S5", target: "roomz", kind: "summary", ...r, ...times,
      shutdownMs: times.exitedAt - times.signalAt,
      startMs: times.readyAt - times.spawnedAt,
      resumeFromSpawnMs: r.lastResumedAt ? r.lastResumedAt - times.spawnedAt : null,
      resumeFromReadyMs: r.lastResumedAt ? r.lastResumedAt - times.readyAt : null,
      // When the messages that never got an ack were sent, relative to the SIGTERM.
      unackedSentFromSignalMs: (r.unackedSentAt ?? []).map((x: number) => x - times.signalAt),
      firstCloseFromSignalMs: r.firstCloseAt - times.signalAt,
      allClosedFromSignalMs: r.allClosedAt ? r.allClosedAt - times.signalAt : null,
    };
    console.log(`  roomz: ${r.resumedCount}/${r.conns} resumed, last ${res.resumeFromSpawnMs} ms after the new process started (${res.resumeFromReadyMs} ms after /healthz), lost ${r.lostSeqs}, dup ${r.dupSeqs}, shutdown ${res.shutdownMs} ms`);
    return res;
  });
}

// S6: history and since latency on one channel with 1,000,000 stored messages.
export async function s6(ctx: Ctx) {
  const total = 1_000_000;
  // Start once so the server creates and migrates its database, stop, seed, start again.
  const first = await startTarget("roomz", ctx.logDir);
  const dir = first.dataDirs[0];
  const secret = first.secret;
  await first.stop();
  const t0 = performance.now();
  const seeded = seed(dir, benchEmail(1), total);
  const seedMs = Math.round(performance.now() - t0);
  console.log(`  seeded ${seeded} messages in ${seedMs} ms`);
  let t: Target | null = null, g: Generator | null = null;
  try {
    t = await startTarget("roomz", ctx.logDir, { dataDir: dir, secret });
    g = new Generator(t);
    await g.cmd("init", { kind: t.kind, urls: t.urls, secret: t.secret });
    await connect(g, 1);
    const n = ctx.quick ? 300 : 1000;
    await g.cmd("history", { n: 50, limit: 50 }); // warm-up
    const newest = await g.measured("history", { n, limit: 50 });
    const random = await g.measured("history", { n, limit: 50, beforeMax: total });
    const max = await g.measured("history", { n: Math.round(n / 4), limit: 200, beforeMax: total });
    // As many as the history samples: with 200, p99 was the second-worst connect of the run.
    const sinceN = ctx.quick ? 60 : 1000;
    const sinceTail = await g.measured("since", { n: sinceN, since: [total - 10, total - 100, total - 500] });
    const sinceOld = await g.measured("since", { n: sinceN, since: [0, 1, Math.floor(total / 2)] });
    // The same fresh-connection timing against raw Bun, for what an upgrade costs without Roomz.
    const bunConnect = await withTarget(ctx, "bun", async (_bt, bg) => (await bg.cmd("since", { n: sinceN, since: [0] })).connectToAuthenticatedMs);
    const r = {
      scenario: "S6", target: "roomz", kind: "summary", stored: seeded, seedMs, serverRssKiB: rssKiB(t.pids()[0]), bunConnectMs: bunConnect,
      otherCpuPct: [newest, random, max, sinceTail, sinceOld].map((x) => x.otherCpuPct),
      historyNewest50: newest.latencyMs, historyRandom50: random.latencyMs, historyRandom200: max.latencyMs,
      sinceRecent: { ...sinceTail.connectToHistoryMs, avgMessages: sinceTail.avgMessages, authMs: sinceTail.connectToAuthenticatedMs, replayMs: sinceTail.authenticatedToHistoryMs },
      sinceOld: { ...sinceOld.connectToHistoryMs, avgMessages: sinceOld.avgMessages, complete: sinceOld.completeCount, authMs: sinceOld.connectToAuthenticatedMs, replayMs: sinceOld.authenticatedToHistoryMs },
    };
    console.log(`  history newest p99=${newest.latencyMs.p99} random p99=${random.latencyMs.p99} limit200 p99=${max.latencyMs.p99}; since recent p99=${sinceTail.connectToHistoryMs.p99} old p99=${sinceOld.connectToHistoryMs.p99} ms`);
    return r;
  } catch (e) {
    return reportFailure(ctx, "S6", e);
  } finally {
    await g?.close();
    await t?.stop();
  }
}

/**
 * Writes `total` messages into the channel of `email` directly in the SQLite store, as the
 * server would (schema 2: the log with `prev` pointers, a mark every 64th seq, the
 * channel's last seq and row).
 */
function seed(dir: string, email: string, total: number): number {
  const file = join(dir, "roomz.sqlite");
  if (!existsSync(file)) throw new Error(`no ${file}: the store layout changed; update bench/scenarios.ts seed()`);
  const db = new Database(file);
  const cols = (db.query("PRAGMA table_info(log)").all() as Array<{ name: string }>).map((c) => c.name).join(",");
  const want = "channel_id,seq,prev,id,client_msg_id,connection_id,display_name,content,created_at,files";
  if (cols !== want) throw new Error(`the log's columns are ${cols}, not ${want}: the store layout changed; update bench/scenarios.ts seed()`);
  const channelId = (db.query("INSERT INTO channels (name) VALUES (?) RETURNING id").get(`user:${email}`) as { id: number }).id;
  const insert = db.query(`INSERT INTO log (${want}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`);
  const mark = db.query("INSERT INTO marks (channel_id, seq, row) VALUES (?, ?, ?)");
  const start = Date.now() - total;
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = OFF");
  let prev: number | null = null;
  const batch = db.transaction((from: number, to: number) => {
    for (let s = from; s <= to; s++) {
      prev = Number(insert.run(channelId, s, prev, Bun.randomUUIDv7(), null, "seed", null, `seeded message number ${s} for the S6 history bench`, start + s).lastInsertRowid);
      if (s % 64 === 0) mark.run(channelId, s, prev);
    }
  });
  for (let s = 1; s <= total; s += 100_000) batch(s, Math.min(total, s + 99_999));
  db.query("UPDATE channels SET last_seq = ?, last_row = ? WHERE id = ?").run(total, prev, channelId);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  return total;
}

