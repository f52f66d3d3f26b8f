/**
 * `roomz listen [--server URL] [--json]`: prints the channel's messages as they arrive,
 * resuming with `since` across reconnects. With --json, each line is one message's data.
 * Messages go to standard output; connection news goes to standard error.
 */
import { describeState, formatMessage } from "./describe";
import { cachedClient, EXIT, parseOrExit, stopOutcome } from "./one-shot";

const USAGE = "Usage: roomz listen [--server URL] [--json]";

export async function runListen(argv: string[]): Promise<number> {
  const parsed = parseOrExit(argv, USAGE, { json: true });
  if (typeof parsed === "number") return parsed;
  const client = cachedClient(parsed.server);
  if (!client) return EXIT.notSignedIn;

  const outcome = new Promise<number>((resolve) => {
    const quit = () => resolve(EXIT.done);
    process.once("SIGINT", quit);
    process.once("SIGTERM", quit);
    // A closed pipe (`roomz listen | head -1`) ends listening quietly.
    process.stdout.on("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EPIPE" ? EXIT.done : EXIT.refused));
    client.on("message", (m) => {
      process.stdout.write(`${parsed.json ? JSON.stringify(m) : formatMessage(m, false)}\n`);
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
