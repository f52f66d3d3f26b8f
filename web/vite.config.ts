import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";
import { serviceWorker } from "./service-worker-plugin";

const root = fileURLToPath(new URL(".", import.meta.url));

/**
 * The web app is served under a strict Content-Security-Policy (script-src 'self',
 * style-src 'self'), so the build must not emit any inline script or style: no module
 * preload polyfill, and CSS always as a separate file.
 */
export default defineConfig({
  root,
  base: "/",
  plugins: [solid(), serviceWorker()],
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    // Never inline assets as data: URLs into scripts; keep every asset a plain file.
    assetsInlineLimit: 0,
    target: "es2022",
  },
});
