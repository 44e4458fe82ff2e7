import sitemap from "@astrojs/sitemap";
import { defineConfig } from "astro/config";

// Where the site is published: the sitemap and the canonical/og:url links are absolute URLs on it.
const site = process.env.PUBLIC_SITE_URL || "http://127.0.0.1:8787";

// A static site built from the registry API; the Worker serves site/dist as its static assets.
export default defineConfig({
  site,
  output: "static",
  trailingSlash: "always",
  build: { format: "directory", inlineStylesheets: "never" },
  // Scripts as files, never inlined: the site's Content-Security-Policy (site/public/_headers) allows
  // scripts from the site itself only.
  vite: { build: { assetsInlineLimit: 0 } },
  // The 404 page is served for missing paths, never visited as itself.
  integrations: [sitemap({ filter: (page) => !new URL(page).pathname.startsWith("/404") })],
  devToolbar: { enabled: false },
  telemetry: false,
});
