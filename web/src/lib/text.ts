/** Text helpers shared by the composer and the message view. */

export type Segment = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/giu;
const TRAILING = ".,;:!?)]}'\"»";

/** Drops punctuation that ends a sentence rather than the URL; a ")" stays when it closes a "(" of the URL. */
function trimUrl(url: string): string {
  let end = url.length;
  while (end > 0 && TRAILING.includes(url[end - 1])) {
    if (url[end - 1] === ")") {
      const part = url.slice(0, end);
      const opens = part.split("(").length - 1;
      const closes = part.split(")").length - 1;
      if (closes <= opens) break;
    }
    end--;
  }
  return url.slice(0, end);
}

/**
 * Splits message content into plain text and http(s) links. The result is rendered as
 * text nodes and anchors by Solid, never as HTML, so content can't inject markup.
 */
export function linkify(content: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (const match of content.matchAll(URL_PATTERN)) {
    const raw = trimUrl(match[0]);
    const href = safeHref(raw);
    if (!href) continue;
    const start = match.index!;
    if (start > last) segments.push({ kind: "text", text: content.slice(last, start) });
    segments.push({ kind: "link", text: raw, href });
    last = start + raw.length;
  }
  if (last < content.length) segments.push({ kind: "text", text: content.slice(last) });
  return segments;
}

/** Returns the normalised URL when it is http or https, else null. */
export function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}
