import { fileURLToPath } from "node:url";
import cloudflare from "@astrojs/cloudflare";
import { defineConfig } from "astro/config";

const root = (path) => fileURLToPath(new URL(path, import.meta.url));
// Part of every cached page's key (src/lib/page-cache.ts): a new deployment never serves pages the
// previous code rendered.
const buildId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

// One Worker serves the API, the badges and the site (src/fetch.ts). Pages whose content changes with
// the data are rendered by it on demand (`export const prerender = false`), from D1, and cached by data
// version (src/lib/page-cache.ts); only what does not grow with the data (the 404 page, scripts, the
// stylesheet) is built ahead as static assets.
export default defineConfig({
  output: "static",
  // No sessions and no image service: pages keep no per-visitor state and show no raster images, so
  // the Worker needs no KV namespace and no Images binding.
  adapter: cloudflare({ configPath: root("../wrangler.toml"), imageService: "passthrough" }),
  session: false,
  trailingSlash: "always",
  build: { format: "directory", inlineStylesheets: "never" },
  vite: {
    // Scripts as files, never inlined: the site's Content-Security-Policy (public/_headers) allows
    // scripts from the site itself only.
    build: { assetsInlineLimit: 0 },
    define: { __EDGEBENCH_BUILD_ID__: JSON.stringify(buildId) },
    // badge-maker's text measurer, cut to the one font table flat badges use.
    resolve: {
      alias: [
        { find: /^anafanafo$/, replacement: root("../workers/vendor/anafanafo-flat.js") },
        // The registry API app, which the pages ask in-process (typed for them in src/registry-api.d.ts).
        { find: /^@edgebench\/registry-api$/, replacement: root("../workers/index.ts") },
      ],
    },
  },
  devToolbar: { enabled: false },
  telemetry: false,
});
