/**
 * Drives one generator process (bench/gen.ts pinned to core 1) over its stdin/stdout, and
 * samples the target's CPU and peak RSS around each command.
 */
import { join } from "node:path";
import type { Subprocess } from "bun";
import { BENCH, GEN_CORE, PIN, prioritize, type Target } from "./targets";
import { busyMicros, cpuMicros, sumCpu, sumRss } from "./procstat";

export class Generator {
  private p: Subprocess<"pipe", "pipe", "inherit">;
  private waiting: Array<{ op: string; resolve: (v: any) => void }> = [];
  private listeners: Array<(ev: any) => void> = [];

  constructor(public target: Target) {
    // GEN_PRELOAD: an experiment in the generator, e.g. probe/loop-lag.ts for its own stalls.
    const preload = process.env.GEN_PRELOAD ? ["--preload", process.env.GEN_PRELOAD] : [];
    this.p = Bun.spawn([...PIN(GEN_CORE), process.execPath, ...preload, join(BENCH, "gen.ts")], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    });
    prioritize(this.p.pid);
    this.read();
  }

  get pid() {
    return this.p.pid;
  }

  private async read() {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of this.p.stdout) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg: any;
        try {
          msg = JSON.parse(line);
        } catch {
          console.error(`[gen] ${line}`);
          continue;
        }
        if (msg.reply) {
          const i = this.waiting.findIndex((w) => w.op === msg.reply);
          if (i >= 0) this.waiting.splice(i, 1)[0].resolve(msg);
        } else for (const l of this.listeners) l(msg);
      }
    }
    for (const w of this.waiting.splice(0)) w.resolve({ error: "generator exited" });
  }

  onEvent(l: (ev: any) => void) {
    this.listeners.push(l);
  }

  /** Sends one command and resolves with its reply. */
  cmd(op: string, args: object = {}): Promise<any> {
    return new Promise((resolve) => {
      this.waiting.push({ op, resolve });
      this.p.stdin.write(JSON.stringify({ op, ...args }) + "\n");
      this.p.stdin.flush();
    });
  }

  /**
   * Waits (at most `maxWaitMs`) for a moment when the rest of the machine uses under
   * `maxPct` % of a core, judged over 500 ms windows; returns the last window's load.
   */
  async quiet(maxPct = 25, maxWaitMs = 3000): Promise<number> {
    const ours = () => sumCpu([...this.target.pids(), this.pid, process.pid]);
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const b0 = busyMicros(), o0 = ours();
      await Bun.sleep(500);
      const pct = Math.max(0, Math.round(((busyMicros() - b0 - (ours() - o0)) / 500_000) * 100));
      if (pct < maxPct || Date.now() > deadline) return pct;
    }
  }

  /** Runs a command while measuring the target's CPU time, wall time and peak RSS; first
   * waits a little for the machine to be quiet. */
  async measured(op: string, args: object = {}) {
    const otherBeforePct = await this.quiet();
    const pids = this.target.pids();
    const cpu0 = sumCpu(pids);
    const gcpu0 = cpuMicros(this.pid);
    const busy0 = busyMicros();
    const t0 = performance.now();
    let peakRss = sumRss(pids);
    const timer = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, sumRss(pids));
      } catch {}
    }, 250);
    const reply = await this.cmd(op, args);
    clearInterval(timer);
    const wallMs = performance.now() - t0;
    const serverCpuUs = sumCpu(pids) - cpu0;
    const genCpuUs = cpuMicros(this.pid) - gcpu0;
    const otherUs = busyMicros() - busy0 - serverCpuUs - genCpuUs;
    return {
      ...reply,
      serverCpuUs,
      serverCpuPct: Math.round((serverCpuUs / 1000 / wallMs) * 100),
      genProcCpuPct: Math.round((genCpuUs / 1000 / wallMs) * 100),
      // CPU used on the machine by everything else (other sessions' tests, the runner).
      otherCpuPct: Math.max(0, Math.round((otherUs / 1000 / wallMs) * 100)),
      otherBeforePct,
      wallMs: Math.round(wallMs),
      serverPeakRssKiB: peakRss,
      serverRssKiB: sumRss(pids),
    };
  }

  async close() {
    try {
      this.p.stdin.write(JSON.stringify({ op: "exit" }) + "\n");
      this.p.stdin.end();
    } catch {}
    const timer = setTimeout(() => this.p.kill("SIGKILL"), 5000);
    await this.p.exited;
    clearTimeout(timer);
  }
}
