/**
 * `roomz token create NAME [--scope send|read|full] [--expires DAYS]`, `roomz token list`,
 * `roomz token revoke ID` (PROTOCOL.md sections 5 and 6), with the cached session. `create`
 * prints the token alone on standard output (for `$(roomz token create ...)`), the rest on
 * standard error.
 */
import type { RoomzClient } from "../client/client";
import { TOKEN_SCOPES, type TokenInfo, type TokenScope } from "../protocol";
import { explain } from "./describe";
import { cachedClient, EXIT, parseOrExit } from "./one-shot";

const USAGE = `Usage:
  roomz token create NAME [--scope send|read|full] [--expires DAYS]   (default scope send, no expiry)
  roomz token list
  roomz token revoke ID
  (each with [--server URL]; they use the session of \`roomz cli\`'s /login)`;

export async function runToken(argv: string[]): Promise<number> {
  const parsed = parseOrExit(argv, USAGE, { text: true, options: ["scope", "expires"] });
  if (typeof parsed === "number") return parsed;
  const [action, ...args] = parsed.rest;
  const usage = (why: string) => (console.error(`${why}\n${USAGE}`), EXIT.usage);
  if (action !== "create" && action !== "list" && action !== "revoke") return usage(action ? `Unknown action "${action}".` : "Say what to do.");
  const scope = (parsed.options.scope ?? "send") as TokenScope;
  if (!TOKEN_SCOPES.includes(scope)) return usage(`--scope must be send, read or full.`);
  const expires = parsed.options.expires === undefined ? null : Number(parsed.options.expires);
  if (expires !== null && !(Number.isInteger(expires) && expires >= 1)) return usage("--expires takes a whole number of days.");
  if (action === "create" && args.length === 0) return usage("Give the token a name.");
  if (action === "revoke" && args.length !== 1) return usage("Give the id of one token (see `roomz token list`).");
  if (action === "list" && args.length > 0) return usage(`Unexpected argument "${args[0]}".`);
  const client = cachedClient(parsed.server);
  if (!client) return EXIT.notSignedIn;
  try {
    if (action === "create") await create(client, args.join(" "), scope, expires);
    else if (action === "list") list(await client.listTokens());
    else await client.revokeToken(args[0]).then(() => console.error(`Revoked ${args[0]}; its connections closed.`));
    return EXIT.done;
  } catch (error) {
    console.error(explain(error, parsed.server));
    return EXIT.refused;
  }
}

async function create(client: RoomzClient, name: string, scope: TokenScope, expires: number | null) {
  const created = await client.createToken(name, scope, expires);
  process.stdout.write(`${created.token}\n`);
  const until = created.expires_at ? `until ${created.expires_at}` : "with no expiry";
  console.error(`Token "${created.name}" (id ${created.id}, scope ${created.scope}, ${until}). It is shown only this once: keep it now.`);
}

function list(tokens: TokenInfo[]) {
  if (tokens.length === 0) return console.log("No tokens.");
  for (const t of tokens)
    console.log(`${t.id}  ${t.scope.padEnd(4)}  ${JSON.stringify(t.name)}  created ${t.created_at}  expires ${t.expires_at ?? "never"}  last used ${t.last_used_at ?? "never"}`);
}
