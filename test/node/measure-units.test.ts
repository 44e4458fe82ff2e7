// The measurement core's pure parts, against values worked out by hand.
import { describe, expect, it } from "vitest";
import { CliError } from "../../cli/errors.ts";
import { namingMetadata } from "../../cli/gguf/inspect.ts";
import { parseBytes, parseDuration } from "../../cli/lib/units.ts";
import { lintConfig, lintLoaded } from "../../cli/measure/lints.ts";
import { parsePerfLines } from "../../cli/measure/perf-log.ts";
import type { TestResult, TestSpec } from "../../cli/measure/protocol.ts";
import { Recorder } from "../../cli/measure/recorder.ts";
import { summarizeSoak } from "../../cli/measure/soak.ts";
import { mad, mean, median, outlierIndexes, percentile, slope, stddev } from "../../cli/measure/stats.ts";
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
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(mad([1, 2, 3, 4, 100])).toBe(1);
  });

  it("mark repetitions far from the median as outliers, and leave agreeing ones alone", () => {
    // The H200 pp512 samples: the first includes GPU pipeline compilation.
    expect(outlierIndexes([79.1, 24385.5, 22093.5])).toEqual([0]);
    expect(outlierIndexes([100, 101, 102])).toEqual([]);
    // Nearly identical repetitions (MAD 0) do not turn 4 % of jitter into an outlier; 6 % is marked.
    expect(outlierIndexes([100, 100, 100, 104])).toEqual([]);
    expect(outlierIndexes([100, 100, 100, 106])).toEqual([3]);
    // More than 50 % from the median is always far, however spread the others are.
    expect(outlierIndexes([10, 50, 100])).toEqual([0, 2]);
    // Two samples have no median to tell which one is off.
    expect(outlierIndexes([80, 24000])).toEqual([]);
  });
});

describe("llama.cpp's performance counters", () => {
  it("read from the lines llama_perf_context_print writes", () => {
    const timing = parsePerfLines([
      "llama_perf_context_print:        load time =      95.12 ms",
      "llama_perf_context_print: prompt eval time =      12.34 ms /    16 tokens (    0.77 ms per token,  1296.60 tokens per second)",
      "llama_perf_context_print:        eval time =     123.45 ms /   127 runs   (    0.97 ms per token,  1028.72 tokens per second)",
      "llama_perf_context_print:       total time =     140.00 ms /   143 tokens",
    ]);
    expect(timing?.promptTokens).toBe(16);
    expect(timing?.evalRuns).toBe(127);
    // A short test: the rate has more significant digits than the milliseconds.
    expect(timing?.evalMs).toBeCloseTo((127 * 1000) / 1028.72, 6);
    expect(timing?.promptMs).toBeCloseTo((16 * 1000) / 1296.6, 6);
  });

  it("count nothing where nothing ran (llama.cpp prints 1 run of 0.00 ms), and read older builds' lines", () => {
    expect(
      parsePerfLines([
        "llama_print_timings: prompt eval time =       0.00 ms /     1 tokens (    0.00 ms per token,      inf tokens per second)",
        "llama_print_timings:        eval time =   20000.00 ms /   200 runs   (  100.00 ms per token,    10.00 tokens per second)",
      ]),
    ).toEqual({ promptTokens: 0, promptMs: 0, evalRuns: 200, evalMs: 20000 });
    expect(parsePerfLines(["llama_perf_context_print: load time = 1.00 ms"])).toBeUndefined();
  });
});

