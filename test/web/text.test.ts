/** The UI's pure helpers: code-point counting, link detection, merging pages by seq. */
import { expect, test } from "bun:test";
import type { ChatMessage } from "../../src/protocol";
import { connectionLabel, waitText } from "../../web/src/lib/format";
import { codePoints, isBlank } from "../../src/protocol";
import { linkify, safeHref } from "../../web/src/lib/text";
import { mergeBySeq } from "../../web/src/store/messages";
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

test("only http and https become links, without trailing punctuation", () => {
  expect(linkify("see https://example.com/a?b=1, then")).toEqual([
    { kind: "text", text: "see " },
    { kind: "link", text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" },
    { kind: "text", text: ", then" },
  ]);
  expect(linkify("(http://x.org/wiki/A_(b))").map((s) => s.text)).toEqual(["(", "http://x.org/wiki/A_(b)", ")"]);
  expect(linkify("javascript:alert(1) data:text/html,<b>x</b>")).toEqual([
    { kind: "text", text: "javascript:alert(1) data:text/html,<b>x</b>" },
  ]);
  expect(safeHref("javascript:alert(1)")).toBeNull();
  expect(linkify("<img src=x onerror=alert(1)>")).toEqual([{ kind: "text", text: "<img src=x onerror=alert(1)>" }]);
});

const msg = (seq: number): ChatMessage => ({
  id: `m${seq}`,
  seq,
  client_msg_id: null,
  user: { id: "user:a@example.com", email: "a@example.com", display_name: null },
  connection_id: "c1",
  content: `#${seq}`,
  timestamp: "2026-01-01T00:00:00.000Z",
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
