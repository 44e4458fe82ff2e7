import { env } from "cloudflare:workers";

/**
 * The site's public origin, for URLs meant to be copied elsewhere (canonical links, badges, model-card
 * snippets, the CLI's --registry): PUBLIC_URL when deployed behind a custom domain, else the request's.
 */
export function siteOrigin(requestUrl: URL): string {
  return (env.PUBLIC_URL || requestUrl.origin).replace(/\/$/, "");
}
