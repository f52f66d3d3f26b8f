/**
 * web/service-worker-plugin.ts: /sw.js carries the build's own file list, and a version
 * that changes whenever any file of the build changes (how browsers notice a new build).
 */
import { expect, test } from "bun:test";
import { serviceWorker } from "../../web/service-worker-plugin";

type Bundle = Record<string, { type: "chunk"; code: string } | { type: "asset"; source: string }>;

/** Runs the plugin's generateBundle on `bundle` and returns the sw.js it emits. */
function emitted(bundle: Bundle): string {
  let source = "";
  const plugin = serviceWorker() as unknown as { generateBundle: (this: unknown, options: unknown, bundle: Bundle) => void };
  plugin.generateBundle.call({ emitFile: (file: { fileName: string; source: string }) => void (file.fileName === "sw.js" && (source = file.source)) }, {}, bundle);
  return source;
}

const version = (sw: string) => /const VERSION = "([0-9a-f]{16})";/.exec(sw)![1];
const shell = (sw: string) => JSON.parse(/const SHELL = (\[[^\]]*\]);/.exec(sw)![1]) as string[];

test("the shell is / plus every built file (not index.html, not source maps) plus web/public", () => {
  const sw = emitted({
    "index.html": { type: "asset", source: "<html>" },
    "assets/index-abc.js": { type: "chunk", code: "console.log(1)" },
    "assets/index-abc.js.map": { type: "asset", source: "{}" },
    "assets/style-def.css": { type: "asset", source: "body{}" },
  });
  expect(shell(sw)).toEqual(expect.arrayContaining(["/", "/assets/index-abc.js", "/assets/style-def.css", "/manifest.webmanifest", "/icons/icon-192.png", "/favicon.svg"]));
  expect(shell(sw)).not.toContain("/index.html");
  expect(shell(sw)).not.toContain("/assets/index-abc.js.map");
  expect(sw).toContain('self.addEventListener("push"');
});

test("the version is the same for the same build and changes with any file", () => {
  const build = (js: string, html = "<html>"): Bundle => ({ "index.html": { type: "asset", source: html }, "assets/index.js": { type: "chunk", code: js } });
  expect(version(emitted(build("a")))).toBe(version(emitted(build("a"))));
  expect(version(emitted(build("b")))).not.toBe(version(emitted(build("a"))));
  expect(version(emitted(build("a", "<html lang=en>")))).not.toBe(version(emitted(build("a"))));
});
