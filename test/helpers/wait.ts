/**
 * Waiting in tests: one loop for every "until this holds" (a predicate, an assertion, a
 * search), so each helper says only what it waits for and what to print when it never
 * comes.
 */

/** Wakes whoever sleeps on it: a frame arrived, the server printed, an email came in. */
export class Wakeup {
  private sleepers: Array<() => void> = [];

  wake(): void {
    for (const wake of this.sleepers.splice(0)) wake();
  }

  /** Resolves at the next `wake()`, or after `ms`. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.sleepers.push(() => (clearTimeout(timer), resolve()));
    });
  }
}

/** Thrown by a check to end the wait at once (the connection closed, the process exited). */
export class GiveUp extends Error {}

export interface WaitOptions {
  /** Default 15 s. */
  timeoutMs?: number;
  /** The longest pause between two checks (default 20 ms). */
  everyMs?: number;
  /** Checks again as soon as this wakes, without waiting out the pause. */
  wakeup?: Wakeup;
}

/**
 * Checks `check` until it holds: until it returns anything but `false` (that value is
 * the result) without throwing. `false` or a thrown error means "not yet"; after the
 * timeout the last error is thrown (an assertion keeps its own message), else "timed out
 * waiting for `what`". A `GiveUp` ends the wait at once. `options` may be the timeout.
 */
export async function until<T>(check: () => T | Promise<T>, what: string | (() => string), options: number | WaitOptions = {}): Promise<Exclude<T, false>> {
  const { timeoutMs = 15_000, everyMs = 20, wakeup } = typeof options === "number" ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown = null;
    try {
      const result = await check();
      if (result !== false) return result as Exclude<T, false>;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      failure = error;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw failure ?? new Error(`timed out (${timeoutMs} ms) waiting for ${typeof what === "string" ? what : what()}`);
    const pause = Math.min(left, everyMs);
    await (wakeup ? wakeup.sleep(pause) : Bun.sleep(pause));
  }
}

/** Waits for `promise` at most `ms`; rejects with `what` on timeout. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out (${ms} ms): ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
