// Soak: the same request again and again for a long time (seed report 004's 60 minutes), recording
// latency, failures, temperature and memory over time, and whether memory keeps growing.
import type { Soak } from "../../schema/bundle.ts";
import { readThermal, readThrottled } from "../device/sensors.ts";
import type { RunHooks, SoakOptions } from "./options.ts";
import type { TestResult, TestSpec } from "./protocol.ts";
import { mean, percentile, round, slope } from "./stats.ts";
import type { Outcome } from "./supervisor.ts";

interface SoakSession {
  attempt(spec: TestSpec, label: string): Promise<Outcome<TestResult>>;
}

/** Points of the series kept in the bundle (the summary uses all): keeps a 60-minute soak well under the API's size cap. */
export const MAX_SERIES_POINTS = 720;

/** Evenly spaced points, plus every failed request. */
function thin<T extends { ok?: boolean | undefined }>(series: T[], max: number): T[] {
  if (series.length <= max) return series;
  const step = series.length / max;
  return series.filter((p, i) => p.ok === false || Math.floor(i / step) !== Math.floor((i - 1) / step));
}

/** Memory growth over the soak above both of these counts as a leak. */
export const LEAK_MIN_BYTES = 20e6;
export const LEAK_MIN_SHARE = 0.05;

export async function runSoak(
  session: SoakSession,
  options: SoakOptions,
  text: string,
  hooks: RunHooks,
): Promise<Soak> {
  const start = performance.now();
  const series: NonNullable<Soak["series"]> = [];
  const prompt = text.slice(0, 600);
  let failures = 0;
  while (performance.now() - start < options.durationMs && !hooks.signal.aborted) {
    const t0 = performance.now();
    const outcome = await session.attempt(
      { kind: "generate", prompt, maxTokens: options.maxTokens, format: "raw" },
      `soak request ${series.length + 1}`,
    );
    const latencyMs = performance.now() - t0;
    if (hooks.signal.aborted) break;
    if (!outcome.ok) failures++;
    const temperatures = (await readThermal()).map((z) => z.temperatureC);
    const throttled = await readThrottled();
    series.push({
      tMs: round(t0 - start),
      latencyMs: round(latencyMs),
      ok: outcome.ok,
      ...(temperatures.length ? { temperatureC: Math.max(...temperatures) } : {}),
      ...(outcome.ok ? { rssBytes: outcome.resources.rssBytes } : {}),
      ...(throttled === undefined ? {} : { throttled }),
    });
    hooks.progress.update(`${series.length} requests, ${failures} failed, last ${(latencyMs / 1000).toFixed(2)} s`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
  return summarizeSoak(series, failures, performance.now() - start, options);
}

export function summarizeSoak(
  series: NonNullable<Soak["series"]>,
  failures: number,
  durationMs: number,
  options: SoakOptions,
): Soak {
  const latencies = series.filter((p) => p.ok).map((p) => p.latencyMs as number);
  const temps = series.flatMap((p) => (p.temperatureC === undefined ? [] : [p.temperatureC]));
  const rss = series.flatMap((p) => (p.rssBytes === undefined ? [] : [[p.tMs, p.rssBytes] as const]));
  // The first tenth is warm-up (caches, allocator pools growing): the leak slope is fitted after it.
  const steady = rss.slice(Math.floor(rss.length / 10));
  const perMs = slope(steady);
  const meanRss = mean(rss.map((p) => p[1]));
  const growth = perMs === undefined ? undefined : perMs * durationMs;
  const leak =
    growth !== undefined && meanRss !== undefined && steady.length >= 10
      ? growth > LEAK_MIN_BYTES && growth > meanRss * LEAK_MIN_SHARE
      : undefined;
  return {
    durationMs: round(durationMs),
    intervalMs: options.intervalMs,
    requests: series.length,
    failures,
    maxTokensPerRequest: options.maxTokens,
    ...(latencies.length
      ? {
          latencyMs: {
            mean: round(mean(latencies) as number),
            min: round(Math.min(...latencies)),
            max: round(Math.max(...latencies)),
            p50: round(percentile(latencies, 50) as number),
            p95: round(percentile(latencies, 95) as number),
            p99: round(percentile(latencies, 99) as number),
          },
        }
      : {}),
    ...(temps.length
      ? { temperatureC: { mean: round(mean(temps) as number), min: Math.min(...temps), max: Math.max(...temps) } }
      : {}),
    ...(series.some((p) => p.throttled !== undefined) ? { throttled: series.some((p) => p.throttled) } : {}),
    ...(rss.length
      ? {
          memory: {
            meanBytes: Math.round(meanRss as number),
            peakBytes: Math.max(...rss.map((p) => p[1])),
            ...(leak === undefined ? {} : { leakDetected: leak }),
            ...(perMs === undefined ? {} : { leakSlopeBytesPerHour: Math.round(perMs * 3_600_000) }),
          },
        }
      : {}),
    series: thin(series, MAX_SERIES_POINTS),
    ...(series.length > MAX_SERIES_POINTS
      ? {
          notes: `series thinned to about ${MAX_SERIES_POINTS} of ${series.length} points (every failure kept); the summary uses all`,
        }
      : {}),
  };
}
