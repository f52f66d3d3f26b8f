#!/usr/bin/env bun
/**
 * The one executable: `roomz [serve]` runs the server; `roomz cli|send|listen` are its
 * client side (also `roomz-cli` when invoked by that name); `roomz backup|restore` look
 * after the embedded store.
 */
import { basename } from "node:path";
import pkg from "../package.json" with { type: "json" };

const HELP = `roomz ${pkg.version}: self-hosted real-time chat

Usage:
  roomz [serve]                      run the server (configured by environment, see roomz serve --help)
  roomz cli [--server URL]           interactive terminal client
  roomz send [--server URL] [--token TOKEN] [--file PATH] [text]
                                     send one message (text, or standard input); --file attaches a file
  roomz listen [--server URL] [--token TOKEN] [--json] [--download DIR]
                                     print the channel's messages as they arrive (and save their files)
  roomz token create NAME [--scope send|read|full] [--expires DAYS] | list | revoke ID
                                     access tokens for scripts (with the cached session)
  roomz backup FILE                  write a consistent copy of the embedded store while the server runs
  roomz restore FILE                 with the server stopped, put a backup in place
  roomz COMMAND --help               help for one command
  roomz --help | --version

The server URL defaults to $ROOMZ_SERVER, else http://localhost:8000; $ROOMZ_TOKEN works as --token.
`;

const SERVE_HELP = `Usage: roomz [serve]

Runs the Roomz server. It takes no arguments: it is configured by environment variables,
and a bad value stops it at start with one line naming the variable and the fix.

  PORT, HOST                8000, 0.0.0.0 (an IPv4 or IPv6 address of this machine, or a host name)
  PUBLIC_URL                the origin people use, like https://chat.example.com (no path)
  JWT_SECRET_KEY            at least 32 characters; unset: generated once into ROOMZ_DATA_DIR
  ALLOWED_EMAILS            comma-separated addresses that may sign in
  ALLOWED_EMAILS_FILE       one address a line, # comments; re-read on SIGHUP
  EMAIL_SENDER              console (default: links printed) or resend (RESEND_API_KEY, EMAIL_FROM)
  JWT_EXPIRY_DAYS           30
  MAGIC_LINK_EXPIRY_MINUTES 15
  MAGIC_LINK_RATE_LIMIT     5 per address per hour
  MAGIC_LINK_IP_RATE_LIMIT  30 per client address per hour
  TRUST_PROXY               false; true behind one reverse proxy (X-Forwarded-For)
  MAX_CONNECTIONS_PER_USER  32
  MAX_MESSAGE_LENGTH        4000 code points
  MESSAGE_RATE_LIMIT        50 messages per 10 s per connection
  MAX_FRAME_BYTES           65536
  SEND_BUFFER_BYTES         1048576
  ROOMZ_DATA_DIR            ./roomz-data (made private: 0700, files 0600)
  REDIS_URL                 unset; redis://host:6379 to run several instances
  METRICS_LISTEN            unset; host:port of a listener serving only GET /metrics
  MAX_FILE_BYTES            104857600 (100 MiB) per upload
  USER_QUOTA_BYTES          10737418240 (10 GiB) of files per user
  S3_URL                    unset; s3://KEY:SECRET@host:port/bucket to keep files in a bucket
  VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY  Web Push key pair; unset: generated once into ROOMZ_DATA_DIR
                            (set both, the same on every instance, when running several)
  VAPID_SUBJECT             mailto: or https: contact for push services; default PUBLIC_URL
  PUSH_ENDPOINT_ALLOW       origins of push services allowed though not https on a public address

Example: ALLOWED_EMAILS=you@example.com PORT=8080 roomz serve
The README (Configuration) has the details.
`;

/**
 * The public listener's failure (Bun.serve's error code), in the configuration's words:
 * one line naming HOST or PORT and the fix; null for any other error.
 */
function listenFailure(error: unknown, host: string, port: number): string | null {
  const { code, syscall } = (error ?? {}) as { code?: string; syscall?: string };
  if (syscall !== "listen" || !code) return null;
  switch (code) {
    case "EADDRINUSE":
      return `PORT: port ${port} on ${host} is already in use by another program; stop that program, or set PORT to a free port.`;
    case "EADDRNOTAVAIL":
      return `HOST: ${host} is not an address of this machine (or does not resolve to one); set HOST to one of its addresses, or 0.0.0.0 for all of them.`;
    case "EACCES":
    case "EPERM":
      return `PORT: not permitted to listen on port ${port}; use a port above 1023, or give roomz the right to bind low ports (CAP_NET_BIND_SERVICE).`;
    case "EAFNOSUPPORT":
      return `HOST: this machine does not support the address family of ${host} (IPv6 disabled?); set HOST to an IPv4 address such as 0.0.0.0.`;
    default:
      return `HOST, PORT: cannot listen on ${host} port ${port} (${code}); check both values.`;
  }
}

async function serve(args: string[]): Promise<number> {
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  if (args.length > 0) {
    const flag = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/.exec(args[0]);
    const name = flag?.[1].toUpperCase().replace(/-/g, "_");
    const hint =
      name && new RegExp(`^  (?:[A-Z_]+, )*${name}[ ,]`, "m").test(SERVE_HELP)
        ? `set ${name} in the environment instead (${name}=${flag![2] ?? args[1] ?? "..."} roomz serve)`
        : "the server is configured by environment variables";
    process.stderr.write(`roomz serve: unexpected argument "${args[0]}"; it takes none: ${hint}.\nRun \`roomz serve --help\` for the settings.\n`);
    return 2;
  }
  const { loadConfig } = await import("./server/config");
  const { ConfigError } = await import("./server/config-error");
  const { startServer } = await import("./server/server");
  const { DatabaseUnusable } = await import("./engine/embedded/database");
  let running;
  let config;
  try {
    config = loadConfig();
    running = await startServer(config);
  } catch (error) {
    // Configuration, the data directory and the address to listen on: exit 2, as section 3.
    const known = error instanceof ConfigError || error instanceof DatabaseUnusable ? error.message : config && listenFailure(error, config.host, config.port);
    const line = known || `could not start: ${error instanceof Error ? error.message : String(error)}`;
    const code = known ? 2 : 1;
    process.stderr.write(`roomz: ${line}\n`);
    // A store opened before the failure (a Redis connection, its heartbeat) would keep
    // the process alive with nothing listening.
    if (config) process.exit(code);
    return code;
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
  // The server side's files (the data directory, a backup) are the owner's alone: 0600
  // and 0700 from the first file made (PROTOCOL.md section 3; config.ts fixes older ones).
  if (command === undefined || command === "serve" || command === "backup" || command === "restore") process.umask(0o077);
  switch (command) {
    case undefined:
      return serve([]);
    case "serve":
      return serve(rest);
    case "cli":
      return (await import("./cli")).runCli(rest);
    case "send":
      return (await import("./cli")).runSend(rest);
    case "listen":
      return (await import("./cli")).runListen(rest);
    case "token":
      return (await import("./cli")).runToken(rest);
    case "backup":
      return (await import("./cli/backup")).runBackup(rest);
    case "restore":
      return (await import("./cli/backup")).runRestore(rest);
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
      process.stderr.write(`roomz: unknown ${command.startsWith("-") ? "option" : "command"} "${command}"\n\n${HELP}`);
      return 2;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
