// Answers of the read routes that model cards and leaderboard pages ask for again and again (the
// badge, the leaderboard), kept in the isolate's memory under their URL and the data version (bumped
// after every API request that wrote: workers/middleware/data-version.ts), the way the site keeps its
// pages (site/src/lib/page-cache.ts). A repeat costs one small read (the version) instead of the
// answer's validation, queries and rendering; the request after a write reads a new version, so never
// gets an answer made before it.
import type { Context, MiddlewareHandler } from "hono";
import { BoundedMap } from "../schema/bounded-map.ts";
import { toHex } from "../schema/signing.ts";
import type { AppEnv } from "./env.ts";
import { dataVersion } from "./middleware/data-version.ts";

interface KeptAnswer {
  body: string;
  headers: Record<string, string>;
}

/** Bounded by size: a string's UTF-16 units, two bytes each. */
const kept = new BoundedMap<string, KeptAnswer>(8 * 2 ** 20, (answer) => answer.body.length * 2);

/** The key each request that missed is to be kept under, for `answer`. */
const pending = new WeakMap<Request, string>();

/**
 * Before the route's validation: a request whose URL was answered at the current data version gets
 * that answer again (only 200s made by `answer` are kept, so never one a validation would refuse).
 */
export const keptAnswers: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = `${await dataVersion(c.env.DB)} ${c.req.url}`;
  const hit = kept.get(key);
  if (hit) return c.body(hit.body, 200, hit.headers);
  pending.set(c.req.raw, key);
  await next();
};

/** A 200 answer, kept (behind keptAnswers) for the next request for the same URL at the same data version. */
export function answer(c: Context<AppEnv>, body: string, headers: Record<string, string>): Response {
  const key = pending.get(c.req.raw);
  if (key !== undefined) kept.set(key, { body, headers });
  return c.body(body, 200, headers);
}

/** The ETag hono's etag middleware computes for a body: its SHA-1 in hex, quoted. */
export async function etagOf(body: string): Promise<string> {
  return `"${toHex(new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(body))))}"`;
}