describe("the recorder", () => {
  const spec: TestSpec = { kind: "decode", nPrompt: 16, nGen: 4 };
  const decode = (times: number[], evalMs?: number): TestResult => ({
    kind: "decode",
    ttftMs: times[0] as number,
    tokenTimesMs: times,
    text: "",
    tokens: [1, 2, 3, 4],
    ...(evalMs === undefined ? {} : { engine: { promptTokens: 16, promptMs: 2, evalRuns: 3, evalMs } }),
  });

  it("keeps warm-ups out of the samples, counts them, and times decode by the engine with the delivered rate beside it", () => {
    const rec = new Recorder();
    rec.result(spec, decode([10, 20, 30, 40], 15), { cold: true, label: "cold" });
    // A warm-up ten times slower than the rest (a GPU compiling its pipelines) is never sampled.
    rec.result(spec, decode([100, 200, 300, 400], 150), { cold: false, warmup: true, label: "warm-up" });
    for (const evalMs of [3, 3, 6]) rec.result(spec, decode([5, 10, 15, 20], evalMs), { cold: false, label: "rep" });
    const m = rec.measurements();
    const get = (label: string, cold = false) => m.find((x) => x.label === label && x.cold === cold);
    // 3 decodes in 3 ms: 1000 tok/s; the third repetition, half as fast, is marked.
    expect(get("tg4")).toMatchObject({ timing: "engine", warmup: 1, repetitions: 3, samples: [1000, 1000, 500] });
    expect(get("tg4")).toMatchObject({ median: 1000, outliers: [2] });
    // Delivered: 3 tokens after the first in 15 ms.
    expect(get("tg4 delivered")).toMatchObject({
      timing: "delivered",
      warmup: 1,
      samples: [200, 200, 200],
      median: 200,
    });
    expect(get("tg4 delivered")?.outliers).toBeUndefined();
    expect(get("tg4", true)).toMatchObject({ timing: "engine", samples: [200], repetitions: 1 });
    expect(get("tg4", true)?.warmup).toBeUndefined();
    expect(get("tg4 per token")).toMatchObject({ warmup: 1, repetitions: 9, median: 5, p50: 5 });
  });

  it("falls back to the delivered rate, saying so, when llama.cpp's counters could not be read", () => {
    const rec = new Recorder();
    rec.result(spec, decode([5, 10, 15, 20]), { cold: false, label: "rep" });
    rec.result({ kind: "prefill", nPrompt: 32 }, { kind: "prefill", ms: 4, tokens: 32 }, { cold: false, label: "pp" });
    // Counters that do not add up to the prompt are not believed either.
    const odd = { promptTokens: 16, promptMs: 1, evalRuns: 0, evalMs: 0 };
    rec.result(
      { kind: "prefill", nPrompt: 32 },
      { kind: "prefill", ms: 4, tokens: 32, engine: odd },
      { cold: false, label: "pp" },
    );
    const m = rec.measurements();
    expect(m.find((x) => x.label === "tg4")).toMatchObject({ timing: "delivered", samples: [200], warmup: 0 });
    expect(m.find((x) => x.label === "tg4 delivered")).toBeUndefined();
    expect(m.find((x) => x.label === "pp32")).toMatchObject({ timing: "delivered", samples: [8000, 8000] });
  });

  it("times prefill by llama.cpp's prompt evaluation", () => {
    const rec = new Recorder();
    const engine = { promptTokens: 512, promptMs: 20, evalRuns: 0, evalMs: 0 };
    rec.result(
      { kind: "prefill", nPrompt: 512 },
      { kind: "prefill", ms: 21, tokens: 512, engine },
      { cold: false, label: "pp" },
    );
    expect(rec.measurements()[0]).toMatchObject({ label: "pp512", timing: "engine", samples: [25600], median: 25600 });
  });
});

describe("GGUF naming metadata", () => {
  it("takes the general.* naming keys, nested or flat, and the base models", () => {
    const metadata = {
      general: {
        architecture: "llama",
        name: "Llama 3.2 1B Instruct",
        basename: "Llama-3.2",
        size_label: "1B",
        finetune: "Instruct",
        version: "v1",
        organization: "Meta Llama",
        base_model: {
          count: 2,
          "0": {
            name: "Llama 3.2 1B",
            organization: "Meta Llama",
            repo_url: "https://huggingface.co/meta-llama/Llama-3.2-1B",
          },
          "1": { name: "Other", organization: "Someone" },
        },
      },
    };
    expect(namingMetadata(metadata as never)).toEqual({
      name: "Llama 3.2 1B Instruct",
      basename: "Llama-3.2",
      sizeLabel: "1B",
      finetune: "Instruct",
      version: "v1",
      organization: "Meta Llama",
      baseModels: ["https://huggingface.co/meta-llama/Llama-3.2-1B", "Someone/Other"],
    });
    const flat = {
      "general.name": " spaced ",
      "general.size_label": "x".repeat(41),
      "general.base_model.0.name": "Base",
    };
    expect(namingMetadata(flat as never)).toEqual({ name: "spaced", baseModels: ["Base"] });
    expect(namingMetadata({} as never)).toEqual({});
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
