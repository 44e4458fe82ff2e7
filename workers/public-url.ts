import type { Context } from "hono";
import type { AppEnv } from "./env.ts";

/** The origin URLs in answers point to: PUBLIC_URL when deployed behind a custom domain, else the request's. */
export function publicBase(c: Context<AppEnv>): string {
  return (c.env.PUBLIC_URL || new URL(c.req.url).origin).replace(/\/$/, "");
}
