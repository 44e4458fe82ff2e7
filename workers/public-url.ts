import type { Context } from "hono";
import type { AppEnv } from "./env.ts";
import { originOf } from "./origin.ts";

/** The origin URLs in answers point to: PUBLIC_URL when deployed behind a custom domain, else the request's. */
export function publicBase(c: Context<AppEnv>): string {
  return (c.env.PUBLIC_URL || originOf(c.req.url)).replace(/\/$/, "");
}
