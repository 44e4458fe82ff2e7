import type { Context } from "hono";
import type { AppEnv } from "./env.ts";

/** The origin URLs in answers point to: PUBLIC_URL when deployed behind a custom domain, else the request's. */
export function publicBase(c: Context<AppEnv>): string {
  return (c.env.PUBLIC_URL || originOf(c.req.url)).replace(/\/$/, "");
}

/**
 * The origin of an absolute URL as the runtime hands it over (already normalized): what comes before
 * the path. Parsing a whole URL for it showed in the profile of every answer that links to itself.
 */
export function originOf(url: string): string {
  const path = url.indexOf("/", url.indexOf("//") + 2);
  return path < 0 ? url : url.slice(0, path);
}
