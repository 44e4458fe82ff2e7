import type { D1Database } from "@cloudflare/workers-types";
import type { DrizzleD1Database } from "drizzle-orm/d1";

/** The drizzle client over D1 that every query function takes first, with the binding under it. */
export type Database = DrizzleD1Database<Record<string, never>> & { $client: D1Database };
