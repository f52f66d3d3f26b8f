/**
 * Finding the first message of a day without reading the history: timestamps grow with
 * seq, so halving the range [1, head] finds it in about log2(head) one-message reads
 * (14 for 10,000 messages).
 */
import type { ChatMessage } from "../../../src/protocol";

/** `at(seq)`: the newest message with a seq at most `seq` (or none). Returns the first seq at or after `time`. */
export async function findSeqAt(time: number, head: number, at: (seq: number) => Promise<ChatMessage | undefined>): Promise<number> {
  let lo = 1;
  let hi = Math.max(head, 1);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const m = await at(mid);
    if (m && Date.parse(m.timestamp) >= time) hi = m.seq;
    else lo = mid + 1;
  }
  return lo;
}
