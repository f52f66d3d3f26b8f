/**
 * The log of every part (server, engines, commands): one line per event on stderr, never
 * a token, secret or stack trace.
 * Standard output is kept for the console sender's magic-link lines.
 */
function line(level: string, message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
}

export const log = {
  info: (message: string) => line("info", message),
  warn: (message: string) => line("warn", message),
  error: (message: string) => line("error", message),
};

/** A failure's name and message only: stacks never reach the log. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** A URL without its credentials (`redis://user:secret@host` → `redis://***@host`), for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}
