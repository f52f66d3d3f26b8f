/**
 * The load generator: one Bun process (run it pinned, `taskset -c 1`) driven by JSON
 * commands on stdin, one per line, answering one JSON line on stdout per command.
 * bench/run.ts drives it; see bench/README.md for the commands.
 *
 * Open loop: `send` emits messages on a fixed schedule from the clock and never waits for
 * acks or deliveries; a late tick catches up on the messages it owes. Every content is
 * `B|<step>|<send time ms>|<sender user>|<n>`, so each receiving connection measures
 * latency and checks that the message belongs to its own user.
 */
import { Conn, type Handlers, type Kind } from "./gen/conn";
import { benchEmail, mintSession } from "./lib/jwt";
import { Samples, r3, slowEvents } from "./lib/stats";

interface Init {
  kind: Kind;
  urls: string[]; // one per server instance; connection slot i goes to urls[i % n]
  secret?: string;
  connsPerUser?: number;
}

let cfg: Init;
const conns: Conn[] = [];
const byUser = new Map<number, Conn[]>();
const tokens = new Map<number, string>();
const userN = new Map<number, number>(); // next n per sending user
const out = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");

// ---- per-step counters -------------------------------------------------------------
const lat = new Samples();
/** Send times of `lat`'s samples, kept only by a `send` with `events: true` (probe/s3-events.ts). */
const latSentAt = new Samples();
let tracing = false;
let step = 0;
let st = freshStep();
function freshStep() {
  return { sent: 0, sendFailed: 0, acked: 0, expected: 0, delivered: 0, late: 0, wrongUser: 0, dup: 0, errors: {} as Record<string, number>, closes: {} as Record<string, number> };
}

// ---- storm (S5) state ----------------------------------------------------------------
let storm: null | {
  seen: Map<Conn, Set<number>>;
  maxAcked: Map<number, number>;
  dupSeq: number;
  incomplete: number;
  resumed: Set<Conn>;
  firstCloseAt: number;
  allClosedAt: number;
  closed: number;
  attempts: number;
  retryMs: number;
  resumeAt: number[];
  unackedSentAt: number[];
  allResumed?: () => void;
} = null;
let pendingRefs = new Map<string, (raw: string) => void>();

const handlers: Handlers = {
  onAuthenticated(c) {
    authWaiters.get(c)?.(true);
  },
  onBench(c, s, sentAt, fromUser, n, seq) {
    if (fromUser !== c.user) {
      st.wrongUser++;
      return;
    }
    if (storm && seq > 0) {
      const seen = storm.seen.get(c)!;
      if (seen.has(seq)) storm.dupSeq++;
      seen.add(seq);
    }
    if (n <= c.lastN) st.dup++;
    else c.lastN = n;
    if (s !== step) {
      st.late++;
      return;
    }
    st.delivered++;
    lat.add(performance.now() - sentAt);
    if (tracing) latSentAt.add(sentAt);
  },
  onAck(c, seq, raw) {
    const refAt = raw.indexOf('"ref":"');
    if (refAt >= 0 && pendingRefs.size) {
      const ref = raw.slice(refAt + 7, raw.indexOf('"', refAt + 7));
      const done = pendingRefs.get(ref);
      if (done) {
        pendingRefs.delete(ref);
        return done(raw);
      }
    }
    st.acked++;
    c.pending?.shift();
    if (storm && seq > (storm.maxAcked.get(c.user) ?? 0)) storm.maxAcked.set(c.user, seq);
  },
  onError(c, code) {
    st.errors[code] = (st.errors[code] ?? 0) + 1;
  },
  onHistory(c, raw) {
    historyWaiters.get(c)?.(raw);
    if (!storm) return;
    const data = JSON.parse(raw).data;
    const seen = storm.seen.get(c)!;
    for (const m of data.messages) {
      if (seen.has(m.seq)) storm.dupSeq++;
      seen.add(m.seq);
      if (m.seq > c.lastSeq) c.lastSeq = m.seq;
    }
    if (!data.complete) storm.incomplete++;
    if (!storm.resumed.has(c)) {
      storm.resumed.add(c);
      storm.resumeAt.push(Date.now());
      if (storm.resumed.size === conns.length) storm.allResumed?.();
    }
  },
  onOther() {},
  onClose(c, code, wasOpen) {
    authWaiters.get(c)?.(false);
    if (!storm) {
      if (wasOpen) st.closes[code] = (st.closes[code] ?? 0) + 1;
      return;
    }
    if (c.pending?.length) {
      storm.unackedSentAt.push(...c.pending);
      c.pending = [];
    }
    if (wasOpen) {
      st.closes[code] = (st.closes[code] ?? 0) + 1;
      if (!storm.firstCloseAt) storm.firstCloseAt = Date.now();
      if (++storm.closed === conns.length) storm.allClosedAt = Date.now();
    }
    if (!storm.resumed.has(c)) {
      const wait = storm.retryMs * (1 + Math.random());
      setTimeout(() => {
        storm!.attempts++;
        openConn(c, true);
      }, wait);
    }
  },
};

