/**
 * Sessions cached on disk for terminal clients and scripts, so a signed-in machine
 * reconnects without a new link: `~/.roomz/session.json` (directory 0700, file 0600), a
 * JSON object keyed by server URL without trailing slash. Uses node:fs, so the client
 * core never imports it (browsers keep their session in an httpOnly cookie).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { SessionInfo } from "./types.js";
import { normalizeServer } from "./urls.js";

export function defaultSessionFile(): string {
  return join(process.env.HOME || homedir(), ".roomz", "session.json");
}

export class SessionCache {
  constructor(readonly file: string = defaultSessionFile()) {}

  /** The cached session for `server`, or null when there is none or it has expired. */
  get(server: string): SessionInfo | null {
    const entry = this.read()[normalizeServer(server)];
    if (!entry || typeof entry.session !== "string") return null;
    if (entry.expires_at && Date.parse(entry.expires_at) <= Date.now()) return null;
    return entry;
  }

  /** Stores (or with null removes) the session for `server`. */
  set(server: string, session: SessionInfo | null): void {
    const all = this.read();
    const key = normalizeServer(server);
    if (session) all[key] = { session: session.session, email: session.email, expires_at: session.expires_at };
    else if (key in all) delete all[key];
    else return;
    this.write(all);
  }

  private read(): Record<string, SessionInfo> {
    try {
      const parsed = JSON.parse(readFileSync(this.file, "utf8"));
      return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }

  private write(all: Record<string, SessionInfo>): void {
    const dir = dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    // Write then rename, so a crash never leaves half a file; the file is 0600 from its first byte.
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, this.file);
  }
}
