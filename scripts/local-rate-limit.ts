// The Workers rate-limiting binding as the local registry runs it: counters in the Worker's own isolate,
// a fixed window aligned to the wall clock, `limit` requests per key per `period` seconds. Cloudflare keeps
// a location's counters on the machine the Worker runs on, so `limit()` costs the Worker next to nothing;
// Miniflare 5 keeps each counter in a Durable Object's SQLite on disk, which cost 0.4–0.6 ms of CPU a call
// here (docs/BENCHMARKS.md, "Registry"). scripts/local-rate-limit-plugin.ts loads this file into workerd
// as the binding's module, so it imports nothing.

/** The periods Cloudflare accepts, in seconds. */
export const RATE_LIMIT_PERIODS: readonly number[] = [10, 60];

export interface RateLimitConfig {
  /** Requests allowed per key in one window. */
  limit: number;
  /** The window's length in seconds: 10 or 60. */
  period: number;
}

export function validRateLimitConfig(config: unknown): RateLimitConfig {
  const { limit, period } = (config ?? {}) as Partial<RateLimitConfig>;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
    throw new TypeError(`rate limit: limit must be a positive integer, got ${JSON.stringify(limit)}`);
  }
  if (typeof period !== "number" || !RATE_LIMIT_PERIODS.includes(period)) {
    throw new TypeError(`rate limit: period must be 10 or 60 seconds, got ${JSON.stringify(period)}`);
  }
  return { limit, period };
}

export class LocalRateLimit {
  readonly #limit: number;
  readonly #periodMs: number;
  readonly #now: () => number;
  // Only the current window's counts: a new window starts every key at zero, so memory stays bounded by
  // the keys seen in one period.
  #window = Number.NaN;
  #counts = new Map<string, number>();

  constructor(config: unknown, now: () => number = Date.now) {
    const { limit, period } = validRateLimitConfig(config);
    this.#limit = limit;
    this.#periodMs = period * 1000;
    this.#now = now;
  }

  /** Counts one request for `key`; `success` is false once the key has used its window's allowance. */
  async limit(options: { key: string }): Promise<{ success: boolean }> {
    const key = (options as { key?: unknown } | null)?.key;
    if (typeof key !== "string") throw new TypeError(`rate limit: key must be a string, got ${JSON.stringify(key)}`);
    const window = Math.floor(this.#now() / this.#periodMs);
    if (window !== this.#window) {
      this.#window = window;
      this.#counts.clear();
    }
    const used = this.#counts.get(key) ?? 0;
    if (used >= this.#limit) return { success: false };
    this.#counts.set(key, used + 1);
    return { success: true };
  }
}

/** workerd calls this once per binding with the binding's inner (JSON) bindings. */
export default function makeBinding(env: unknown): LocalRateLimit {
  return new LocalRateLimit(env);
}
