#!/usr/bin/env bun
/**
 * The one executable: `roomz [serve]` runs the server; `roomz cli|send|listen` are its
 * client side (also `roomz-cli` when invoked by that name).
 */
import { basename } from "node:path";
import pkg from "../package.json" with { type: "json" };

const HELP = `roomz ${pkg.version}: self-hosted real-time chat

Usage:
  roomz [serve]                      run the server (configured by environment, see README)
  roomz cli [--server URL]           interactive terminal client
  roomz send [--server URL] [text]   send one message (text, or standard input)
  roomz listen [--server URL] [--json]
                                     print the channel's messages as they arrive
  roomz --help | --version

The server URL defaults to $ROOMZ_SERVER, else http://localhost:8000.
`;

async function serve(): Promise<number> {
  const { loadConfig, ConfigError } = await import("./server/config");
  const { startServer } = await import("./server/server");
  const { DatabaseUnusable } = await import("./engine/embedded/database");
  let running;
  try {
    running = await startServer(loadConfig());
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DatabaseUnusable) {
      process.stderr.write(`roomz: ${error.message}\n`);
      return 2;
    }
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`roomz: could not start: ${reason}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = () => void running.shutdown().then(resolve);
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const invokedAs = basename(process.argv0 || "");
  const [command, ...rest] = invokedAs.startsWith("roomz-cli") ? ["cli", ...argv] : argv;
  switch (command) {
    case undefined:
    case "serve":
      return serve();
    case "cli":
      return (await import("./cli")).runCli(rest);
    case "send":
      return (await import("./cli")).runSend(rest);
    case "listen":
      return (await import("./cli")).runListen(rest);
    case "--version":
    case "-v":
      process.stdout.write(`roomz ${pkg.version}\n`);
      return 0;
    case "--help":
    case "-h":
    case "help":
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`roomz: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
