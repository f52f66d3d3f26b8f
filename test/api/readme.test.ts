/**
 * The README's "From scripts and other tools" lines, run as printed with the real curl
 * (and sh, sed, jq) against a real server: they are read from README.md, so the test
 * fails when the README drifts. What they post must reach a WebSocket client and the
 * stream; the stream lines must print every message once, in order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { ROOT, type TestServer } from "../helpers/server";
import { until } from "../helpers/wait";
import { WsClient } from "../helpers/ws-client";
import { createToken, suite, tokenUserOn } from "./support";

const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The fenced block right after `<!-- readme-test: name -->`. */
function block(name: string): string {
  const match = new RegExp(`<!-- readme-test: ${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``).exec(README);
  if (!match) throw new Error(`README.md has no block marked readme-test: ${name}`);
  return match[1];
}

let server: TestServer;
let send: string;
let read: string;
let watcher: WsClient;
beforeAll(async () => {
  server = await suite.start();
  const user = await tokenUserOn(server, "send", undefined, "backup box");
  send = user.token.token;
  read = (await createToken(server, user.jwt, "read")).token;
  watcher = await WsClient.connect(server.wsUrl, { jwt: user.jwt });
}, 30000);
afterAll(async () => {
  watcher?.close();
  await server?.stop();
}, 30000);

function environment(token: string, extra: Record<string, string> = {}) {
  return { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", ROOMZ_SERVER: server.url, ROOMZ_TOKEN: token, ...extra };
}

async function run(shell: string, command: string, env: Record<string, string>) {
  const child = Bun.spawn([shell, "-c", command], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { out, err, code };
}

/** A long-running line (the stream): its output so far, and a way to stop it (its whole pipeline). */
function follow(command: string, env: Record<string, string>) {
  // Its own process group, so stopping it ends every process of the pipeline.
  const child = Bun.spawn(["sh", "-c", command], { env, stdin: "ignore", stdout: "pipe", stderr: "ignore", detached: true });
  let out = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) out += decoder.decode(chunk, { stream: true });
  })();
  return { output: () => out, stop: () => process.kill(-child.pid, "SIGTERM") };
}

/** The crontab's job line as cron runs it: the five schedule fields dropped, the rest to sh. */
function cronCommand(): string {
  const job = block("cron").split("\n").find((line) => /^[\d*]/.test(line))!;
  return job.replace(/^(\S+\s+){5}/, "");
}

/** The step's `run: >` as Actions runs it: the folded lines joined by spaces. */
function ciCommand(): string {
  const lines = block("ci").split("\n");
  const start = lines.findIndex((line) => /^\s*run: >\s*$/.test(line));
  return lines.slice(start + 1).map((line) => line.trim()).filter(Boolean).join(" ");
}

describe("README: from scripts and other tools", () => {
  test("cron, CI (twice: one message), webhook: each stored, on the WebSocket and on the stream, in order, once", async () => {
    const stream = follow(block("stream"), environment(read));
    await until(() => stream.output().includes("retry:"), "the stream to open");
    expect(await run("sh", cronCommand(), environment(send))).toMatchObject({ code: 0, err: "" });
    const ciEnv = environment(send, { STATUS: "success", GITHUB_RUN_ID: "4242", GITHUB_RUN_ATTEMPT: "1", GITHUB_REPOSITORY: "acme/app", GITHUB_RUN_NUMBER: "17" });
    for (let i = 0; i < 2; i++) expect((await run("bash", ciCommand(), ciEnv)).code).toBe(0);
    const webhook = await run("sh", block("webhook"), environment(send));
    expect(webhook.code).toBe(0);
    expect(JSON.parse(webhook.out)).toMatchObject({ seq: 3, content: "disk /dev/sda1 is 91% full", duplicate: false });
    const expected = [`${hostname()}: nightly backup finished`, "acme/app build 17: success", "disk /dev/sda1 is 91% full"];
    await watcher.until(() => watcher.messages().length === 3, "three messages on the WebSocket");
    expect(watcher.messages().map((m) => m.content)).toEqual(expected);
    expect(watcher.messages().every((m) => m.user.display_name === "backup box")).toBe(true);
    await until(() => (stream.output().match(/^id: /gm) ?? []).length === 3, () => `three events on curl -N: ${JSON.stringify(stream.output())}`);
    stream.stop();
    const events = stream.output().split("\n\n").filter((e) => e.includes("event: message"));
    expect(events.map((e) => /^id: (\d+)$/m.exec(e)![1])).toEqual(["1", "2", "3"]);
    expect(events.map((e) => JSON.parse(/^data: (.*)$/m.exec(e)![1]).content)).toEqual(expected);
  }, 30000);

  test("resuming with Last-Event-ID prints what came after it, then what comes live", async () => {
    const resumed = follow(block("stream-resume"), environment(read));
    await until(() => resumed.output().split("\n").length >= 2, "the message after seq 2");
    expect((await run("sh", cronCommand(), environment(send))).code).toBe(0);
    await until(() => resumed.output().split("\n").filter(Boolean).length === 2, "the live message");
    resumed.stop();
    expect(resumed.output().split("\n").filter(Boolean)).toEqual(["disk /dev/sda1 is 91% full", `${hostname()}: nightly backup finished`]);
  }, 30000);
});
