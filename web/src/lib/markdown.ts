/**
 * Markdown in messages, read by marked's lexer only (GFM, line breaks kept): its tokens
 * are drawn by views/markdown as Solid elements and text nodes. Nothing is ever parsed
 * as HTML (no innerHTML anywhere): raw HTML in a message stays visible text, and a link
 * is kept only when it is http(s) or mailto.
 */
import { Marked, type Token, type Tokens } from "marked";

const marked = new Marked({ gfm: true, breaks: true });

export type { Token, Tokens };

export function parseMarkdown(content: string): Token[] {
  return marked.lexer(content);
}

/** The normalised address when it is http, https or mailto; else null (shown as text). */
export function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" || url.protocol === "mailto:" ? url.href : null;
  } catch {
    return null;
  }
}
