/**
 * S7, the HTTP API (PROTOCOL.md section 6): server CPU per message posted with
 * `POST /api/messages` (an access token, a fresh request each) against a WebSocket
 * `message` frame, each with one socket of the user receiving it; and the memory an open
 * `GET /api/stream` costs. Roomz only (the baselines have no HTTP API).
 */
import { mintSession, benchEmail } from "./lib/jwt";
import { rssAfterGc, sumCpu } from "./lib/procstat";
import { round2 } from "./lib/stats";
import { startTarget } from "./lib/targets";
import { reportFailure, type Ctx } from "./scenarios";

/** Keeps `concurrency` requests in flight until `total` were made. */
async function inFlight(total: number, concurrency: number, one: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await one(next++);
  }));
}

function openSocket(url: string, jwt: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${jwt}` } } as any);
    ws.onmessage = (e) => JSON.parse(String(e.data)).type === "authenticated" && resolve(ws);
    ws.onerror = () => reject(new Error("the bench socket failed"));
  });
}

/** Sends `total` message frames, `window` unacknowledged at most; resolves after the last ack. */
function sendFrames(ws: WebSocket, total: number, window: number): Promise<void> {
  return new Promise((resolve) => {
    let sent = 0;
    let acked = 0;
    const send = () => {
      while (sent < total && sent - acked < window) ws.send(JSON.stringify({ type: "message", ref: `r${sent}`, data: { content: `ws ${sent++}` } }));
    };
    ws.onmessage = (e) => {
      if (JSON.parse(String(e.data)).type !== "ack") return;
      if (++acked === total) resolve();
      else send();
    };
    send();
  });
}

export async function s7(ctx: Ctx) {
  const t = await startTarget("roomz", ctx.logDir).catch((e) => reportFailure(ctx, "S7", e, "failed to start"));
  if (!t) return null;
  try {
    const base = t.urls[0].replace(/^ws/, "http").replace(/\/ws$/, "");
    const email = benchEmail(1);
    const jwt = mintSession(t.secret, email);
    const created = await fetch(`${base}/auth/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "bench", scope: "full" }),
    });
    const token = ((await created.json()) as { token: string }).token;
    const receiver = await openSocket(t.urls[0], jwt);
    receiver.onmessage = null;
    // Under the bench's MESSAGE_RATE_LIMIT (10,000 per 10 s, per token too) with the warm-up.
    const total = ctx.quick ? 3000 : 8000;
    const post = async (i: number) => {
      const res = await fetch(`${base}/api/messages`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" }, body: `http ${i}` });
      if (res.status !== 201) throw new Error(`POST /api/messages answered ${res.status}`);
      await res.arrayBuffer();
    };
    await inFlight(500, 8, post); // warm-up
    let cpu0 = sumCpu(t.pids());
    await inFlight(total, 8, post);
    const httpUs = round2((sumCpu(t.pids()) - cpu0) / total);
    const sender = await openSocket(t.urls[0], jwt);
    await sendFrames(sender, 500, 8); // warm-up
    cpu0 = sumCpu(t.pids());
    await sendFrames(sender, total, 8);
    const wsUs = round2((sumCpu(t.pids()) - cpu0) / total);
    sender.close();
    receiver.close();

    // Memory per open stream: RSS after a full GC (SIGUSR2), before and after opening them.
    const settledRss = async () => {
      await Bun.sleep(1000);
      return rssAfterGc(t.pids(), 1000);
    };
    // Measured between a first and a last count of open streams, like S2: from none, the
    // heap freed after the messages above came out as a negative number.
    const [firstStreams, streams] = ctx.quick ? [100, 500] : [1000, 5000];
    const aborts: AbortController[] = [];
    const openStreams = (count: number) =>
      inFlight(count, 32, async () => {
        const abort = new AbortController();
        aborts.push(abort);
        const res = await fetch(`${base}/api/stream`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
        if (res.status !== 200) throw new Error(`GET /api/stream answered ${res.status}`);
        void res.body!.getReader().read().catch(() => {});
      });
    await openStreams(firstStreams);
    const rss0 = await settledRss();
    await openStreams(streams - firstStreams);
    const rss1 = await settledRss();
    for (const abort of aborts) abort.abort();
    const kbPerStream = round2((rss1 - rss0) / (streams - firstStreams));
    const r = { scenario: "S7", target: "roomz", kind: "summary", messages: total, httpUsPerMessage: httpUs, wsUsPerMessage: wsUs, ratio: round2(httpUs / wsUs), streams, rss0KiB: rss0, rssStreamsKiB: rss1, kbPerStream };
    console.log(`  roomz: POST /api/messages ${httpUs} µs CPU/message, WebSocket message ${wsUs} µs (${r.ratio}×); ${streams} open streams: ${kbPerStream} KB each`);
    return r;
  } catch (e) {
    return reportFailure(ctx, "S7", e);
  } finally {
    await t.stop();
  }
}
