import { drizzle } from "drizzle-orm/d1";
import { createMiddleware } from "hono/factory";
import type { Database } from "../db/database.ts";
import type { AppEnv } from "../env.ts";

// One drizzle client per D1 binding object, made on its first request: building its dialect and
// session again for every request showed in the profile of a submission.
const clients = new WeakMap<AppEnv["Bindings"]["DB"], Database>();

/** The drizzle client of the request's D1 binding, as c.var.db. */
export const database = createMiddleware<AppEnv>(async (c, next) => {
  let db = clients.get(c.env.DB);
  if (!db) {
    db = drizzle(c.env.DB);
    clients.set(c.env.DB, db);
  }
  c.set("db", db);
  await next();
});
