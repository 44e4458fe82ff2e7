import { defineConfig } from "astro/config";

// A static site built from the registry API; the Worker serves site/dist as its static assets.
export default defineConfig({
  output: "static",
  trailingSlash: "always",
  build: { format: "directory", inlineStylesheets: "never" },
  devToolbar: { enabled: false },
  telemetry: false,
});