// ---- connecting --------------------------------------------------------------------
const authWaiters = new Map<Conn, (ok: boolean) => void>();
const historyWaiters = new Map<Conn, (raw: string) => void>();

function urlFor(c: Conn, since: number | null): string {
  const base = cfg.urls[c.slot % cfg.urls.length];
  const sep = base.includes("?") ? "&" : "?";
  if (cfg.kind === "roomz") return since === null ? base : `${base}${sep}since=${since}`;
  return `${base}${sep}user=u${String(c.user).padStart(4, "0")}`;
}

function openConn(c: Conn, withSince: boolean, since?: number) {
  let headers: Record<string, string> | undefined;
  if (cfg.kind === "roomz") {
    let t = tokens.get(c.user);
    if (!t) tokens.set(c.user, (t = mintSession(cfg.secret!, benchEmail(c.user))));
    headers = { Authorization: `Bearer ${t}` };
  }
  c.open(urlFor(c, withSince ? (since ?? c.lastSeq) : null), headers);
}

function connectOne(c: Conn, withSince: boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      authWaiters.delete(c);
      resolve(ok);
    };
    authWaiters.set(c, finish);
    openConn(c, withSince);
  });
}

async function connect(cmd: { users: number; concurrency?: number; timeoutMs?: number }) {
  const per = cfg.connsPerUser ?? 4;
  const todo: Conn[] = [];
  for (let u = 1; u <= cmd.users; u++) {
    if (byUser.has(u)) continue;
    const list: Conn[] = [];
    for (let s = 0; s < per; s++) list.push(new Conn(cfg.kind, u, s, handlers));
    byUser.set(u, list);
    conns.push(...list);
    todo.push(...list);
  }
  const t0 = performance.now();
  let failed = 0, retries = 0, next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const c = todo[next++];
      let ok = false;
      for (let attempt = 0; attempt < 5 && !ok; attempt++) {
        if (attempt) (retries++, await Bun.sleep(200 * attempt));
        ok = await connectOne(c, false, cmd.timeoutMs ?? 15000);
      }
      if (!ok) failed++;
    }
  };
  await Promise.all(Array.from({ length: cmd.concurrency ?? 128 }, worker));
  const ms = performance.now() - t0;
  return { opened: todo.length, failed, retries, total: conns.filter((c) => c.authenticated).length, ms: Math.round(ms), perSec: Math.round(todo.length / (ms / 1000)) };
}

// ---- sending -------------------------------------------------------------------------
function senderConns(senders: number): Conn[] {
  const list: Conn[] = [];
  for (let u = 1; u <= senders; u++) {
    const c = byUser.get(u)?.[0];
    if (c) list.push(c);
  }
  return list;
}

/** Sends at `rate` msg/s for `ms` from `senders` users' first connections, open loop. */
function sendLoop(rate: number, ms: number, senders: Conn[], stop?: () => boolean): Promise<{ maxBacklog: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let i = 0, owed = 0, maxBacklog = 0;
    const tick = () => {
      const now = performance.now();
      const elapsed = Math.min(now - t0, ms);
      const due = Math.floor((elapsed * rate) / 1000);
      const backlog = due - owed;
      if (backlog > maxBacklog) maxBacklog = backlog;
      while (owed < due) {
        owed++;
        const c = senders[i++ % senders.length];
        const n = (userN.get(c.user) ?? 0) + 1;
        userN.set(c.user, n);
        const at = performance.now();
        if (c.sendMessage(`B|${step}|${at.toFixed(3)}|${c.user}|${n}`, `b${c.user}-${n}-${step}`)) {
          st.sent++;
          c.pending?.push(Date.now());
          st.expected += openCount(c.user);
        } else st.sendFailed++;
      }
      if (elapsed >= ms || stop?.()) resolve({ maxBacklog });
      else setTimeout(tick, 1);
    };
    tick();
  });
}

