/**
 * A stream cut for being too slow is an expected event (counted in the metrics), so the
 * server prints nothing about it, even when the cut comes before Bun has started sending
 * the response: Bun prints an Error that ends such a body, with its stack (seen once in a
 * full run, by the security suite's check of every server's output).
 */
import { expect, test } from "bun:test";
import { join } from "node:path";

test("a stream over its send buffer before its response started is cut quietly", async () => {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../fixtures/stream-cut-before-start.ts")], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  expect(JSON.parse(out.trim()).cut).toBe(1);
  expect(err).toBe("");
});
