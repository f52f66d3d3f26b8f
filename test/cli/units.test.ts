/** Flag parsing and safe rendering of the terminal client. */
import { afterEach, describe, expect, test } from "bun:test";
import { parseArgs, UsageError } from "../../src/cli/args";
import { formatMessage } from "../../src/cli/describe";
import { localName } from "../../src/cli/downloads";
import { safeText } from "../../src/cli/style";
import type { ChatMessage } from "../../src/client";

const saved = process.env.ROOMZ_SERVER;
afterEach(() => {
  if (saved === undefined) delete process.env.ROOMZ_SERVER;
  else process.env.ROOMZ_SERVER = saved;
});

describe("parseArgs", () => {
  test("server from --server, else ROOMZ_SERVER, else localhost:8000, without trailing slash", () => {
    delete process.env.ROOMZ_SERVER;
    expect(parseArgs([]).server).toBe("http://localhost:8000");
    process.env.ROOMZ_SERVER = "https://env.example/";
    expect(parseArgs([]).server).toBe("https://env.example");
    expect(parseArgs(["--server", "http://flag.example:9/"]).server).toBe("http://flag.example:9");
    expect(parseArgs(["--server=http://eq.example"]).server).toBe("http://eq.example");
  });

  test("text arguments, --json, and usage errors", () => {
    expect(parseArgs(["hi", "there", "-x"], { text: true }).rest).toEqual(["hi", "there", "-x"]);
    expect(parseArgs(["--", "--server"], { text: true }).rest).toEqual(["--server"]);
    expect(parseArgs(["--json"], { json: true }).json).toBe(true);
    expect(() => parseArgs(["--json"])).toThrow(UsageError);
    expect(() => parseArgs(["--server"])).toThrow(UsageError);
    expect(() => parseArgs(["--server", "localhost:8000"])).toThrow(UsageError);
    expect(() => parseArgs(["--server", "http://localhost:8000/wrong/path"])).toThrow("just the scheme, host and port");
    expect(() => parseArgs(["--server", "http://localhost:8000/?x=1"])).toThrow(UsageError);
    expect(parseArgs(["--server", "http://LOCALHOST:8000"]).server).toBe("http://localhost:8000");
    expect(parseArgs(["--server", "https://Chat.Example.com:443/"]).server).toBe("https://chat.example.com");
    expect(() => parseArgs(["stray"])).toThrow(UsageError);
  });
});

describe("rendering", () => {
  test("escape sequences and bidi overrides are shown, never obeyed; emoji joiners stay", () => {
    expect(safeText("a\x1b[2Jb\u202Ec")).toBe("a\\u{1b}[2Jb\\u{202e}c");
    expect(safeText("👩\u200d💻\tok")).toBe("👩\u200d💻\tok");
  });

  test("a message line: time, name, text, continuation lines indented", () => {
    const m = { timestamp: "2026-01-02T03:04:05.000Z", content: "one\ntwo", user: { id: "user:a@x.io", email: "a@x.io", display_name: null } } as ChatMessage;
    expect(formatMessage(m, false)).toBe("03:04:05 a@x.io: one\n         two");
    expect(formatMessage({ ...m, user: { ...m.user, display_name: "desk" } }, true)).toBe("03:04:05 desk (this terminal): one\n         two");
  });
});

describe("listen --download", () => {
  test("a file is saved under the last segment of its name only: a server can't point outside DIR", () => {
    expect(localName("notes.txt")).toBe("notes.txt");
    expect(localName("../../.bashrc")).toBe(".bashrc");
    expect(localName("..\\..\\evil.exe")).toBe("evil.exe");
    expect(localName("/etc/passwd")).toBe("passwd");
    for (const name of ["", ".", "..", "a/..", "x/"]) expect(localName(name)).toBe("download");
    expect(localName("bell\u0007.txt")).toBe("bell.txt");
  });
});