function openCount(user: number): number {
  let k = 0;
  for (const c of byUser.get(user)!) if (c.authenticated) k++;
  return k;
}

async function drain(drainMs: number) {
  const t0 = performance.now();
  while (performance.now() - t0 < drainMs && (st.delivered < st.expected || st.acked < st.sent)) await Bun.sleep(10);
  return Math.round(performance.now() - t0);
}

async function send(cmd: { rate: number; ms: number; senders: number; drainMs?: number; events?: boolean }) {
  step++;
  st = freshStep();
  lat.reset();
  latSentAt.reset();
  tracing = cmd.events === true;
  const senders = senderConns(cmd.senders);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { maxBacklog } = await sendLoop(cmd.rate, cmd.ms, senders);
  const sendMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const drainMs = await drain(cmd.drainMs ?? 2000);
  return {
    ...stepResult(sendMs),
    drainMs,
    maxBacklogMs: r3((maxBacklog / cmd.rate) * 1000),
    genCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / sendMs) * 100),
    ...(tracing ? { slow: slowEvents(latSentAt.values(), lat.values(), 1, sendMs) } : {}),
  };
}

function stepResult(sendMs: number) {
  return {
    ...st,
    lost: Math.max(0, st.expected - st.delivered),
    achievedRate: Math.round(st.sent / (sendMs / 1000)),
    deliveriesPerSec: Math.round(st.delivered / (sendMs / 1000)),
    latencyMs: lat.summary(),
  };
}

// ---- S5: reconnect storm ---------------------------------------------------------------
async function stormCmd(cmd: { rate: number; senders: number; preMs: number; postMs: number; drainMs: number; retryMs: number; resumeTimeoutMs: number }) {
  step++;
  st = freshStep();
  lat.reset();
  storm = { seen: new Map(conns.map((c) => [c, new Set<number>()])), maxAcked: new Map(), dupSeq: 0, incomplete: 0, resumed: new Set(), firstCloseAt: 0, allClosedAt: 0, closed: 0, attempts: 0, retryMs: cmd.retryMs, resumeAt: [], unackedSentAt: [] };
  for (const c of conns) c.pending = [];
  const senders = senderConns(cmd.senders);
  let stopSending = false;
  const sending = sendLoop(cmd.rate, 1e9, senders, () => stopSending);
  await Bun.sleep(cmd.preMs);
  out({ event: "restart_now", at: Date.now() });
  const resumed = await new Promise<boolean>((resolve) => {
    storm!.allResumed = () => resolve(true);
    setTimeout(() => resolve(false), cmd.resumeTimeoutMs);
  });
  await Bun.sleep(cmd.postMs);
  stopSending = true;
  await sending;
  await drain(cmd.drainMs);
  // Lost: a seq at or below the user's highest acked seq that this connection never saw.
  // Stored beyond the acks: seqs above it (sent, stored, but the ack never came back).
  let lost = 0, beyondAcked = 0;
  for (const c of conns) {
    const top = storm.maxAcked.get(c.user) ?? 0;
    const seen = storm.seen.get(c)!;
    for (let s = 1; s <= top; s++) if (!seen.has(s)) lost++;
    for (const s of seen) if (s > top) beyondAcked++;
  }
  const sorted = storm.resumeAt.sort((a, b) => a - b);
  const res = {
    allResumed: resumed,
    resumedCount: storm.resumed.size,
    conns: conns.length,
    firstCloseAt: storm.firstCloseAt,
    allClosedAt: storm.allClosedAt,
    firstResumedAt: sorted[0] ?? 0,
    lastResumedAt: sorted[sorted.length - 1] ?? 0,
    reconnectAttempts: storm.attempts,
    lostSeqs: lost,
    seenBeyondAcked: beyondAcked,
    unacked: st.sent - st.acked,
    unackedSentAt: [Math.min(...storm.unackedSentAt), Math.max(...storm.unackedSentAt)].filter(Number.isFinite),
    dupSeqs: storm.dupSeq,
    incompleteReplays: storm.incomplete,
    sent: st.sent,
    sendFailed: st.sendFailed,
    acked: st.acked,
    errors: st.errors,
    closes: st.closes,
    wrongUser: st.wrongUser,
    liveLatencyMs: lat.summary(),
  };
  storm = null;
  for (const c of conns) c.pending = null;
  return res;
}

