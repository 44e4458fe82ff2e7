// What a run has measured so far, kept so that a bundle can be written at any moment: after every
// test (a checkpoint that survives a kill), on Ctrl-C, and at the end.
import type { Failure, Measurement, MeasurementKind } from "../../schema/bundle.ts";
import { MEASUREMENT_UNITS } from "../../schema/bundle.ts";
import type { Resources, TestResult, TestSpec } from "./protocol.ts";
import { mean, percentile, round, stddev } from "./stats.ts";

interface Series {
  kind: MeasurementKind;
  label: string;
  nPrompt?: number | undefined;
  nGen?: number | undefined;
  depth?: number | undefined;
  cold: boolean;
  values: number[];
  notes?: string | undefined;
  percentiles?: boolean;
}

export interface Output {
  text: string;
  tokens: number[];
  source: string;
}

/** Per-token latencies are many; the bundle keeps at most this many raw samples per series. */
const MAX_RAW_SAMPLES = 2000;

export class Recorder {
  private series = new Map<string, Series>();
  readonly outputs: Output[] = [];
  readonly failures: Array<{ failure: Failure; test: string }> = [];
  peakRssBytes = 0;
  peakVramBytes: number | undefined;
  completedTests = 0;
  lastCompleted = "";

  private add(key: Omit<Series, "values">, value: number): void {
    const id = `${key.kind}|${key.label}|${key.cold}`;
    const series = this.series.get(id) ?? { ...key, values: [] };
    series.values.push(value);
    this.series.set(id, series);
  }

  resources(r: Resources): void {
    this.peakRssBytes = Math.max(this.peakRssBytes, r.maxRssBytes);
    if (r.vramUsedBytes !== undefined) this.peakVramBytes = Math.max(this.peakVramBytes ?? 0, r.vramUsedBytes);
  }

  load(ms: number, cold: boolean): void {
    this.add({ kind: "load", label: cold ? "cold load" : "load", cold }, ms);
  }

  /** Records a finished test; `cold` marks the warm-up run, kept apart from the repetitions. */
  result(spec: TestSpec, result: TestResult, options: { cold: boolean; label: string }): void {
    const { cold, label } = options;
    this.completedTests++;
    this.lastCompleted = label;
    switch (result.kind) {
      case "prefill":
        this.add(
          { kind: "prefill", label: `pp${result.tokens}`, nPrompt: result.tokens, cold },
          result.tokens / (result.ms / 1000),
        );
        break;
      case "ttft":
        this.add({ kind: "ttft", label: `ttft@${result.tokens}`, nPrompt: result.tokens, cold }, result.ms);
        break;
      case "decode": {
        const n = result.tokenTimesMs.length;
        const first = result.tokenTimesMs[0] ?? 0;
        const last = result.tokenTimesMs[n - 1] ?? first;
        const depth = spec.kind === "decode" ? spec.nPrompt : undefined;
        // The first token's time includes evaluating the prompt: decode speed counts the tokens after it.
        if (n > 1 && last > first) {
          this.add({ kind: "decode", label: `tg${n}`, nGen: n, depth, cold }, (n - 1) / ((last - first) / 1000));
        }
        this.add({ kind: "ttft", label: `ttft@${depth ?? 0}`, nPrompt: depth, cold }, result.ttftMs);
        for (let i = 1; i < n; i++) {
          const gap = (result.tokenTimesMs[i] as number) - (result.tokenTimesMs[i - 1] as number);
          this.add({ kind: "token_latency", label: `tg${n} per token`, nGen: n, depth, cold, percentiles: true }, gap);
        }
        this.outputs.push({ text: result.text, tokens: result.tokens, source: `${cold ? "warm-up " : ""}tg${n}` });
        break;
      }
      case "generate":
      case "perplexity":
        // Suite generations and perplexity are quality evidence, scored by the runner, not speed.
        break;
    }
  }

  fail(failure: Failure, test: string): void {
    this.failures.push({ failure, test });
  }

  /** Decode speed per generated token count, warm runs only: what the roofline and targets read. */
  decodeRates(): Array<{ nGen: number; mean: number }> {
    return [...this.series.values()]
      .filter((s) => s.kind === "decode" && !s.cold && s.nGen !== undefined)
      .map((s) => ({ nGen: s.nGen as number, mean: mean(s.values) as number }));
  }

  measurements(): Measurement[] {
    const out: Measurement[] = [];
    for (const s of this.series.values()) {
      const unit = MEASUREMENT_UNITS[s.kind];
      const kept = s.values.length > MAX_RAW_SAMPLES ? undefined : s.values.map((v) => round(v));
      const stats = {
        repetitions: s.values.length,
        ...(kept ? { samples: kept } : {}),
        mean: round(mean(s.values) as number),
        ...(s.values.length > 1 ? { stddev: round(stddev(s.values) as number) } : {}),
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
