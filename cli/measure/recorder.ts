// What a run has measured so far, kept so that a bundle can be written at any moment: after every
// test (a checkpoint that survives a kill), on Ctrl-C, and at the end.
import type { Failure, Measurement, MeasurementKind } from "../../schema/bundle.ts";
import { MEASUREMENT_UNITS } from "../../schema/bundle.ts";
import type { Resources, TestResult, TestSpec } from "./protocol.ts";
import { mean, median, outlierIndexes, percentile, round, stddev } from "./stats.ts";

type Timing = "engine" | "delivered";

interface SeriesKey {
  kind: MeasurementKind;
  label: string;
  nPrompt?: number | undefined;
  nGen?: number | undefined;
  depth?: number | undefined;
  cold: boolean;
  /** How a rate was timed: llama.cpp's own counters, or arrival in JavaScript. */
  timing?: Timing | undefined;
  percentiles?: boolean;
}

interface Series extends SeriesKey {
  values: number[];
  /** Untimed runs of the same shape that finished before the first sample. */
  warmups: number;
}

export interface Output {
  text: string;
  tokens: number[];
  source: string;
}

/** Per-token latencies are many; the bundle keeps at most this many raw samples per series. */
const MAX_RAW_SAMPLES = 2000;

const rate = (tokens: number, ms: number) => tokens / (ms / 1000);

/** What one finished test adds to each series it belongs to. */
function seriesOf(spec: TestSpec, result: TestResult, cold: boolean): Array<{ key: SeriesKey; values: number[] }> {
  switch (result.kind) {
    case "prefill": {
      // llama.cpp's time for the prompt batches (a prompt whose last batch holds one token has that
      // one counted as an eval run); JavaScript's time only when the counters did not add up to the prompt.
      const e = result.engine;
      const engineMs = e ? e.promptMs + e.evalMs : 0;
      const engine = e && e.promptTokens + e.evalRuns === result.tokens && engineMs > 0;
      const value = engine ? rate(result.tokens, engineMs) : rate(result.tokens, result.ms);
      const timing: Timing = engine ? "engine" : "delivered";
      return [
        {
          key: { kind: "prefill", label: `pp${result.tokens}`, nPrompt: result.tokens, cold, timing },
          values: [value],
        },
      ];
    }
    case "ttft":
      return [
        { key: { kind: "ttft", label: `ttft@${result.tokens}`, nPrompt: result.tokens, cold }, values: [result.ms] },
      ];
    case "decode": {
      const n = result.tokenTimesMs.length;
      const first = result.tokenTimesMs[0] ?? 0;
      const last = result.tokenTimesMs[n - 1] ?? first;
      const depth = spec.kind === "decode" ? spec.nPrompt : undefined;
      const shape = { nGen: n, depth, cold };
      const out: Array<{ key: SeriesKey; values: number[] }> = [];
      // Delivered: the first token's time includes evaluating the prompt, so the rate counts the
      // tokens after it, from the first token's arrival to the last one's.
      const delivered = n > 1 && last > first ? rate(n - 1, last - first) : undefined;
      // Engine: llama.cpp's eval time, one run per generated token decoded (the last token generated is
      // sampled, never decoded: n - 1 runs; one more when the prompt's last batch held a single token).
      const e = result.engine;
      const engine = e && e.evalRuns >= 1 && e.evalRuns <= n && e.evalMs > 0 ? rate(e.evalRuns, e.evalMs) : undefined;
      if (engine !== undefined) {
        out.push({ key: { kind: "decode", label: `tg${n}`, ...shape, timing: "engine" }, values: [engine] });
        if (delivered !== undefined) {
          const key: SeriesKey = { kind: "decode", label: `tg${n} delivered`, ...shape, timing: "delivered" };
          out.push({ key, values: [delivered] });
        }
      } else if (delivered !== undefined) {
        out.push({ key: { kind: "decode", label: `tg${n}`, ...shape, timing: "delivered" }, values: [delivered] });
      }
      out.push({ key: { kind: "ttft", label: `ttft@${depth ?? 0}`, nPrompt: depth, cold }, values: [result.ttftMs] });
      const gaps: number[] = [];
      for (let i = 1; i < n; i++)
        gaps.push((result.tokenTimesMs[i] as number) - (result.tokenTimesMs[i - 1] as number));
      if (gaps.length) {
        const key: SeriesKey = { kind: "token_latency", label: `tg${n} per token`, ...shape, percentiles: true };
        out.push({ key, values: gaps });
      }
      return out;
    }
    case "generate":
    case "perplexity":
      // Suite generations and perplexity are quality evidence, scored by the runner, not speed.
      return [];
  }
}