// ---- S6: history requests and since replays --------------------------------------------
async function historyCmd(cmd: { n: number; limit: number; beforeMax?: number }) {
  const c = conns.find((x) => x.authenticated)!;
  const s = new Samples(cmd.n);
  let count = 0;
  for (let i = 0; i < cmd.n; i++) {
    const ref = `h${i}`;
    const before = cmd.beforeMax ? 1 + Math.floor(Math.random() * cmd.beforeMax) : undefined;
    const data = before ? { limit: cmd.limit, before } : { limit: cmd.limit };
    const t0 = performance.now();
    const raw = await new Promise<string>((resolve) => {
      pendingRefs.set(ref, resolve);
      c.sendRaw(JSON.stringify({ type: "history", ref, data }));
    });
    s.add(performance.now() - t0);
    if (i === 0) count = (raw.match(/"seq":/g) ?? []).length;
  }
  return { latencyMs: s.summary(), firstPageMessages: count };
}

/** Fresh connections that are opened and closed before the measured ones (JIT warm-up on both sides). */
const SINCE_WARMUP = 20;

async function sinceCmd(cmd: { n: number; since: number[] }) {
  const s = new Samples(cmd.n);
  const auth = new Samples(cmd.n);
  const replay = new Samples(cmd.n);
  let msgs = 0, complete = 0;
  for (let i = -SINCE_WARMUP; i < cmd.n; i++) {
    const c = new Conn(cfg.kind, 1, 1000 + i + SINCE_WARMUP, handlers);
    const since = cmd.since[i % cmd.since.length];
    const t0 = performance.now();
    let tAuth = 0;
    const raw = await new Promise<string>((resolve) => {
      authWaiters.set(c, () => {
        tAuth = performance.now();
        if (cfg.kind !== "roomz") resolve(""); // baselines have no replay: time the connect only
      });
      historyWaiters.set(c, resolve);
      openConn(c, true, since);
      setTimeout(() => resolve(""), 10000);
    });
    const tHistory = performance.now();
    authWaiters.delete(c);
    historyWaiters.delete(c);
    // Each sample is one connection alone: the next starts once this one's close is done,
    // not while the server is still sending its leave to the channel.
    const ws = c.ws;
    const closed = ws ? new Promise((resolve) => ws.addEventListener("close", resolve)) : null;
    c.close();
    await closed;
    if (i < 0) continue;
    s.add(tHistory - t0);
    auth.add(tAuth - t0);
    replay.add(tHistory - tAuth);
    if (raw) {
      // Counted by scanning, not JSON.parse: a parsed 500-message page is garbage whose
      // collection would land in some later sample's timing.
      msgs += countOf(raw, '"seq":');
      if (raw.includes('"complete":true')) complete++;
    }
  }
  return { connectToHistoryMs: s.summary(), connectToAuthenticatedMs: auth.summary(), authenticatedToHistoryMs: replay.summary(), avgMessages: Math.round(msgs / cmd.n), completeCount: complete };
}

function countOf(text: string, part: string): number {
  let n = 0;
  for (let at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + part.length)) n++;
  return n;
}

async function closeAll() {
  for (const c of conns) c.close();
  const n = conns.length;
  conns.length = 0;
  byUser.clear();
  await Bun.sleep(500);
  return { closed: n };
}

// ---- command loop ------------------------------------------------------------------------
const commands: Record<string, (cmd: any) => Promise<object> | object> = {
  init: (c: Init) => ((cfg = c), { ok: true }),
  connect,
  send,
  storm: stormCmd,
  history: historyCmd,
  since: sinceCmd,
  close: closeAll,
  exit: () => process.exit(0),
};

let queue = Promise.resolve();
let buffered = "";
process.stdin.on("data", (chunk) => {
  buffered += chunk.toString();
  let nl: number;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    if (!line) continue;
    const cmd = JSON.parse(line);
    queue = queue.then(async () => {
      try {
        out({ reply: cmd.op, ...(await commands[cmd.op](cmd)) });
      } catch (e) {
        out({ reply: cmd.op, error: String((e as Error)?.stack ?? e) });
      }
    });
  }
});
process.stdin.on("end", () => process.exit(0));
