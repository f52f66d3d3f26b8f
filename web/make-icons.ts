/**
 * Renders the app's PNG icons (web/public/icons) from the SVGs with headless Chromium:
 * the favicon's design at 192 and 512 px, and the maskable variant (full-bleed background,
 * the glyph inside the central 60%, the safe zone of a circle mask) at 192 and 512 px.
 * Run after changing an SVG; the PNGs are committed.
 *
 *   bun web/make-icons.ts
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const dir = join(import.meta.dir, "public");
const jobs: Array<[source: string, size: number, target: string]> = [
  ["favicon.svg", 192, "icons/icon-192.png"],
  ["favicon.svg", 512, "icons/icon-512.png"],
  ["icons/maskable.svg", 192, "icons/maskable-192.png"],
  ["icons/maskable.svg", 512, "icons/maskable-512.png"],
];

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
try {
  for (const [source, size, target] of jobs) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const svg = readFileSync(join(dir, source), "utf8").replace("<svg ", `<svg width="${size}" height="${size}" `);
    await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
    await page.screenshot({ path: join(dir, target), omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    await page.close();
    console.log(`web/make-icons.ts: ${target}`);
  }
} finally {
  await browser.close();
}
