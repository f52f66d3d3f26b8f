/**
 * `roomz listen [--server URL] [--token TOKEN] [--json] [--download DIR]`: prints the channel's messages
 * as they arrive, resuming with `since` across reconnects; a message's files follow it,
 * one line each (name, size, link). With --json, each line is one message's data. With
 * --download, arriving files are also saved into DIR (one at a time, in order).
 * Messages go to standard output; connection news goes to standard error. With an access
 * token (--token or ROOMZ_TOKEN, scope `read` or `full`) it follows `GET /api/stream`
 * instead of a WebSocket, resuming with Last-Event-ID.
 */
import { existsSync } from "node:fs";
import { describeState, explain, formatMessage } from "./describe";
import { saveFile } from "./downloads";
import { cachedClient, EXIT, parseOrExit, stopOutcome, tokenRefusal } from "./one-shot";
import { followStream } from "../client/event-stream";
import type { ChatMessage } from "../protocol";

const USAGE = "Usage: roomz listen [--server URL] [--token TOKEN] [--json] [--download DIR]   (ROOMZ_TOKEN works as --token)";

export async function runListen(argv: string[]): Promise<number> {
  const parsed = parseOrExit(argv, USAGE, { json: true, download: true, token: true });
  if (typeof parsed === "number") return parsed;
  if (parsed.token) {
    const print = (m: ChatMessage) => process.stdout.write(`${parsed.json ? JSON.stringify(m) : formatMessage(m, false)}\n`);
    return listenWithToken(parsed.server, parsed.token, print);
  }
  if (parsed.download !== null && !existsSync(parsed.download)) {
    console.error(`No directory at ${parsed.download}.\n${USAGE}`);
    return EXIT.usage;
  }
  const downloadDir = parsed.download;
  const client = cachedClient(parsed.server);
  if (!client) return EXIT.notSignedIn;

  const outcome = new Promise<number>((resolve) => {
    const quit = () => resolve(EXIT.done);
    process.once("SIGINT", quit);
    process.once("SIGTERM", quit);
    // A closed pipe (`roomz listen | head -1`) ends listening quietly.
    process.stdout.on("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EPIPE" ? EXIT.done : EXIT.refused));
    let saving = Promise.resolve();
    client.on("message", (m) => {
      process.stdout.write(`${parsed.json ? JSON.stringify(m) : formatMessage(m, false, client.fileUrl.bind(client))}\n`);
      if (downloadDir === null) return;
      for (const file of m.files ?? [])
        saving = saving.then(() =>
          saveFile(client, file, downloadDir).then(
            (path) => console.error(`Saved ${path}`),
            (error) => console.error(`Could not save ${file.name}: ${explain(error, parsed.server)}`),
          ),
        );
    });
    client.on("connection_state", (state) => {
      if (state.status === "stopped") {
        if (state.stop === "closed") return;
        const { code, text } = stopOutcome(parsed.server, state);
        console.error(text);
        return resolve(code);
      }
      const line = describeState(state, parsed.server);
      if (line) console.error(line);
    });
  });
  client.connect().catch(() => {});
  const code = await outcome;
  client.close();
  return code;
}

async function listenWithToken(server: string, token: string, print: (m: ChatMessage) => void): Promise<number> {
  const stop = new AbortController();
  const quit = () => stop.abort();
  process.once("SIGINT", quit);
  process.once("SIGTERM", quit);
  process.stdout.on("error", quit);
  const refused = await followStream({
    server,
    credential: token,
    onMessage: print,
    onConnected: () => console.error(`Connected to ${server}.`),
    onReset: () => console.error("The server's message store was reset; showing its newest messages."),
    onRetry: (reason, wait) => console.error(`Disconnected (${reason}); reconnecting in ${Math.ceil(wait / 1000)} s.`),
    signal: stop.signal,
  });
  if (!refused) return EXIT.done;
  const { code, text } = tokenRefusal(refused, server);
  console.error(text);
  return code;
}
