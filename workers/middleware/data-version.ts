// The data version the site's page cache is keyed by (site/src/lib/page-cache.ts): bumped after
// every API request that wrote, before its answer leaves, so the request after a write never gets a
// page rendered before it. One statement per write request, whatever it wrote, rather than a trigger
// per written row (D1 counts, and bills, every row a trigger writes).
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.ts";

export const BUMP_DATA_VERSION = "update data_version set version = version + 1 where id = 1";

/** The bump as a statement to put in a route's own write batch: the same transaction, no call of its own. */
export const bumpStatement = (c: Context<AppEnv>) => c.env.DB.prepare(BUMP_DATA_VERSION);

/**
 * After a POST that succeeded and may have written: a refused request writes nothing, and a route that
 * knows it stored nothing (a dry run, a resubmission) says so with `unchanged`, so every page stays cached.
 */
export const bumpDataVersion: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (c.req.method !== "POST" || c.res.status >= 400 || c.get("unchanged")) return;
  await c.env.DB.prepare(BUMP_DATA_VERSION).run();
};
