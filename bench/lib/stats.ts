/** Latency samples in a preallocated buffer; percentiles by sorting once at the end. */
export class Samples {
  private buf: Float64Array;
  n = 0;
  dropped = 0;
  constructor(capacity = 1 << 22) {
    this.buf = new Float64Array(capacity);
  }
  add(v: number) {
    if (this.n < this.buf.length) this.buf[this.n++] = v;
    else this.dropped++;
  }
  values(): Float64Array {
    return this.buf.subarray(0, this.n);
  }
  reset() {
    this.n = 0;
    this.dropped = 0;
  }
  summary(): LatencySummary {
    const a = this.buf.subarray(0, this.n).slice().sort();
    const q = (p: number) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN);
    return { n: a.length, p50: r3(q(0.5)), p99: r3(q(0.99)), p999: r3(q(0.999)), max: r3(a.length ? a[a.length - 1] : NaN) };
  }
}

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export const r3 = (v: number) => Math.round(v * 1000) / 1000;
export const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * Where a latency tail comes from: the deliveries slower than `thresholdMs`, grouped by
 * message (a message's deliveries share its send time) and into events (slow messages
 * sent within 3 ms of each other). A pause anywhere between the sender and the server's
 * fan-out delays every delivery of a message; a receiver's own pause delays only its own.
 */
export function slowEvents(sentAt: Float64Array, latency: Float64Array, thresholdMs: number, windowMs: number) {
  const deliveries = new Map<number, { all: number; slow: number }>();
  for (let i = 0; i < sentAt.length; i++) {
    const m = deliveries.get(sentAt[i]) ?? { all: 0, slow: 0 };
    m.all++;
    if (latency[i] > thresholdMs) m.slow++;
    deliveries.set(sentAt[i], m);
  }
  const slowMessages = [...deliveries].filter(([, m]) => m.slow > 0).sort((a, b) => a[0] - b[0]);
  let events = 0, largest = 0, size = 0, last = -Infinity;
  for (const [at] of slowMessages) {
    if (at - last > 3) {
      events++;
      size = 0;
    }
    largest = Math.max(largest, ++size);
    last = at;
  }
  const slowDeliveries = slowMessages.reduce((sum, [, m]) => sum + m.slow, 0);
  const whole = slowMessages.filter(([, m]) => m.slow === m.all).length;
  return {
    thresholdMs,
    slowDeliveries,
    slowMessages: slowMessages.length,
    wholeMessagesPct: slowMessages.length ? Math.round((whole / slowMessages.length) * 100) : 0,
    events,
    eventsPerSec: r3(events / (windowMs / 1000)),
    largestEventMessages: largest,
  };
}
