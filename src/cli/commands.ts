/**
 * The slash commands of the interactive terminal. Each maps to one client call and
 * reports the outcome in one sentence; the CLI never builds requests itself.
 */
import type { RoomzClient } from "../client/client";
import { explain, formatMessage } from "./describe";
import type { Style } from "./style";

export interface CliContext {
  client: RoomzClient;
  server: string;
  style: Style;
  signedIn(): boolean;
  say(text: string): void;
  warn(text: string): void;
  /** Connects (after a sign-in), reporting failures through the state events. */
  start(): void;
  /** Ends the session on the server (the stop this causes is not reported as a refusal). */
  signOut(): Promise<void>;
  quit(): void;
}

export const HELP = [
  "/login <email>   ask for a sign-in link (the email also holds a token)",
  "/token <token>   sign in with the token from the email (or paste its whole link)",
  "/name [name]     set this terminal's display name; no name clears it",
  "/history [n]     show the last n messages (default 20, at most 200)",
  "/logout          sign out and end this session",
  "/quit            leave (Ctrl-D works too)",
  "/help            this list",
  "Anything else is sent as a message.",
].join("\n");

type Handler = (ctx: CliContext, arg: string) => Promise<void> | void;

/** The token itself, from a bare token or from the sign-in link it came in (`...?token=T`). */
function tokenOf(text: string): string {
  if (!/^https?:\/\//i.test(text)) return text;
  try {
    return new URL(text).searchParams.get("token") ?? text;
  } catch {
    return text;
  }
}

const COMMANDS: Record<string, Handler> = {
  async login(ctx, arg) {
    const email = arg.trim();
    if (!email) return ctx.warn("Usage: /login <email>");
    await ctx.client.requestMagicLink(email);
    ctx.say(`If ${email} may use this server, a sign-in link is on its way. Open it, or type /token followed by the link or the token from the email.`);
  },
  async token(ctx, arg) {
    const token = tokenOf(arg.trim());
    if (!token) return ctx.warn("Usage: /token <token> (the token, or the whole link, from the sign-in email)");
    const result = await ctx.client.verifyToken(token);
    ctx.say(ctx.style.green(`Signed in as ${result.user.email}.`));
    ctx.start();
  },
  async name(ctx, arg) {
    if (!requireSignIn(ctx)) return;
    const name = await ctx.client.setDisplayName(arg.trim() === "" ? null : arg.trim());
    ctx.say(name === null ? "Display name cleared." : `Display name set to "${name}".`);
  },
  async history(ctx, arg) {
    if (!requireSignIn(ctx)) return;
    const n = arg.trim() === "" ? 20 : Number(arg.trim());
    if (!Number.isInteger(n) || n < 1 || n > 200) return ctx.warn("Usage: /history [n], with n from 1 to 200.");
    const page = await ctx.client.history({ limit: n });
    if (page.messages.length === 0) return ctx.say("No messages yet.");
    ctx.say(ctx.style.dim(`--- last ${page.messages.length} message${page.messages.length === 1 ? "" : "s"} ---`));
    for (const m of page.messages) ctx.say(formatMessage(m, m.connection_id === ctx.client.connectionId));
    ctx.say(ctx.style.dim("--- end of history ---"));
  },
  async logout(ctx) {
    if (!ctx.signedIn()) return ctx.say("You are not signed in.");
    await ctx.signOut();
    ctx.say("Signed out. Type /login <email> to sign in again.");
  },
  quit(ctx) {
    ctx.quit();
  },
  help(ctx) {
    ctx.say(HELP);
  },
};

function requireSignIn(ctx: CliContext): boolean {
  if (ctx.signedIn()) return true;
  ctx.warn("You are not signed in. Type /login <email> first.");
  return false;
}

/** Runs one typed line: a command, or a message to send. */
export async function handleLine(ctx: CliContext, line: string): Promise<void> {
  const text = line.replace(/\r?\n$/, "");
  if (text.trim() === "") return;
  try {
    if (text.startsWith("/")) {
      const [, word, arg = ""] = text.match(/^\/(\S*)\s*([\s\S]*)$/) ?? [];
      const handler = COMMANDS[word?.toLowerCase() ?? ""];
      if (!handler) return ctx.warn(`Unknown command /${word}. Type /help for the list.`);
      return await handler(ctx, arg);
    }
    if (!requireSignIn(ctx)) return;
    if (ctx.client.state.status !== "connected") ctx.say(ctx.style.dim("(not connected: the message waits and is sent on reconnect)"));
    await ctx.client.send(text);
  } catch (error) {
    ctx.warn(explain(error, ctx.server));
  }
}
