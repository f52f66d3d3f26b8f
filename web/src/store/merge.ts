/** Merging pages of messages into the held window: ascending by seq, each seq once. */
import type { ChatMessage } from "../../../src/protocol";

/** Merges `incoming` into `held` (both ascending by seq), keeping each seq once. */
export function mergeBySeq(held: readonly ChatMessage[], incoming: readonly ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return held as ChatMessage[];
  const last = held.length ? held[held.length - 1].seq : -Infinity;
  const sorted = [...incoming].sort((a, b) => a.seq - b.seq);
  if (sorted[0].seq > last) return [...held, ...dedupe(sorted)];
  const bySeq = new Map<number, ChatMessage>();
  for (const m of held) bySeq.set(m.seq, m);
  for (const m of sorted) if (!bySeq.has(m.seq)) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function dedupe(sorted: ChatMessage[]): ChatMessage[] {
  return sorted.filter((m, i) => i === 0 || m.seq !== sorted[i - 1].seq);
}
