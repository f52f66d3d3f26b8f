/**
 * Catching up when a connection opens. A fresh client learns the channel's head (later
 * messages arrive as events, earlier ones through history()). A resuming client gets a
 * replay of the newest messages above `since`; when it is incomplete, the older ones are
 * fetched with `history` pages of 200, newest first, until the pages reach `since`.
 */
import type { ChatMessage, HistoryAck, ReplayData } from "../protocol/frames.js";

export type HistoryRequest = (data: { before?: number; limit: number }) => Promise<HistoryAck>;

/** The highest `seq` stored in the channel now (0 when it is empty). */
export async function headSeq(request: HistoryRequest): Promise<number> {
  const ack = await request({ limit: 1 });
  return ack.messages?.at(-1)?.seq ?? 0;
}

/** The replay's messages with the gap before them filled: every seq above `since`, ascending. */
export async function withGapFilled(request: HistoryRequest, since: number, replay: ReplayData): Promise<ChatMessage[]> {
  const replayed = replay.messages ?? [];
  if (replay.complete || replayed.length === 0) return replayed;
  const pages: ChatMessage[][] = [replayed];
  let before = replayed[0].seq;
  while (before > since + 1) {
    const page = await request({ before, limit: 200 });
    const all = page.messages ?? [];
    const wanted = all.filter((m) => m.seq > since && m.seq < before);
    pages.unshift(wanted);
    if (!page.has_more || wanted.length === 0 || wanted.length < all.length) break;
    before = wanted[0].seq;
  }
  return pages.flat();
}
