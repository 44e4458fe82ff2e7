// The measurement core's pure parts, against values worked out by hand.
import { describe, expect, it } from "vitest";
import { CliError } from "../../cli/errors.ts";
import { parseBytes, parseDuration } from "../../cli/lib/units.ts";
import { lintConfig, lintLoaded } from "../../cli/measure/lints.ts";
import { summarizeSoak } from "../../cli/measure/soak.ts";
import { mean, percentile, slope, stddev } from "../../cli/measure/stats.ts";
import { parseSweep, sweepGrid } from "../../cli/measure/sweep.ts";
import { evaluateTarget, parseTarget } from "../../cli/measure/targets.ts";

describe("statistics", () => {
  it("match hand-computed values (sample stddev, numpy-style percentiles, least squares)", () => {
    expect(mean([3.44, 3.45])).toBeCloseTo(3.445, 10);
    expect(stddev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.13809, 5);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 95)).toBe(48);
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBe(2);
    expect(stddev([5])).toBeUndefined();
  });
});

describe("lints", () => {
  const base = {
    contextSize: 1024,
    batchSize: 512,
    threads: 4,
    promptTokens: [128, 512],
    longestSequence: 528,
    physicalCores: 4,
    ramBytes: 8e9,
    modelFileBytes: 2e9,
    trainContextSize: 8192,
  };
  const codes = (input: Parameters<typeof lintConfig>[0]) => lintConfig(input).map((w) => w.code);

  it("are quiet for a sane configuration", () => {
    expect(codes(base)).toEqual([]);
  });

  it("name each problem", () => {
    expect(codes({ ...base, batchSize: 256 })).toEqual(["prompt_longer_than_batch"]);
    expect(codes({ ...base, longestSequence: 2000 })).toEqual(["prompt_longer_than_context"]);
    expect(codes({ ...base, threads: 8 })).toEqual(["threads_exceed_cores"]);
    expect(codes({ ...base, modelFileBytes: 7.5e9 })).toEqual(["model_exceeds_ram"]);
    expect(codes({ ...base, contextSize: 16384, trainContextSize: 8192 })).toEqual(["context_exceeds_trained"]);
    expect(lintLoaded({ gpuLayers: 99, backend: "cpu" }).map((w) => w.code)).toEqual(["gpu_layers_without_gpu"]);
    expect(lintLoaded({ gpuLayers: "auto", backend: "cpu" })).toEqual([]);
    expect(lintLoaded({ gpuLayers: 99, backend: "cuda" })).toEqual([]);
  });
});

describe("targets", () => {
  it("parse metrics, operators and units", () => {
    expect(parseTarget("decode_tps>=2")).toMatchObject({ metric: "decode_tps", op: ">=", threshold: 2 });
    expect(parseTarget("quality >= 80%")).toMatchObject({ metric: "quality", threshold: 0.8 });
    expect(parseTarget("peak_memory_bytes<10GB")).toMatchObject({ threshold: 10e9 });
    expect(parseTarget("ttft_ms<=0.2s")).toMatchObject({ threshold: 200 });
  });

  it("refuse what they cannot read, naming it", () => {
    for (const [text, why] of [
      ["speed>=2", /unknown metric speed/],
      ["decode_tps=>2", /expected <metric><op><value>/],
      ["decode_tps>=fast", /not a value in tokens\/s/],
    ] as const) {
      expect(() => parseTarget(text)).toThrow(why);
      expect(() => parseTarget(text)).toThrow(CliError);
    }
  });

  it("evaluate against the measured value", () => {
    expect(evaluateTarget(parseTarget("ttft_ms<200"), 116)).toMatchObject({ passed: true, actual: 116, unit: "ms" });
    expect(evaluateTarget(parseTarget("ttft_ms<200"), 200)).toMatchObject({ passed: false });
    expect(evaluateTarget(parseTarget("ttft_ms<200"), undefined)).toMatchObject({ passed: false });
  });
});

describe("sweeps", () => {
  it("build the full grid in order", () => {
    const base: { contextSize: number; batchSize: number; threads: number; flashAttention?: boolean } = {
      contextSize: 512,
      batchSize: 512,
      threads: 2,
    };
    const grid = sweepGrid(base, [parseSweep("batch=256,768"), parseSweep("fa=on,off")]);
    expect(grid.map((c) => [c.batchSize, c.flashAttention])).toEqual([
      [256, true],
      [256, false],
      [768, true],
      [768, false],
    ]);
  });

  it("refuse unknown keys, bad values and oversized grids", () => {
    expect(() => parseSweep("temp=0.5")).toThrow(/key one of/);
    expect(() => parseSweep("batch=0")).toThrow(/not a valid value/);
    const many = Array.from({ length: 65 }, (_, i) => i + 1).join(",");
    expect(() => sweepGrid({ contextSize: 1, batchSize: 1, threads: 1 }, [parseSweep(`batch=${many}`)])).toThrow(
      /at most 64/,
    );
  });
});

describe("units", () => {
  it("read durations and sizes", () => {
    expect(parseDuration("1h30m", "x")).toBe(5_400_000);
    expect(parseDuration("500ms", "x")).toBe(500);
    expect(() => parseDuration("soon", "--soak")).toThrow(/--soak must be a duration/);
    expect(parseBytes("512MiB")).toBe(512 * 2 ** 20);
    expect(parseBytes("1.5GB")).toBe(1.5e9);
    expect(parseBytes("lots")).toBeUndefined();
  });
});

describe("soak summary", () => {
  const options = { durationMs: 3_600_000, intervalMs: 2000, maxTokens: 128 };
  const series = (rss: (i: number) => number) =>
    Array.from({ length: 100 }, (_, i) => ({ tMs: i * 36_000, latencyMs: 100 + (i % 5), ok: true, rssBytes: rss(i) }));

  it("finds no leak in flat memory and a leak in steadily growing memory", () => {
    const flat = summarizeSoak(
      series(() => 500e6),
      0,
      3_600_000,
      options,
    );
    expect(flat.memory).toMatchObject({ leakDetected: false, peakBytes: 500e6 });
    const growing = summarizeSoak(
      series((i) => 500e6 + i * 2e6),
      0,
      3_600_000,
      options,
    );
    expect(growing.memory?.leakDetected).toBe(true);
    expect(growing.memory?.leakSlopeBytesPerHour).toBeCloseTo(200e6, -6);
  });

  it("counts failures and thins a long series, keeping every failure", () => {
    const long = Array.from({ length: 2000 }, (_, i) => ({ tMs: i, latencyMs: 1, ok: i !== 1234 }));
    const soak = summarizeSoak(long, 1, 2000, options);
    expect(soak.requests).toBe(2000);
    expect(soak.failures).toBe(1);
    expect(soak.series?.length).toBeLessThanOrEqual(721);
    expect(soak.series?.some((p) => p.ok === false)).toBe(true);
  });
});
