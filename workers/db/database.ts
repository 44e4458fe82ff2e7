import type { DrizzleD1Database } from "drizzle-orm/d1";

/** The drizzle client over D1 that every query function takes first. */
export type Database = DrizzleD1Database<Record<string, never>>;
