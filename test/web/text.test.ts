/** The UI's pure helpers: code-point counting, Markdown tokens and safe links, merging pages by seq, finding a day. */
import { expect, test } from "bun:test";
import type { ChatMessage } from "../../src/protocol";
import { connectionLabel, waitText } from "../../web/src/lib/format";
import { fileSize } from "../../src/client/uploads";
import { dayKey, dayLabel } from "../../web/src/lib/days";
import { codePoints, isBlank } from "../../src/protocol";
import { parseMarkdown, safeHref } from "../../web/src/lib/markdown";
import { mergeBySeq } from "../../web/src/store/merge";
import { findSeqAt } from "../../web/src/store/seek";
import { landingMessage } from "../../web/src/store/session";

test("lengths count code points (the one rule of src/protocol the server and the UI share)", () => {
  expect(codePoints("😀")).toBe(1);
  expect("😀".length).toBe(2);
  expect(codePoints("e\u0301")).toBe(2); // no normalisation
  expect(codePoints("👩‍👩‍👧")).toBe(5);
  expect(codePoints("\ud800x")).toBe(2); // a lone surrogate is one
});

test("only Unicode White_Space is blank", () => {
  expect(isBlank(" \n\t\u00a0\u2003\u0085")).toBe(true);
  expect(isBlank(" a ")).toBe(false);
  // U+180E and U+FEFF are not White_Space: the server takes them as content, so the UI must too
  expect(isBlank("\u180e")).toBe(false);
  expect(isBlank("\ufeff")).toBe(false);
});

/** The inline tokens of a one-paragraph message, as [type, text] pairs. */
const inline = (content: string) =>
  (parseMarkdown(content)[0] as { tokens: { type: string; text: string; href?: string }[] }).tokens.map((t) => [t.type, t.href ?? t.text]);

test("links: http(s), www. and mailto become link tokens; anything else stays text", () => {
  expect(inline("see https://example.com/a?b=1, then")).toEqual([
    ["text", "see "],
    ["link", "https://example.com/a?b=1"],
    ["text", ", then"],
  ]);
  expect(inline("go to www.example.com")).toEqual([["text", "go to "], ["link", "http://www.example.com"]]);
  expect(inline("write mailto:a@b.co")).toEqual([["text", "write "], ["link", "mailto:a@b.co"]]);
  expect(safeHref("javascript:alert(1)")).toBeNull();
  expect(safeHref("data:text/html,<b>x</b>")).toBeNull();
  expect(safeHref("mailto:a@b.co")).toBe("mailto:a@b.co");
  // Raw HTML is a token the view draws as its characters, never parsed.
  expect(inline("a <img src=x onerror=alert(1)>")[1]).toEqual(["html", "<img src=x onerror=alert(1)>"]);
  expect(parseMarkdown("<script>alert(1)</script>")[0].type).toBe("html");
});

test("a day is found by halving the seqs: the first message at or after it", async () => {
  const day = (seq: number) => `2026-01-${String(Math.ceil(seq / 10)).padStart(2, "0")}T12:00:00.000Z`;
  let reads = 0;
  const at = async (seq: number) => (reads++, { ...msg(seq), timestamp: day(seq) });
  expect(await findSeqAt(Date.parse("2026-01-03T00:00:00Z"), 100, at)).toBe(21);
  expect(reads).toBeLessThanOrEqual(7);
  expect(await findSeqAt(Date.parse("2025-01-01T00:00:00Z"), 100, at)).toBe(1);
  expect(await findSeqAt(Date.parse("2027-01-01T00:00:00Z"), 100, at)).toBe(100);
});

const msg = (seq: number): ChatMessage => ({
  id: `m${seq}`,
  seq,
  client_msg_id: null,
  user: { id: "user:a@example.com", email: "a@example.com", display_name: null },
  connection_id: "c1",
  content: `#${seq}`,
  timestamp: "2026-01-01T00:00:00.000Z",
  files: [],
});

test("pages and live messages merge by seq, each once, ascending", () => {
  const held = [msg(5), msg(6)];
  expect(mergeBySeq(held, [msg(7), msg(8)]).map((m) => m.seq)).toEqual([5, 6, 7, 8]);
  expect(mergeBySeq(held, [msg(3), msg(4), msg(5)]).map((m) => m.seq)).toEqual([3, 4, 5, 6]);
  expect(mergeBySeq(held, [msg(6), msg(7), msg(7)]).map((m) => m.seq)).toEqual([5, 6, 7]);
  expect(mergeBySeq([], [msg(2), msg(1)]).map((m) => m.seq)).toEqual([1, 2]);
});

test("labels, waits and landing errors read as sentences", () => {
  expect(connectionLabel("conn_abcdef12", "Laptop", true)).toBe("Laptop");
  expect(connectionLabel("conn_abcdef12", null, true)).toBe("this device");
  expect(connectionLabel("conn_abcdef12", null, false)).toBe("device ef12");
  expect(waitText(42)).toBe("42 s");
  expect(waitText(3600)).toBe("60 min");
  expect(waitText(3 * 3600)).toBe("3 h");
  expect(landingMessage("expired_token")).toMatch(/expired/);
  expect(landingMessage("something_new")).toMatch(/Request a new link/);
});

test("day separators read Today, Yesterday, a weekday and date, or a date with its year", () => {
  const now = new Date(2026, 11, 2, 9, 0);
  expect(dayLabel(new Date(2026, 11, 2, 0, 5).toISOString(), now)).toBe("Today");
  expect(dayLabel(new Date(2026, 11, 1, 23, 55).toISOString(), now)).toBe("Yesterday");
  expect(dayLabel(new Date(2026, 10, 20, 12).toISOString(), now)).toMatch(/20/);
  expect(dayLabel(new Date(2025, 10, 20, 12).toISOString(), now)).toMatch(/2025/);
  expect(dayKey(new Date(2026, 11, 2, 0, 5).toISOString())).toBe(dayKey(new Date(2026, 11, 2, 23, 55).toISOString()));
});

test("file sizes read in the units a person uses", () => {
  expect(fileSize(812)).toBe("812 B");
  expect(fileSize(1400)).toBe("1.4 kB");
  expect(fileSize(1_400_000)).toBe("1.4 MB");
  expect(fileSize(250_000_000)).toBe("250 MB");
});
