/**
 * Runs SQLite's WAL checkpoints on a worker thread with its own connection. In WAL mode
 * with synchronous=NORMAL a checkpoint is the only fsync; inside a commit on the main
 * thread it stalled every socket for 4–15 ms every few hundred messages
 * (bench/results/findings.md). A PASSIVE checkpoint runs beside the writer.
 *
 * The worker's code is a string so the single executable needs no extra entry point.
 */
import { log } from "../../log";

const WORKER_SOURCE = `
import { Database } from "bun:sqlite";
let db = null;
self.onmessage = (event) => {
  try {
    if (event.data.open) {
      db = new Database(event.data.open);
      db.exec("PRAGMA busy_timeout = 1000");
      return;
    }
    if (event.data.close) { db?.close(); db = null; postMessage({ closed: true }); return; }
    db?.exec("PRAGMA wal_checkpoint(PASSIVE)");
    postMessage({ done: true });
  } catch (error) {
    postMessage({ error: String(error && error.message || error) });
  }
};`;

/** At most one checkpoint every this long while writes keep coming. */
const MIN_INTERVAL_MS = 250;

export class Checkpointer {
  private worker: Worker;
  private running = false;
  private wanted = false;
  private timer: Timer | null = null;
  private onClosed: (() => void) | null = null;

  constructor(databasePath: string) {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
    this.worker = new Worker(url);
    (this.worker as Worker & { unref(): void }).unref();
    this.worker.onmessage = (event: MessageEvent) => {
      if (event.data.error) log.warn(`checkpoint failed (will retry): ${event.data.error}`);
      if (event.data.closed) return this.onClosed?.();
      this.running = false;
      this.schedule();
    };
    this.worker.postMessage({ open: databasePath });
  }

  /** Says that the WAL has grown; a checkpoint follows soon, never two at once. */
  nudge(): void {
    this.wanted = true;
    this.schedule();
  }

  private schedule(): void {
    if (!this.wanted || this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wanted = false;
      this.running = true;
      this.worker.postMessage({});
    }, MIN_INTERVAL_MS);
    this.timer.unref();
  }

  /** Closes the worker's connection so the main one, closing last, folds the WAL back. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await new Promise<void>((resolve) => {
      this.onClosed = resolve;
      this.worker.postMessage({ close: true });
      setTimeout(resolve, 2000).unref();
    });
    this.worker.terminate();
  }
}
