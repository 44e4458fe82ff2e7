// Answers of the read routes that model cards and leaderboard pages ask for again and again (the
// badge, the leaderboard), kept in the isolate's memory under their URL and the data version (bumped
// after every API request that wrote: workers/middleware/data-version.ts), the way the site keeps its
// pages (site/src/lib/page-cache.ts). A repeat costs one small read (the version) instead of the
// answer's queries and rendering; the request after a write reads a new version, so never an answer
// made before it.
import type { Context } from "hono";
import { BoundedMap } from "../schema/bounded-map.ts";
import type { AppEnv } from "./env.ts";

export interface KeptAnswer {
  body: string;
  /** The ETag hono's etag middleware would give the body (hex SHA-1, quoted), where the route has one. */
  etag?: string;
}

/** Bounded by size: a string's UTF-16 units, two bytes each. */
const kept = new BoundedMap<string, KeptAnswer>(8 * 2 ** 20, (answer) => answer.body.length * 2);

const DATA_VERSION = "select version from data_version where id = 1";

/**
 * The answer to this request from memory, or `make`'s, kept for the next request at the same data
 * version. An error `make` throws is not kept: it goes to the error handler as before.
 */
export async function keptAnswer(c: Context<AppEnv>, make: () => Promise<KeptAnswer>): Promise<KeptAnswer> {
  const row = await c.env.DB.prepare(DATA_VERSION).first<{ version: number }>();
  const key = `${row?.version ?? 0} ${c.req.url}`;
  const hit = kept.get(key);
  if (hit) return hit;
  const answer = await make();
  kept.set(key, answer);
  return answer;
}

/** The ETag hono's etag middleware computes for a body: its SHA-1 in hex, quoted. */
export async function etagOf(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(body)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return `"${hex}"`;
}
