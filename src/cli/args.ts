/** Command-line flags shared by `roomz cli`, `send`, `listen` and `token`. */
import { normalizeServer } from "../client/urls";

export const DEFAULT_SERVER = "http://localhost:8000";

export interface Parsed {
  server: string;
  json: boolean;
  help: boolean;
  rest: string[];
  /** `send --file PATH`: the file to attach. */
  file: string | null;
  /** `listen --download DIR`: where arriving files are saved. */
  download: string | null;
  /** `--token` (when allowed), else ROOMZ_TOKEN: an access token used instead of the cached session. */
  token: string | null;
  /** Other `--name value` flags a command allows (`token create --scope`, `--expires`). */
  options: Record<string, string>;
}

/** Which optional flags a command takes. */
export interface Allowed {
  json?: boolean;
  text?: boolean;
  file?: boolean;
  download?: boolean;
  token?: boolean;
  options?: string[];
}

/** Thrown for a usage error (exit status 2). */
export class UsageError extends Error {}

/**
 * Reads `--server URL` / `--server=URL`, `--json` (when allowed), `--help`; `--` ends the
 * flags. Everything else is returned in `rest`. The server comes from --server, else
 * ROOMZ_SERVER, else http://localhost:8000; the token from --token, else ROOMZ_TOKEN.
 */
export function parseArgs(argv: string[], allow: Allowed = {}): Parsed {
  const parsed: Parsed = { server: "", json: false, help: false, rest: [], file: null, download: null, token: null, options: {} };
  let server: string | undefined;
  let token: string | undefined;
  const valued = [...(allow.token ? ["token"] : []), ...(allow.options ?? [])];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const flag = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    if (flag && valued.includes(flag[1])) {
      const value = flag[2] ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${flag[1]} needs a value.`);
      if (flag[1] === "token") token = value;
      else parsed.options[flag[1]] = value;
    } else if (arg === "--") {
      parsed.rest.push(...argv.slice(i + 1));
      break;
    } else if (arg === "--server" || arg === "-s") {
      server = argv[++i];
      if (server === undefined) throw new UsageError(`${arg} needs a URL, e.g. --server https://chat.example.com`);
    } else if (arg.startsWith("--server=")) server = arg.slice("--server=".length);
    else if (arg === "--json" && allow.json) parsed.json = true;
    else if ((arg === "--file" && allow.file) || (arg === "--download" && allow.download)) {
      const value = argv[++i];
      if (value === undefined || value === "") throw new UsageError(`${arg} needs a ${arg === "--file" ? "file" : "directory"}.`);
      if (arg === "--file") parsed.file = value;
      else parsed.download = value;
    }
    else if (arg === "--help" || arg === "-h") parsed.help = true;
    else if (arg.startsWith("-") && arg !== "-" && !(allow.text && parsed.rest.length > 0)) throw new UsageError(`Unknown option ${arg}.`);
    else if (allow.text) parsed.rest.push(arg);
    else throw new UsageError(`Unexpected argument "${arg}".`);
  }
  parsed.server = checkServer(server ?? process.env.ROOMZ_SERVER ?? DEFAULT_SERVER);
  if (allow.token) parsed.token = token?.trim() || process.env.ROOMZ_TOKEN?.trim() || null;
  return parsed;
}

function checkServer(value: string): string {
  const server = normalizeServer(value);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`"${value}" is not a server address; use a URL like http://localhost:8000.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`The server address must start with http:// or https:// (got "${value}").`);
  // Roomz is served at the root of its address: a path would reach the web app, not the API.
  if (url.pathname !== "/" || url.search || url.hash || url.username)
    throw new UsageError(`The server address is just the scheme, host and port, like https://chat.example.com (got "${value}").`);
  return url.origin; // lower-case host, no default port: one spelling per server in the session cache
}
