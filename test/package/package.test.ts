/**
 * The client library as a user gets it: `npm pack` (which builds it), the tarball
 * installed into an empty folder with `npm install`, one plain script that signs in,
 * sends and receives through a real server (run by Node with the ws package, and by Bun
 * with its own WebSocket), and two TypeScript
 * consumers (moduleResolution bundler without @types/node, and nodenext) type-checked by
 * the repository's tsc. The first install needs the npm registry (the package's own
 * dependencies and ws); later runs are served from npm's cache (--prefer-offline).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { requestToken, ROOT, startServer, tempDir, type TestServer } from "../helpers/server";

const TSC = join(ROOT, "node_modules/.bin/tsc");
const WS_VERSION = JSON.parse(readFileSync(join(ROOT, "node_modules/ws/package.json"), "utf8")).version;
const TYPES_WS_VERSION = JSON.parse(readFileSync(join(ROOT, "node_modules/@types/ws/package.json"), "utf8")).version;

const work = tempDir("roomz-package-");
const app = join(work, "app");
let server: TestServer;
let packed: { filename: string; size: number; unpackedSize: number; entryCount: number; files: Array<{ path: string }> };

function run(cmd: string[], cwd: string, timeoutMs = 90_000) {
  const result = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", timeout: timeoutMs, env: { ...process.env, npm_config_update_notifier: "false" } });
  const out = result.stdout.toString();
  const err = result.stderr.toString();
  if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${result.exitCode}:\n${out}\n${err}`);
  return { out, err };
}

function write(file: string, content: string | object) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof content === "string" ? content : `${JSON.stringify(content, null, 2)}\n`);
}

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("the roomz package", () => {
  test("npm pack builds it and ships only the compiled library", () => {
    // prepack runs the build; its output shares stdout with the JSON, which comes last.
    const { out } = run(["npm", "pack", "--json", "--pack-destination", work], ROOT);
    packed = JSON.parse(out.slice(out.lastIndexOf("\n[") + 1))[0];
    const paths = packed.files.map((f) => f.path).sort();
    for (const entry of ["client/index", "client/node"]) {
      expect(paths).toContain(`dist/lib/${entry}.js`);
      expect(paths).toContain(`dist/lib/${entry}.d.ts`);
    }
    // Nothing of src/, test/ or the server: the compiled library, package.json and README.
    const stray = paths.filter((p) => !(p === "package.json" || p === "README.md" || /^dist\/lib\/(client|protocol)\/[a-z-]+\.(js|d\.ts)$/.test(p)));
    expect(stray).toEqual([]);
    expect(paths.filter((p) => p.startsWith("dist/lib/protocol/"))).toEqual([
      "dist/lib/protocol/file-info.d.ts", "dist/lib/protocol/file-info.js",
      "dist/lib/protocol/frames.d.ts", "dist/lib/protocol/frames.js", "dist/lib/protocol/problems.d.ts", "dist/lib/protocol/problems.js",
      "dist/lib/protocol/text.d.ts", "dist/lib/protocol/text.js", "dist/lib/protocol/tokens.d.ts", "dist/lib/protocol/tokens.js",
    ]);
    console.log(`tarball: ${packed.filename}, ${packed.entryCount} files, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked`);
  }, 120_000);

  test("the tarball installs into an empty folder; the browser entry never reaches node:", () => {
    write(join(app, "package.json"), { name: "consumer", private: true, type: "module" });
    run(["npm", "install", "--prefer-offline", "--no-audit", "--no-fund", join(work, packed.filename), `ws@${WS_VERSION}`, `@types/ws@${TYPES_WS_VERSION}`, "@types/node@20"], app, 120_000);
    // The library brings nothing of the server's (Elysia, Resend, Solid, ioredis).
    for (const serverDependency of ["elysia", "resend", "solid-js", "ioredis"]) expect(existsSync(join(app, "node_modules", serverDependency))).toBe(false);
    // Every module the "roomz/client" entry loads, followed through its relative imports.
    const lib = join(app, "node_modules/roomz/dist/lib/client");
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(join(lib, file), "utf8");
      expect(source).not.toMatch(/from\s+["']node:|import\(\s*["']node:|\bprocess\./);
      for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+)["']/g)) visit(spec.replace(/^\.\//, ""));
    };
    visit("index.js");
    expect([...seen]).toContain("client.js");
    expect(seen.has("session-cache.js")).toBe(false);
  }, 180_000);

  // Node with the ws package (Node 20 has no WebSocket of its own), and Bun with its own.
  for (const [runtime, email, webSocket] of [["node", "alice@example.com", "ws"], ["bun", "bob@example.com", "builtin"]] as const) {
    test(`a plain ${runtime} script signs in, sends and receives through a real server with ${webSocket === "ws" ? "ws" : "its own WebSocket"}`, async () => {
      copyFileSync(join(import.meta.dir, "consumer.mjs"), join(app, "consumer.mjs"));
      const token = await requestToken(server, email);
      const sessionFile = join(work, `home-${runtime}`, ".roomz", "session.json");
      const executable = runtime === "node" ? "node" : process.execPath;
      const child = Bun.spawn([executable, "consumer.mjs", server.url, token, sessionFile, webSocket], { cwd: app, stdout: "pipe", stderr: "pipe" });
      const timer = setTimeout(() => child.kill(), 30_000); // it must exit by itself once its clients close
      const [out, err, code] = [await new Response(child.stdout).text(), await new Response(child.stderr).text(), await child.exited];
      clearTimeout(timer);
      expect(err).toBe("");
      expect(code).toBe(0);
      const seen = JSON.parse(out);
      console.log(`${seen.runtime} with ${seen.webSocket}`);
      expect(seen.runtime.startsWith(runtime)).toBe(true);
      expect(seen.missing).toEqual({
        isRoomzError: true,
        code: "no_websocket",
        message: expect.stringContaining("ws package"),
        state: { status: "stopped", reason: "no WebSocket", stop: "no_websocket" },
      });
      expect(seen).toMatchObject({
        webSocket,
        email,
        cachedEmail: email,
        sameSession: true,
        connections: [true, email],
        ack: { seq: 1, duplicate: false },
        message: { seq: 1, content: "hello from a script", email },
        history: ["hello from a script"],
        states: ["stopped", "stopped"],
      });
      expect(existsSync(sessionFile)).toBe(true);
    }, 60_000);
  }

  test("TypeScript consumers type-check: bundler without @types/node, and nodenext", () => {
    const strict = { strict: true, noEmit: true, skipLibCheck: false, target: "ES2022" };
    // A browser app: DOM, no Node types at all.
    write(join(app, "bundler/tsconfig.json"), {
      compilerOptions: { ...strict, module: "ESNext", moduleResolution: "bundler", lib: ["ES2022", "DOM"], types: [] },
      include: ["index.ts"],
    });
    write(join(app, "bundler/index.ts"), `
      import { RoomzClient, RoomzError, type ChatMessage, type ConnectionState, type RoomzClientOptions } from "roomz/client";
      const options: RoomzClientOptions = { server: "", WebSocket, fetch };
      const client = new RoomzClient(options);
      client.on("message", (m: ChatMessage) => console.log(m.seq, m.user.email, m.content));
      client.on("connection_state", (s: ConnectionState) => console.log(s.status, s.retryInMs, s.reason));
      export async function main(): Promise<number> {
        try {
          await client.connect();
          return (await client.send("hi")).seq;
        } catch (error) {
          if (error instanceof RoomzError) console.log(error.code, error.status);
          return -1;
        }
      }
    `);
    // A Node 20 program: nodenext, Node's types but no DOM, the ws package passed in without a cast.
    write(join(app, "nodenext/tsconfig.json"), {
      compilerOptions: { ...strict, module: "nodenext", moduleResolution: "nodenext", lib: ["ES2022"], types: ["node"] },
      include: ["index.ts"],
    });
    write(join(app, "nodenext/index.ts"), `
      import WebSocket from "ws";
      import { RoomzError, type RoomzClient as CoreClient } from "roomz/client";
      import { createClient, RoomzClient, SessionCache, type CreateClientOptions, type SessionInfo } from "roomz/client/node";
      const options: CreateClientOptions = { server: "http://localhost:8000", WebSocket, sessionCacheFile: false };
      const client: CoreClient = await createClient(options);
      const other = new RoomzClient({ server: options.server, session: null, WebSocket });
      const info: SessionInfo | null = new SessionCache("/tmp/roomz-session.json").get(options.server);
      client.on("reset", ({ epoch }) => console.log(epoch));
      const ack = await client.send("hi").catch((error: unknown) => (error instanceof RoomzError ? null : Promise.reject(error)));
      console.log(ack?.seq, info?.email, other.state.status);
    `);
    for (const project of ["bundler", "nodenext"]) {
      const result = Bun.spawnSync([TSC, "-p", join(app, project)], { cwd: app, stdout: "pipe", stderr: "pipe" });
      expect(`${project}: ${result.stdout.toString()}${result.stderr.toString()}`).toBe(`${project}: `);
      expect(result.exitCode).toBe(0);
    }
  }, 60_000);
});
