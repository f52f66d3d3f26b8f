/**
 * Files on a real S3-compatible server (s3rver on a local port) shared by two instances
 * on one real Redis (PROTOCOL.md sections 4 and 7): any instance serves any file, and a
 * user's quota holds across instances.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { expectProblem } from "../helpers/problems";
import { signIn } from "../helpers/server";
import { freshUser, quiet, startCluster, type Cluster } from "../redis/support";
import { auth, png, sha256, upload, uploaded, startS3, type S3Server } from "./support";

let s3: S3Server;
let cluster: Cluster;
beforeAll(async () => {
  s3 = await startS3();
  cluster = await startCluster(2, { S3_URL: s3.url, USER_QUOTA_BYTES: "16000000" });
});
afterAll(async () => {
  for (const server of cluster?.servers ?? []) expect(quiet(server)).toBe(true);
  await cluster?.stop();
  await s3?.stop();
});

test("a file uploaded through one instance downloads, whole and in ranges, through the other", async () => {
  const [one, two] = cluster.servers;
  const jwt = await signIn(one, freshUser());
  const big = new Uint8Array(12 * 1024 * 1024).map((_, i) => (i * 31) % 251);
  const file = await uploaded(one, jwt, big, "big.bin");
  expect(file.sha256).toBe(sha256(big));
  const whole = await fetch(`${two.url}/files/${file.id}`, { headers: auth(jwt) });
  expect(whole.status).toBe(200);
  expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(file.sha256);
  const part = await fetch(`${two.url}/files/${file.id}`, { headers: { ...auth(jwt), range: "bytes=5242870-5242889" } });
  expect(part.status).toBe(206);
  expect(new Uint8Array(await part.arrayBuffer())).toEqual(big.subarray(5242870, 5242890));
  const image = await uploaded(two, jwt, png(8, 6), "tiny.png", "image/png");
  expect(image).toMatchObject({ width: 8, height: 6 });
  expect((await fetch(`${one.url}/files/${image.id}/tiny.png`, { headers: auth(jwt) })).headers.get("content-disposition")).toStartWith("inline;");
  const stranger = await signIn(two, freshUser());
  await expectProblem(await fetch(`${two.url}/files/${file.id}`, { headers: auth(stranger) }), 404, "not_found", `/files/${file.id}`);
});

test("the quota holds across instances: what one instance stored counts on the other", async () => {
  const [one, two] = cluster.servers;
  const jwt = await signIn(one, freshUser());
  await uploaded(one, jwt, new Uint8Array(14_000_000).fill(1), "a.bin");
  await expectProblem(await upload(two, jwt, new Uint8Array(2_500_000).fill(2), "b.bin"), 413, "quota_exceeded", "/api/files");
  // Racing uploads through both instances: the quota lets exactly the ones that fit through.
  const racing = await Promise.all([one, two, one, two].map((server, i) => upload(server, jwt, new Uint8Array(900_000).fill(10 + i), `r${i}.bin`)));
  expect(racing.map((r) => r.status).sort()).toEqual([201, 201, 413, 413]);
});
