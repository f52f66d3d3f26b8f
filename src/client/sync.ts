/**
 * Filling the gap of an incomplete replay: the replay holds the newest messages above
 * `since`; older ones are fetched with `history` pages of 200, newest first, until the
 * page reaches `since`.
 */
import type { ChatMessage, HistoryAck } from "../protocol/frames";

export type HistoryRequest = (data: { before: number; limit: number }) => Promise<HistoryAck>;

/** Returns the messages with since < seq < firstReplayed, ascending. */
export async function fillGap(request: HistoryRequest, since: number, firstReplayed: number): Promise<ChatMessage[]> {
  const pages: ChatMessage[][] = [];
  let before = firstReplayed;
  while (before > since + 1) {
    const page = await request({ before, limit: 200 });
    const wanted = (page.messages ?? []).filter((m) => m.seq > since && m.seq < before);
    pages.unshift(wanted);
    if (!page.has_more || wanted.length < (page.messages ?? []).length || wanted.length === 0) break;
    before = wanted[0].seq;
  }
  return pages.flat();
}
