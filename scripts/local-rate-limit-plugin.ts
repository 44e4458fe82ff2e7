// A Miniflare plugin that serves the wrangler configuration's `ratelimits` with scripts/local-rate-limit.ts,
// as a wrapped binding: a module workerd loads into the Worker's own isolate, so `limit()` is a function
// call and not a request to a Durable Object. scripts/serve-worker.ts names this file in an "unsafe"
// binding (Miniflare's way to load a plugin from outside it); the Worker sees the same `limit({ key })`.
import { readFileSync } from "node:fs";
import { transformSync } from "esbuild";
import type { Extension, Plugin, Worker_Binding } from "miniflare";
import { type RateLimitConfig, validRateLimitConfig } from "./local-rate-limit.ts";

export const LOCAL_RATE_LIMIT_PLUGIN = "edgebench-local-rate-limit";
/** The binding type serve-worker gives each limiter ("unsafe:" + this in Miniflare's configuration). */
export const LOCAL_RATE_LIMIT_TYPE = "edgebench-rate-limit";
const MODULE_NAME = "edgebench-internal:local-rate-limit";

let moduleSource: string | undefined;
/** The limiter module as workerd runs it: the TypeScript file with its types taken out. */
function limiterModule(): string {
  moduleSource ??= transformSync(readFileSync(new URL("./local-rate-limit.ts", import.meta.url), "utf8"), {
    loader: "ts",
    format: "esm",
    target: "es2022",
  }).code;
  return moduleSource;
}

type WorkerOptions = Parameters<Plugin["getBindings"]>[0];

/** The limiters a worker's configuration gives this plugin, with their limits. */
function limitersOf(worker: WorkerOptions): Array<[name: string, config: RateLimitConfig]> {
  const limiters: Array<[string, RateLimitConfig]> = [];
  for (const [name, binding] of Object.entries(worker.config.env ?? {})) {
    const { type, dev } = binding as { type?: string; dev?: { options?: unknown } };
    if (type === `unsafe:${LOCAL_RATE_LIMIT_TYPE}`) limiters.push([name, validRateLimitConfig(dev?.options)]);
  }
  return limiters;
}

const plugin: Plugin = {
  bindingTypeDescription: "Rate Limit (in the Worker's isolate)",
  getBindings(worker): Worker_Binding[] {
    return limitersOf(worker).map(([name, { limit, period }]) => ({
      name,
      wrapped: {
        moduleName: MODULE_NAME,
        innerBindings: [
          { name: "limit", json: JSON.stringify(limit) },
          { name: "period", json: JSON.stringify(period) },
        ],
      },
    }));
  },
  getNodeBindings: () => ({}),
  getServices: () => [],
  getExtensions({ options }): Extension[] {
    if (!options.some((worker) => limitersOf(worker).length > 0)) return [];
    return [{ modules: [{ name: MODULE_NAME, esModule: limiterModule(), internal: true }] }];
  },
};

/** What Miniflare looks for in a plugin package. */
export const plugins = { [LOCAL_RATE_LIMIT_PLUGIN]: plugin };
