/**
 * A Vite plugin that emits /sw.js at build time: web/src/sw/service-worker.js with the
 * app shell's file list (every file Vite wrote, plus web/public) and a version hashed from
 * their contents prepended. The list always matches the build, and any change to any file
 * changes sw.js, which is how browsers notice a new build (web-app.ts serves it no-cache).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Plugin } from "vite";

const web = import.meta.dirname;
const SOURCE = join(web, "src/sw/service-worker.js");

function publicFiles(dir = join(web, "public")): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? publicFiles(full) : [full];
  });
}

export function serviceWorker(): Plugin {
  return {
    name: "roomz-service-worker",
    apply: "build",
    enforce: "post",
    generateBundle(_options, bundle) {
      const hash = createHash("sha256");
      const shell = new Set<string>(["/"]);
      for (const [fileName, item] of Object.entries(bundle).sort(([a], [b]) => a.localeCompare(b))) {
        if (fileName.endsWith(".map")) continue;
        if (fileName !== "index.html") shell.add(`/${fileName}`);
        hash.update(fileName).update(item.type === "chunk" ? item.code : item.source);
      }
      for (const file of publicFiles().sort()) {
        const path = `/${relative(join(web, "public"), file).split(sep).join("/")}`;
        if (path.endsWith(".svg") && path.startsWith("/icons/")) continue; // sources of the PNGs
        shell.add(path);
        hash.update(path).update(readFileSync(file));
      }
      const body = readFileSync(SOURCE, "utf8");
      hash.update(body);
      const version = hash.digest("hex").slice(0, 16);
      const list = JSON.stringify([...shell].sort(), null, 1);
      this.emitFile({ type: "asset", fileName: "sw.js", source: `const VERSION = "${version}";\nconst SHELL = ${list};\n${body}` });
    },
  };
}
