/**
 * A bounded queue of background work with bounded concurrency: `offer` never waits and
 * never grows the queue past its limit (a task that does not fit is refused, for the
 * caller to count), and at most `concurrency` tasks run at once. Web Push uses it so that
 * pushing never delays an ack or a delivery, and a slow push service costs a fixed amount
 * of memory.
 */
import { describeError, log } from "../../log";

export type Task = () => Promise<void>;

export class WorkQueue {
  private waiting: Task[] = [];
  private head = 0;
  private running = 0;
  private closed = false;

  constructor(
    private readonly limit: number,
    private readonly concurrency: number,
    private readonly name: string,
  ) {}

  /** Tasks waiting to start (not those running). */
  get size(): number {
    return this.waiting.length - this.head;
  }

  /** Queues a task; false (and nothing queued) when the queue is full or closed. */
  offer(task: Task): boolean {
    if (this.closed || this.size >= this.limit) return false;
    this.waiting.push(task);
    this.pump();
    return true;
  }

  /** Starts nothing more; returns how many waiting tasks were dropped. */
  close(): number {
    this.closed = true;
    const dropped = this.size;
    this.waiting = [];
    this.head = 0;
    return dropped;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.size > 0) {
      const task = this.waiting[this.head++];
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      this.running++;
      // Started on a later turn of the event loop, so `offer` returns before any work runs.
      setImmediate(() =>
        task()
          .catch((error) => log.warn(`${this.name}: ${describeError(error)}`))
          .finally(() => {
            this.running--;
            this.pump();
          }),
      );
    }
  }
}
