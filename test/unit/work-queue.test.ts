/**
 * The bounded work queue behind Web Push (src/server/push/work-queue.ts): `offer` never
 * runs work in the caller's turn, refuses past its limit (the caller counts a drop), runs
 * at most `concurrency` tasks at once, and keeps going when a task fails.
 */
import { expect, test } from "bun:test";
import { WorkQueue } from "../../src/server/push/work-queue";
import { until } from "../helpers/wait";

test("offer returns before any work runs; past the limit it refuses; at most `concurrency` run at once", async () => {
  const queue = new WorkQueue(3, 2, "test");
  const started: number[] = [];
  const release: Array<() => void> = [];
  const task = (n: number) => () => {
    started.push(n);
    return new Promise<void>((resolve) => release.push(resolve));
  };
  // Two start (on a later turn), three wait, the sixth does not fit.
  expect([1, 2, 3, 4, 5, 6].map((n) => queue.offer(task(n)))).toEqual([true, true, true, true, true, false]);
  expect(started).toEqual([]);
  await until(() => started.length === 2, "two tasks running");
  expect(queue.size).toBe(3);
  release.shift()!();
  await until(() => started.length === 3, "a third once one finished");
  expect(started).toEqual([1, 2, 3]);
  expect(queue.offer(task(7))).toBe(true);
  expect(queue.offer(task(8))).toBe(false);
  await until(() => {
    release.shift()?.();
    return started.length === 6;
  }, "the waiting tasks to run as slots free");
  expect(started).toEqual([1, 2, 3, 4, 5, 7]);
  release.forEach((r) => r());
});

test("a failing task frees its slot; close drops what waits and refuses more", async () => {
  const queue = new WorkQueue(10, 1, "test");
  const done: string[] = [];
  queue.offer(async () => {
    throw new Error("push service down");
  });
  queue.offer(async () => void done.push("after the failure"));
  await until(() => done.length === 1, "the next task");
  let hold!: () => void;
  queue.offer(() => new Promise<void>((resolve) => (hold = resolve)));
  queue.offer(async () => void done.push("never"));
  queue.offer(async () => void done.push("never"));
  await until(() => hold !== undefined, "the holding task to start");
  expect(queue.close()).toBe(2);
  expect(queue.offer(async () => void done.push("never"))).toBe(false);
  hold();
  await Bun.sleep(5);
  expect(done).toEqual(["after the failure"]);
});
