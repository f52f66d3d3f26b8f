/**
 * `roomz cli`: the interactive terminal client. Cached sessions are per server; a cached
 * session the server refuses is removed, with a hint to /login.
 */
import { clientWithCache } from "../client/create-client";
import { parseArgs, UsageError } from "./args";
import { handleLine, type CliContext } from "./commands";
import { describeState, formatMessage } from "./describe";
import { makeStyle } from "./style";
import { Terminal } from "./terminal";

const USAGE = "Usage: roomz cli [--server URL]   (server: --server, else ROOMZ_SERVER, else http://localhost:8000)";

export async function runCli(argv: string[]): Promise<number> {
  let server: string;
  try {
    const parsed = parseArgs(argv);
    if (parsed.help) return (console.log(USAGE), 0);
    server = parsed.server;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }

  const style = makeStyle(process.stdout);
  const { client, saved: cached } = clientWithCache({ server, onSession: (s) => (session = s?.session ?? null) });
  let session = cached?.session ?? null;
  let usedCache = Boolean(cached);
  let signingOut = false;
  const term = new Terminal(process.stdin, process.stdout, style.bold("roomz> "));
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  const ctx: CliContext = {
    client,
    server,
    style,
    signedIn: () => session !== null,
    say: (text) => term.print(text),
    warn: (text) => term.print(style.red(text)),
    start: () => {
      usedCache = false;
      client.connect().catch(() => {}); // failures arrive as connection_state
    },
    signOut: async () => {
      signingOut = true;
      usedCache = false;
      try {
        await client.logout();
      } finally {
        signingOut = false;
      }
    },
    quit: () => leave(),
  };

  // Leaving with messages still waiting for the server would lose them: the first /quit
  // (or Ctrl-C) says so, the second leaves, and the exit status tells a script.
  let warnedUnsent = false;
  function leave() {
    const waiting = client.unsent().length;
    if (waiting > 0 && !warnedUnsent) {
      warnedUnsent = true;
      return ctx.warn(`${waiting === 1 ? "1 message is" : `${waiting} messages are`} not sent yet: ${waiting === 1 ? "it waits" : "they wait"} for the server. /quit (or Ctrl-C) again to leave anyway, and lose ${waiting === 1 ? "it" : "them"}.`);
    }
    term.close();
  }

  client.on("message", (m) => ctx.say(formatMessage(m, m.connection_id === client.connectionId)));
  client.on("user_joined", (d) => ctx.say(style.dim(`Another connection opened (${d.total_connections} open).`)));
  client.on("user_left", (d) => ctx.say(style.dim(`A connection closed (${d.remaining_connections} open).`)));
  client.on("display_name_changed", (d) =>
    ctx.say(style.dim(d.user.display_name ? `A connection is now called "${d.user.display_name}".` : "A connection cleared its name.")),
  );
  client.on("connection_state", (state) => {
    if (signingOut) return; // the /logout command reports its own outcome
    if (state.status === "stopped" && state.stop === "signed_out" && usedCache) {
      usedCache = false;
      return ctx.warn("Your saved session was refused by the server, so it was removed. Type /login <email> to sign in again.");
    }
    const line = describeState(state, server);
    if (line) ctx.say(state.status === "connected" ? style.green(line) : state.status === "stopped" ? style.red(line) : style.yellow(line));
  });

  ctx.say(`${style.bold("Roomz")} at ${server}. Type /help for commands.`);
  if (cached) {
    ctx.say(`Signed in as ${cached.email} (saved session).`);
    client.connect().catch(() => {});
  } else ctx.say("Not signed in. Type /login <email> to get a sign-in link.");
  term.prompt();

  // Lines are handled at once: the client's outbox keeps requests in typed order, and a
  // message queued while offline must not hold up /quit.
  term.rl.on("line", (line) => void handleLine(ctx, line));
  term.rl.on("SIGINT", () => leave());
  term.rl.on("close", () => done());
  await finished;
  const lost = client.unsent();
  client.close();
  process.stdin.pause();
  if (lost.length === 0) return 0;
  for (const message of lost) console.error(style.red(`Not sent: ${JSON.stringify(message.content)}`));
  return 1;
}
