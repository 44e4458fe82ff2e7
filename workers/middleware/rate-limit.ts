// Rate limits on writes with the Workers rate-limiting binding (locally: Miniflare's in tests,
// scripts/local-rate-limit.ts behind `npm start`):
// per client address before anything is parsed, and per device key once the signature is checked.
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { apiError } from "../errors.ts";

/** The limiters' period (wrangler.toml), which is when a refused client may try again. */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

function refused(what: string) {
  return apiError("rate_limited", `too many requests from this ${what}; try again in ${RATE_LIMIT_PERIOD_SECONDS} s`);
}

export const rateLimitedByAddress = createMiddleware<AppEnv>(async (c, next) => {
  const limiter = c.env.RATE_LIMIT_IP;
  const address = c.req.header("cf-connecting-ip") ?? "unknown";
  if (limiter && !(await limiter.limit({ key: `ip:${address}` })).success) throw refused("address");
  await next();
});

/** Whether a device key may send another request now (counted once per request, batch or not). */
export async function keyAllowed(c: Context<AppEnv>, deviceId: string): Promise<boolean> {
  const limiter = c.env.RATE_LIMIT_KEY;
  return !limiter || (await limiter.limit({ key: `key:${deviceId}` })).success;
}

export const keyRateLimited = () => refused("device key");

export const rateLimitedByKey = createMiddleware<AppEnv>(async (c, next) => {
  if (!(await keyAllowed(c, c.get("deviceId")))) throw keyRateLimited();
  await next();
});
