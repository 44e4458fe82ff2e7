// The rate limiter the local registry runs (scripts/local-rate-limit.ts), on its own with a clock the
// test sets, and inside workerd as scripts/serve-worker.ts serves a wrangler configuration's
// `ratelimits`: the configured limit per key and binding, counted in the Worker's isolate, with no
// Miniflare Durable Object behind it.
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalRateLimit } from "../../scripts/local-rate-limit.ts";
import { serveWorker } from "../../scripts/serve-worker.ts";
import { freePort } from "../support/load.ts";

/** The successes of `count` calls for `key`, one after another. */
async function successes(
  limiter: { limit(o: { key: string }): Promise<{ success: boolean }> },
  key: string,
  count: number,
) {
  const out: boolean[] = [];
  for (let i = 0; i < count; i++) out.push((await limiter.limit({ key })).success);
  return out;
}

describe("LocalRateLimit", () => {
  it("lets `limit` requests of a key through in a window and refuses the rest, without counting the refused", async () => {
    let now = 1_000_000 * 60_000 + 5_000;
    const limiter = new LocalRateLimit({ limit: 3, period: 60 }, () => now);
    expect(await successes(limiter, "a", 5)).toEqual([true, true, true, false, false]);
    // Another key has its own allowance.
    expect(await successes(limiter, "b", 4)).toEqual([true, true, true, false]);
    // Still the same window at its last millisecond.
    now += 54_999;
    expect(await successes(limiter, "a", 1)).toEqual([false]);
    // The next window (aligned to the clock, not to the first request) starts every key afresh.
    now += 1;
    expect(await successes(limiter, "a", 4)).toEqual([true, true, true, false]);
    expect(await successes(limiter, "b", 1)).toEqual([true]);
  });

  it("keeps windows of 10 s apart as well", async () => {
    let now = 7 * 10_000 + 9_999;
    const limiter = new LocalRateLimit({ limit: 1, period: 10 }, () => now);
    expect(await successes(limiter, "k", 2)).toEqual([true, false]);
    now += 1;
    expect(await successes(limiter, "k", 2)).toEqual([true, false]);
  });

  it("refuses a configuration Cloudflare would refuse, and a key that is not a string", async () => {
    expect(() => new LocalRateLimit({ limit: 10, period: 30 })).toThrow("period must be 10 or 60 seconds, got 30");
    expect(() => new LocalRateLimit({ limit: 0, period: 60 })).toThrow("limit must be a positive integer, got 0");
    expect(() => new LocalRateLimit({ period: 60 })).toThrow("limit must be a positive integer");
    const limiter = new LocalRateLimit({ limit: 1, period: 60 });
    await expect(limiter.limit({ key: 7 } as unknown as { key: string })).rejects.toThrow(
      "key must be a string, got 7",
    );
  });
});

describe("serve-worker's rate limiters", () => {
  let dir: string;
  let served: Awaited<ReturnType<typeof serveWorker>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgebench-rate-limit-"));
    // A Worker that answers what its binding says of a key: the binding and key come in the query.
    await writeFile(
      join(dir, "worker.js"),
      `export default {
        async fetch(request, env) {
          const url = new URL(request.url);
          return Response.json(await env[url.searchParams.get("binding")].limit({ key: url.searchParams.get("key") }));
        },
      };\n`,
    );
    await writeFile(
      join(dir, "wrangler.json"),
      JSON.stringify({
        name: "rate-limit-fixture",
        main: "worker.js",
        compatibility_date: "2026-10-19",
        no_bundle: true,
        rules: [{ type: "ESModule", globs: ["**/*.js"] }],
        ratelimits: [
          { name: "THREE_A_MINUTE", namespace_id: "1", simple: { limit: 3, period: 60 } },
          { name: "TWO_IN_TEN_SECONDS", namespace_id: "2", simple: { limit: 2, period: 10 } },
        ],
      }),
    );
    served = await serveWorker({
      configPath: join(dir, "wrangler.json"),
      port: await freePort(),
      persistTo: join(dir, "state"),
    });
  }, 60_000);

  afterAll(async () => {
    await served?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ask = async (binding: string, key: string) => {
    const url = new URL(served.url);
    url.searchParams.set("binding", binding);
    url.searchParams.set("key", key);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    return ((await res.json()) as { success: boolean }).success;
  };

  /** Waits, where needed, until at least `margin` ms of the current `period` window remain. */
  const roomInWindow = async (periodMs: number, margin: number) => {
    const left = periodMs - (Date.now() % periodMs);
    if (left < margin) await new Promise((r) => setTimeout(r, left + 50));
  };

  it("allows each binding its configured limit per key, in the Worker's isolate", async () => {
    await roomInWindow(10_000, 4_000);
    await roomInWindow(60_000, 4_000);
    const three: boolean[] = [];
    const two: boolean[] = [];
    for (let i = 0; i < 4; i++) three.push(await ask("THREE_A_MINUTE", "ip:1"));
    for (let i = 0; i < 3; i++) two.push(await ask("TWO_IN_TEN_SECONDS", "ip:1"));
    expect(three).toEqual([true, true, true, false]);
    expect(two).toEqual([true, true, false]);
    // Another key counts apart (and the key above had its own count under each binding).
    expect(await ask("THREE_A_MINUTE", "ip:2")).toBe(true);
    // Miniflare's own limiter keeps its counters in a Durable Object under the persistence path; this
    // one keeps nothing there.
    expect(existsSync(join(dir, "state", "v3", "ratelimit"))).toBe(false);
  });
});