export class Recorder {
  private series = new Map<string, Series>();
  readonly outputs: Output[] = [];
  readonly failures: Array<{ failure: Failure; test: string }> = [];
  peakRssBytes = 0;
  peakVramBytes: number | undefined;
  completedTests = 0;
  lastCompleted = "";

  private seriesFor(key: SeriesKey): Series {
    const id = `${key.kind}|${key.label}|${key.cold}|${key.timing ?? ""}`;
    let series = this.series.get(id);
    if (!series) {
      series = { ...key, values: [], warmups: 0 };
      this.series.set(id, series);
    }
    return series;
  }

  resources(r: Resources): void {
    this.peakRssBytes = Math.max(this.peakRssBytes, r.maxRssBytes);
    if (r.vramUsedBytes !== undefined) this.peakVramBytes = Math.max(this.peakVramBytes ?? 0, r.vramUsedBytes);
  }

  load(ms: number, cold: boolean): void {
    this.seriesFor({ kind: "load", label: cold ? "cold load" : "load", cold }).values.push(ms);
  }

  /**
   * Records a finished test. `cold` marks the first generation after the load, kept apart from the
   * repetitions; `warmup` an untimed run of a test's shape before its repetitions, which is counted
   * (the measurement's `warmup`) and never sampled.
   */
  result(spec: TestSpec, result: TestResult, options: { cold: boolean; warmup?: boolean; label: string }): void {
    const { cold, label } = options;
    const warmup = options.warmup === true && !cold;
    this.completedTests++;
    this.lastCompleted = label;
    for (const { key, values } of seriesOf(spec, result, cold)) {
      const series = this.seriesFor(key);
      // A warm-up counts for the runs before the first sample (a series fed by several tests, such as
      // the time to first token of each decode size, is warmed up by the first of them).
      if (!warmup) series.values.push(...values);
      else if (series.values.length === 0) series.warmups++;
    }
    if (result.kind === "decode" && !warmup) {
      const source = `${cold ? "warm-up " : ""}tg${result.tokenTimesMs.length}`;
      this.outputs.push({ text: result.text, tokens: result.tokens, source });
    }
  }

  fail(failure: Failure, test: string): void {
    this.failures.push({ failure, test });
  }

  measurements(): Measurement[] {
    const out: Measurement[] = [];
    for (const s of this.series.values()) {
      // A series that has only its warm-up (its repetitions failed or were interrupted) has nothing to show.
      if (s.values.length === 0) continue;
      const unit = MEASUREMENT_UNITS[s.kind];
      const kept = s.values.length > MAX_RAW_SAMPLES ? undefined : s.values.map((v) => round(v));
      // Repetitions far from the median are marked (per-token latencies are a distribution, not repetitions).
      const outliers = kept && !s.percentiles ? outlierIndexes(s.values) : [];
      const stats = {
        repetitions: s.values.length,
        ...(s.cold || s.kind === "load" ? {} : { warmup: s.warmups }),
        ...(s.timing ? { timing: s.timing } : {}),
        ...(kept ? { samples: kept } : {}),
        ...(outliers.length ? { outliers } : {}),
        mean: round(mean(s.values) as number),
        ...(s.values.length > 1 ? { stddev: round(stddev(s.values) as number) } : {}),
        // The headline of a measurement is its median: one slow repetition cannot move it.
        median: round(median(s.values) as number),
        min: round(Math.min(...s.values)),
        max: round(Math.max(...s.values)),
        ...(s.percentiles
          ? {
              p50: round(percentile(s.values, 50) as number),
              p95: round(percentile(s.values, 95) as number),
              p99: round(percentile(s.values, 99) as number),
            }
          : {}),
      };
      out.push({
        kind: s.kind,
        unit,
        label: s.label,
        cold: s.cold,
        ...(s.nPrompt === undefined ? {} : { nPrompt: s.nPrompt }),
        ...(s.nGen === undefined ? {} : { nGen: s.nGen }),
        ...(s.depth === undefined ? {} : { depth: s.depth }),
        ...stats,
        ...(kept ? {} : { notes: `${s.values.length} samples; raw samples omitted above ${MAX_RAW_SAMPLES}` }),
      } as Measurement);
    }
    return out;
  }
}
