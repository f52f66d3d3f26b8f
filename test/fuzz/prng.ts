/**
 * A tiny seeded PRNG (mulberry32) and generators of hostile values, so a fuzz run is the
 * same run every time: a failure names its seed and case index and reproduces exactly.
 */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }

  /** A string of odd Unicode: lone surrogates, controls, RTL marks, emoji, combining marks, NUL. */
  oddString(maxLength: number): string {
    const pieces = [
      "\ud800", "\udfff", "\udc00\ud800", "\u0000", "\u0007", "\u001b[31m", "\u202e", "\u200b", "\ufeff", "\uffff", "\ufffe",
      "😀", "👩‍👩‍👧‍👦", "e\u0301", "\u0301", "𝕳", "\u2028", "\u2029", "\t", "\r\n", " ", "\u3000", "<script>alert(1)</script>",
      "'; DROP TABLE messages; --", "%00", "${7*7}", "{{7*7}}", "\\", "\"", "a", "Z", "0", "é", "中文", "ﷺ",
    ];
    let s = "";
    const n = this.int(0, maxLength);
    while (s.length < n) s += this.chance(0.7) ? this.pick(pieces) : String.fromCharCode(this.int(0, 0xffff));
    return s;
  }

  /** Any JSON-ish value, of every type, including huge and odd numbers. */
  value(depth = 0): unknown {
    const kind = this.int(0, depth > 2 ? 6 : 8);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.pick([0, -1, 1, 1.5, -0, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e308, 5e-324, 201, 200, 50, 4001, 65, Number.MAX_SAFE_INTEGER]);
      case 3:
        return this.oddString(80);
      case 4:
        return "x".repeat(this.pick([0, 1, 64, 65, 4000, 4001, 20000]));
      case 5:
        return this.pick(["", "message", "ping", "history", "set_display_name", "__proto__", "constructor", "toString"]);
      case 6:
        return this.int(-5, 300);
      case 7:
        return Array.from({ length: this.int(0, 4) }, () => this.value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(0, 4); i > 0; i--) o[this.pick(["content", "client_msg_id", "before", "limit", "display_name", "__proto__", "x"])] = this.value(depth + 1);
        return o;
      }
    }
  }
}
