// The one Worker, as `astro build` bundles it (wrangler.toml's main): the registry API and badges go
// straight to the API app; everything else to Astro through the Cloudflare adapter's handler, which
// serves the static build's files and renders the on-demand pages (site/src/fetch.ts).
import { handle } from "@astrojs/cloudflare/handler";
import type { Env } from "./env.ts";
import api from "./index.ts";

function isRegistryPath(pathname: string): boolean {
  return pathname === "/v1" || pathname.startsWith("/v1/") || pathname.startsWith("/badge/");
}

export default {
  fetch(request, env, ctx) {
    if (isRegistryPath(new URL(request.url).pathname)) return api.fetch(request, env, ctx);
    return handle(request, env as unknown as Parameters<typeof handle>[1], ctx);
  },
} satisfies ExportedHandler<Env>;
