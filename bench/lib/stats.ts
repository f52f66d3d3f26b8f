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
