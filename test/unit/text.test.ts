/**
 * src/protocol/text.ts (PROTOCOL.md conventions): code points, Unicode White_Space, control
 * characters (Cc, Cf). test/web/text.test.ts proves the UI counts and blanks the same way;
 * these are the edges of the rules themselves.
 */
import { describe, expect, test } from "bun:test";
import { codePoints, hasControlCharacters, isBlank, trimWhiteSpace } from "../../src/protocol/text";

/** Every code point of the Unicode White_Space property. */
const WHITE_SPACE = "\t\n\u000b\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

describe("codePoints", () => {
  test("a surrogate pair is one; a lone or reversed surrogate counts on its own", () => {
    expect(codePoints("")).toBe(0);
    expect(codePoints("𝄞a")).toBe(2);
    expect(codePoints("\ud800")).toBe(1);
    expect(codePoints("\udc00")).toBe(1);
    expect(codePoints("\udc00\ud800")).toBe(2); // low then high: not a pair
    expect(codePoints("x\ud83d")).toBe(2); // a high surrogate at the end
    expect(codePoints("\ud83d\ud83d\ude00")).toBe(2); // a lone high, then a pair
  });

  test("matches the string's own iteration for well-formed text", () => {
    for (const text of ["héllo", "👩‍👩‍👧", "🇫🇷🇩🇪", "a\u0301\u0302", "😀".repeat(100), "日本語テキスト"]) expect(codePoints(text)).toBe([...text].length);
  });
});

describe("White_Space", () => {
  test("all of White_Space is blank and trimmed, and nothing else", () => {
    expect(isBlank(WHITE_SPACE)).toBe(true);
    for (const c of WHITE_SPACE) expect(trimWhiteSpace(`${c}x${c}`)).toBe("x");
    // Look like space but are not White_Space: zero-width space, U+180E, word joiner, BOM.
    for (const c of ["\u200b", "\u180e", "\u2060", "\ufeff"]) {
      expect(isBlank(c)).toBe(false);
      expect(trimWhiteSpace(c)).toBe(c);
    }
  });

  test("trimming keeps inner white space and removes every run at the ends", () => {
    expect(trimWhiteSpace(" \u3000 a \u00a0 b\n\t")).toBe("a \u00a0 b");
    expect(trimWhiteSpace(WHITE_SPACE)).toBe("");
    expect(trimWhiteSpace("")).toBe("");
    expect(isBlank("")).toBe(true);
  });
});

describe("control characters", () => {
  test("Cc and Cf are control characters", () => {
    for (const c of ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085", "\u009f", "\u00ad", "\u200b", "\u200e", "\u202e", "\u2066", "\ufeff", "\u{e0001}"])
      expect({ c, control: hasControlCharacters(`a${c}b`) }).toEqual({ c, control: true });
    // So an emoji joined with U+200D ZERO WIDTH JOINER (Cf) is refused in a display name.
    expect(hasControlCharacters("👩‍👩‍👧")).toBe(true);
  });

  test("letters, marks, symbols, emoji sequences and ordinary spaces are not", () => {
    for (const text of ["Zoë", "e\u0301", "日本", "😀", "👍🏽", "a b", "a\u00a0b", "\u3000", "<>&\"'"]) expect({ text, control: hasControlCharacters(text) }).toEqual({ text, control: false });
  });
});
