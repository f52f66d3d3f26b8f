/**
 * Who may sign in: ALLOWED_EMAILS joined with ALLOWED_EMAILS_FILE. The file is re-read
 * on SIGHUP; listeners hear which addresses were removed so their sockets close (4003).
 */
import { readAllowedEmailsFile, type Config } from "./config";
import { log } from "../log";

export class AllowList {
  private emails = new Set<string>();
  private removalListeners: Array<(removed: string[]) => void> = [];

  constructor(private config: Config) {
    this.emails = this.read();
  }

  has(email: string): boolean {
    return this.emails.has(email);
  }

  get size(): number {
    return this.emails.size;
  }

  onRemoved(listener: (removed: string[]) => void): void {
    this.removalListeners.push(listener);
  }

  /** Re-reads the file; on a read failure keeps the current list and says so. */
  reload(): void {
    let next: Set<string>;
    try {
      next = this.read();
    } catch (error) {
      log.error(`allow-list reload failed, keeping the current list: ${(error as Error).message}`);
      return;
    }
    const removed = [...this.emails].filter((email) => !next.has(email));
    this.emails = next;
    log.info(`allow-list reloaded: ${next.size} address(es), ${removed.length} removed`);
    if (removed.length) for (const listener of this.removalListeners) listener(removed);
  }

  private read(): Set<string> {
    const fromFile = this.config.allowedEmailsFile ? readAllowedEmailsFile(this.config.allowedEmailsFile) : [];
    return new Set([...this.config.allowedEmails, ...fromFile]);
  }
}
