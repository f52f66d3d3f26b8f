/**
 * The contract's promise about `seq` (PROTOCOL.md section 2): per channel, from 1,
 * gapless, strictly increasing, never reused; replay and live traffic never overlap or
 * leave a gap. One check for it, with a failure that says what went wrong.
 */

/** from, from + 1, ..., from + count - 1. */
export function seqRange(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

/** `seqs` is exactly from..from+count-1, in order, each once; else throws what is missing, doubled or out of order. */
export function expectSeqRun(seqs: number[], from: number, count: number): void {
  const expected = seqRange(from, count);
  if (seqs.length === expected.length && seqs.every((s, i) => s === expected[i])) return;
  const problems: string[] = [];
  const seen = new Set<number>();
  for (const s of seqs) {
    if (seen.has(s)) problems.push(`duplicate ${s}`);
    else if (s < from || s >= from + count) problems.push(`unexpected ${s}`);
    seen.add(s);
  }
  for (const e of expected) if (!seen.has(e)) problems.push(`missing ${e}`);
  for (let i = 1; i < seqs.length; i++) if (seqs[i] < seqs[i - 1]) problems.push(`out of order at ${i}: ${seqs[i - 1]} then ${seqs[i]}`);
  throw new Error(`expected seqs ${from}..${from + count - 1} once each in order; got ${seqs.length}: ${problems.slice(0, 10).join(", ")}`);
}
