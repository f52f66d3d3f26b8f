/**
 * Attachments (issue 16): a 100 MB upload and download through Roomz, each against `cp`
 * of the same file on the same disk, and the server's RSS growth while they run (target:
 * under 20 MB; the body is never held in memory). `bun bench/files.ts [MB] [runs]`.
 * The upload is real curl streaming from disk (`-T`), the download real curl to a file.
 * Results: one JSON line per run in bench/results/<date>.jsonl, the table on stdout.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { mintSession, randomSecret } from "./lib/jwt";
import { rssKiB } from "./lib/procstat";

const ROOT = join(import.meta.dir, "..");
const MB = Number(process.argv[2] ?? 100);
const RUNS = Number(process.argv[3] ?? 3);
const EMAIL = "files@bench.test";
const work = mkdtempSync(join(process.env.BENCH_DIR ?? "/tmp", "roomz-bench-files-"));
const dataDir = join(work, "data");
const source = join(work, "source.bin");

function makeFile(path: string, megabytes: number) {
  const fd = openSync(path, "w");
  const chunk = randomBytes(1024 * 1024);
  for (let i = 0; i < megabytes; i++) writeSync(fd, chunk.map((b) => b ^ i));
  closeSync(fd);
}

async function timed(cmd: string[]): Promise<{ ms: number; out: string }> {
  const started = performance.now();
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`${cmd[0]} failed: ${out}`);
  return { ms: performance.now() - started, out };
}

/** Runs `job` while sampling the server's RSS every 10 ms; returns its peak growth in KiB. */
async function withRss<T>(pid: number, job: () => Promise<T>): Promise<{ result: T; growthKiB: number }> {
  Bun.gc(true);
  await Bun.sleep(200);
  const before = rssKiB(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(pid))), 10);
  const result = await job();
  clearInterval(sampler);
  peak = Math.max(peak, rssKiB(pid));
  return { result, growthKiB: peak - before };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const secret = randomSecret();
const port = 20000 + Math.floor(Math.random() * 20000);
const server = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "serve"], {
  env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", ROOMZ_DATA_DIR: dataDir, ALLOWED_EMAILS: EMAIL, JWT_SECRET_KEY: secret, MAX_FILE_BYTES: String((MB + 1) * 1024 * 1024) },
  stdout: "ignore",
  stderr: "inherit",
});
const url = `http://127.0.0.1:${port}`;
try {
  for (let i = 0; i < 100 && (await fetch(`${url}/healthz`).then((r) => r.status).catch(() => 0)) !== 200; i++) await Bun.sleep(100);
  makeFile(source, MB);
  const auth = `authorization: Bearer ${mintSession(secret, EMAIL)}`;
  const rows: Array<{ cp: number; up: number; down: number; upRss: number; downRss: number }> = [];
  for (let run = 0; run < RUNS; run++) {
    const copy = join(work, "copy.bin");
    const cp = (await timed(["cp", source, copy])).ms;
    rmSync(copy);
    // A new name each run: every run stores (identical content is stored once, and a rename replaces it).
    const up = await withRss(server.pid, () => timed(["curl", "-sS", "-X", "POST", "-T", source, "-H", auth, `${url}/api/files?name=run${run}.bin`]));
    const file = JSON.parse(up.result.out) as { id: string; size: number };
    if (file.size !== MB * 1024 * 1024) throw new Error(`stored ${file.size} bytes`);
    const out = join(work, "download.bin");
    const down = await withRss(server.pid, () => timed(["curl", "-sS", "-o", out, "-H", auth, `${url}/files/${file.id}`]));
    rmSync(out);
    const row = { cp, up: up.result.ms, down: down.result.ms, upRss: up.growthKiB / 1024, downRss: down.growthKiB / 1024 };
    rows.push(row);
    appendFileSync(join(ROOT, "bench/results", `${new Date().toISOString().slice(0, 10)}.jsonl`), JSON.stringify({ kind: "files", mb: MB, run, ...row }) + "\n");
  }
  const m = (key: keyof (typeof rows)[number]) => median(rows.map((r) => r[key]));
  console.log(`| ${MB} MB, median of ${RUNS} | ms | × cp | server RSS growth |`);
  console.log(`|---|---|---|---|`);
  console.log(`| cp (same disk) | ${m("cp").toFixed(0)} | 1.00 | |`);
  console.log(`| upload (curl -T, POST /api/files) | ${m("up").toFixed(0)} | ${(m("up") / m("cp")).toFixed(2)} | ${m("upRss").toFixed(1)} MB (max ${Math.max(...rows.map((r) => r.upRss)).toFixed(1)}) |`);
  console.log(`| download (curl, GET /files/<id>) | ${m("down").toFixed(0)} | ${(m("down") / m("cp")).toFixed(2)} | ${m("downRss").toFixed(1)} MB (max ${Math.max(...rows.map((r) => r.downRss)).toFixed(1)}) |`);
} finally {
  server.kill();
  await server.exited;
  rmSync(work, { recursive: true, force: true });
}
