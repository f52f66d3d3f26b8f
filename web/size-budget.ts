/**
 * Runs after `vite build`: reports the gzipped size of the app shell's JavaScript (every
 * .js file in web/dist/assets) against the budget of issue 17, and fails the build when
 * it is over. The service worker, if any, is not part of the shell and is not counted.
 *
 *   vite build --config web/vite.config.ts && bun web/size-budget.ts && bun web/embed.ts
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

export const BUDGET_BYTES = 60 * 1024;

const assets = join(resolve(import.meta.dir, "dist"), "assets");
const files = readdirSync(assets).filter((name) => name.endsWith(".js"));
let total = 0;
for (const name of files) {
  const size = gzipSync(readFileSync(join(assets, name)), { level: 9 }).length;
  total += size;
  console.log(`web/size-budget.ts: ${name} ${(size / 1024).toFixed(1)} kB gzipped`);
}
const verdict = total <= BUDGET_BYTES ? "within" : "OVER";
console.log(`web/size-budget.ts: app shell JS ${(total / 1024).toFixed(1)} kB gzipped, ${verdict} the budget of ${BUDGET_BYTES / 1024} kB`);
if (total > BUDGET_BYTES) process.exit(1);
