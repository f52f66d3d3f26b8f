/** Terminal colours, only when the output is a terminal and NO_COLOR is unset. */
export interface Style {
  dim(text: string): string;
  bold(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

export function makeStyle(stream: { isTTY?: boolean }): Style {
  const on = Boolean(stream.isTTY) && !process.env.NO_COLOR;
  const wrap = (open: number, close: number) => (text: string) => (on ? `\x1b[${open}m${text}\x1b[${close}m` : text);
  return { dim: wrap(2, 22), bold: wrap(1, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };
}

/**
 * Content is shown as text, never as terminal commands: control and format characters
 * (escape sequences and bidi overrides included) become visible `\u{..}` codes, except tab,
 * newline and the zero-width joiners.
 */
const KEEP = new Set(["\n", "\t", "\u200c", "\u200d"]); // zero-width (non-)joiners build emoji and scripts

export function safeText(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}]/gu, (ch) => (KEEP.has(ch) ? ch : `\\u{${ch.codePointAt(0)!.toString(16)}}`));
}
