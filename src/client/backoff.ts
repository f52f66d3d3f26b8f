/**
 * Exponential backoff with jitter: attempt n waits between half and all of
 * min(max, base * 2^n), so a restarted server is not hit by every client at once.
 */
export class Backoff {
  private attempts = 0;
  constructor(
    private baseMs = 500,
    private maxMs = 30_000,
    private random: () => number = Math.random,
  ) {}

  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
  }

  reset(): void {
    this.attempts = 0;
  }
}
