// The data version the site's page cache is keyed by (site/src/lib/page-cache.ts): bumped after
// every API request that wrote, before its answer leaves, so the request after a write never gets a
// page rendered before it. One statement per write request, whatever it wrote, rather than a trigger
// per written row (D1 counts, and bills, every row a trigger writes).
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.ts";

export const BUMP_DATA_VERSION = "update data_version set version = version + 1 where id = 1";

/** What dataVersion needs of a D1 binding (the site types its binding as just this much). */
interface VersionReader {
  prepare(sql: string): { first<T>(): Promise<T | null> };
}

/** The data version the site's pages and the API's kept answers are keyed by: one row. */
export async function dataVersion(db: VersionReader): Promise<number> {
  const row = await db.prepare("select version from data_version where id = 1").first<{ version: number }>();
  return row?.version ?? 0;
}

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
