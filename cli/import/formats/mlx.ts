// MLX (mlx-lm): the statistics `mlx_lm.generate --verbose` prints after the "==========" separator
// ("Prompt: 12 tokens, 123.456 tokens-per-sec", "Generation: …", "Peak memory: 1.234 GB"; versions
// before mid-2024 print the rates without token counts), and `mlx_lm.benchmark`'s "Timing with
// prompt_tokens=…" header, one "Trial n:" line per trial and the "Averages:" line. Peak memory is
// mx.get_peak_memory() / 1e9, so GB here is 10^9 bytes.
import { type Bundle, type Config, type Measurement, Model } from "../../../schema/bundle.ts";
import { mean } from "../../measure/stats.ts";
import { deviceFor, importedBundle, modelNameFor } from "../build.ts";
import { type ImportContext, ImportError, type Importer } from "../types.ts";
import {
  measurementsOf,
  memoryBytes,
  numberedLines,
  parseNumber,
  quantizationFromName,
  type RunValue,
  rateAgrees,
  round6,
} from "./console-units.ts";

interface MlxRun {
  line: number;
  model?: string | undefined;
  config: Config;
  promptTokens?: number | undefined;
  promptRate?: number | undefined;
  genTokens?: number | undefined;
  genRate?: number | undefined;
  peakBytes?: number | undefined;
  /** mlx_lm.benchmark runs a warm-up first, so its trials are warm; generate says nothing. */
  cold?: boolean | undefined;
  /** Untimed runs before the trials: 1 where the output has mlx_lm.benchmark's "Running warmup.." line. */
  warmup?: number | undefined;
  /**
   * mlx_lm.benchmark's "Averages:" line standing alone (the trials were not in the file): the rates
   * are means of `trials` trials (when the command line says how many), not one run's.
   */
  averaged?: { trials?: number | undefined } | undefined;
}

const COMMAND = /\bmlx_lm(?:\.|\s+)(generate|benchmark|chat)\b(.*)$/;
const PROMPT = /^\s*Prompt:\s*(?:(\d+)\s*tokens?,\s*)?(\d+(?:\.\d+)?)\s*tokens-per-sec\s*$/;
const GENERATION = /^\s*Generation:\s*(?:(\d+)\s*tokens?,\s*)?(\d+(?:\.\d+)?)\s*tokens-per-sec\s*$/;
const PEAK = /^\s*Peak memory:\s*(\d+(?:\.\d+)?)\s*(GB|MB|GiB|MiB)\s*$/;
const TIMING_WITH = /^\s*Timing with\s+(.*?)\.?\s*$/;
const TRIAL = /^\s*Trial\s+(\d+):\s*(.*)$/;
const AVERAGES = /^\s*Averages:\s*(.*)$/;
const WARMUP = /^\s*Running warmup\.*\s*$/;

/** "--model x --max-tokens 100" → the model and the configuration a command line fixes. */
function fromCommand(args: string): { model?: string; config: Config; trials?: number } {
  const flag = (...names: string[]) => {
    for (const name of names) {
      const match = new RegExp(`(?:^|\\s)${name}(?:=|\\s+)(?:"([^"]+)"|'([^']+)'|(\\S+))`).exec(args);
      if (match) return match[1] ?? match[2] ?? match[3];
    }
    return undefined;
  };
  const config: Config = {};
  const sampling: NonNullable<Config["sampling"]> = {};
  const number = (value: string | undefined) => (value === undefined ? undefined : parseNumber(value));
  const temperature = number(flag("--temp", "--temperature"));
  if (temperature !== undefined) sampling.temperature = temperature;
  const topP = number(flag("--top-p"));
  if (topP !== undefined) sampling.topP = topP;
  const seed = number(flag("--seed"));
  if (seed !== undefined && Number.isInteger(seed)) sampling.seed = seed;
  // --max-tokens is left out: the generated count (nGen) says how long each run was.
  if (Object.keys(sampling).length) config.sampling = sampling;
  const batch = number(flag("--batch-size", "-b"));
  // mlx_lm.benchmark's batch size is the number of sequences generated together.
  if (batch && batch > 1) config.concurrency = batch;
  const model = flag("--model");
  // mlx_lm.benchmark's -n: how many trials its "Averages:" line averages.
  const trials = number(flag("--num-trials", "-n"));
  return {
    ...(model ? { model } : {}),
    config,
    ...(trials && Number.isInteger(trials) && trials > 0 ? { trials } : {}),
  };
}

/**
 * "prompt_tps=1234.567, generation_tps=45.678, peak_memory=1.234" → a map of its numbers; the first
 * mlx_lm.benchmark (August 2025) joined its header's two with "and": "prompt_tokens=512 and generation_tokens=128".
 */
function keyValues(text: string, context: ImportContext, line: number): Map<string, number> {
  const values = new Map<string, number>();
  for (const part of text.split(/,|\s+and\s+/)) {
    const match = /^\s*([a-z_]+)\s*=\s*(\S+)\s*$/.exec(part);
    const value = match ? parseNumber(match[2] as string) : undefined;
    if (!match || value === undefined) {
      throw new ImportError(
        context.file,
        line,
        `expected key=number pairs such as prompt_tps=123.456, got "${part.trim()}"`,
      );
    }
    values.set(match[1] as string, value);
  }
  return values;
}

function parseRuns(text: string, context: ImportContext): MlxRun[] {
  const runs: MlxRun[] = [];
  let command: { model?: string; config: Config; trials?: number } = { config: {} };
  let generate: MlxRun | undefined;
  let bench:
    | {
        line: number;
        promptTokens?: number | undefined;
        genTokens?: number | undefined;
        config: Config;
        trials: MlxRun[];
        warmup?: number | undefined;
      }
    | undefined;
  let warmedUp = false;
  /** One mlx_lm.benchmark figure set (a trial, or the averages standing alone) of the benchmark being read. */
  const benchmarkRun = (line: number, promptRate: number, genRate: number, peakGb: number | undefined): MlxRun => ({
    line,
    model: command.model,
    config: bench?.config ?? {},
    promptTokens: bench?.promptTokens,
    genTokens: bench?.genTokens,
    promptRate,
    genRate,
    peakBytes: peakGb === undefined ? undefined : memoryBytes(peakGb, "GB"),
    cold: false,
    warmup: bench?.warmup,
  });
  /**
   * `ended`: the statistics visibly ended (a "Peak memory:" line, another run) without a
   * "Generation:" line, so the prompt line is all the file says: the prefill is kept alone. A
   * prompt line the file ends on is cut off.
   */
  const endGenerate = (ended = false) => {
    if (!generate) return;
    if (generate.genRate === undefined && !ended) {
      throw new ImportError(
        context.file,
        generate.line,
        'the MLX statistics are cut off: expected a "Generation:" line after "Prompt:"',
      );
    }
    runs.push(generate);
    generate = undefined;
  };
  const endBenchmark = (averages?: Map<string, number>, line?: number) => {
    if (!bench) return;
    if (averages && bench.trials.length === 0) {
      // Only the averages were kept (e.g. one "Timing with …" and "Averages:" pair per batch size).
      const promptRate = averages.get("prompt_tps");
      const genRate = averages.get("generation_tps");
      if (promptRate === undefined || genRate === undefined) {
        throw new ImportError(context.file, line, "expected prompt_tps=… and generation_tps=… in the averages");
      }
      runs.push({
        ...benchmarkRun(line ?? bench.line, promptRate, genRate, averages.get("peak_memory")),
        averaged: { trials: command.trials },
      });
      bench = undefined;
      return;
    }
    if (!averages) {
      throw new ImportError(
        context.file,
        bench.trials.at(-1)?.line ?? bench.line,
        'the mlx_lm.benchmark output is cut off: expected its "Averages:" line after the trials',
      );
    }
    // The tool's own averages must agree with its trials: a mismatch means lines are missing.
    for (const [key, field] of [
      ["prompt_tps", "promptRate"],
      ["generation_tps", "genRate"],
    ] as const) {
      const printed = averages.get(key);
      const values = bench.trials.map((t) => t[field] as number);
      const average = mean(values);
      if (printed !== undefined && average !== undefined && !rateAgrees(printed, average)) {
        throw new ImportError(
          context.file,
          line,
          `the averages (${key}=${printed}) do not match the ${values.length} trial(s) above (${average.toFixed(3)}): expected every trial line`,
        );
      }
    }
    runs.push(...bench.trials);
    bench = undefined;
  };

  for (const { number, text: line } of numberedLines(text)) {
    const cmd = COMMAND.exec(line);
    if (cmd) {
      endGenerate(true);
      command = fromCommand(cmd[2] as string);
      warmedUp = false;
      continue;
    }
    if (WARMUP.test(line)) {
      warmedUp = true;
      continue;
    }
    const prompt = PROMPT.exec(line);
    if (prompt) {
      endGenerate(true);
      generate = {
        line: number,
        model: command.model,
        config: command.config,
        promptTokens: prompt[1] === undefined ? undefined : Number(prompt[1]),
        promptRate: Number(prompt[2]),
      };
      continue;
    }
    const generation = GENERATION.exec(line);
    if (generation) {
      if (!generate || generate.genRate !== undefined) {
        throw new ImportError(context.file, number, 'expected a "Prompt:" line before "Generation:"');
      }
      generate.genTokens = generation[1] === undefined ? undefined : Number(generation[1]);
      generate.genRate = Number(generation[2]);
      continue;
    }
    const peak = PEAK.exec(line);
    if (peak && generate) {
      generate.peakBytes = memoryBytes(Number(peak[1]), peak[2] as string);
      endGenerate(true);
      continue;
    }
    // A new output starts after a prompt line without its generation line: that run was prefill alone.
    if (generate && /^={10}\s*$/.test(line)) endGenerate(true);
    const timing = TIMING_WITH.exec(line);
    if (timing) {
      endGenerate(true);
      endBenchmark(undefined);
      const settings = keyValues(timing[1] as string, context, number);
      const batch = settings.get("batch_size");
      bench = {
        line: number,
        promptTokens: settings.get("prompt_tokens"),
        genTokens: settings.get("generation_tokens"),
        config: { ...command.config, ...(batch && batch > 1 ? { concurrency: batch } : {}) },
        trials: [],
        ...(warmedUp ? { warmup: 1 } : {}),
      };
      warmedUp = false;
      if (!batch || batch <= 1) delete bench.config.concurrency;
      continue;
    }
    const trial = TRIAL.exec(line);
    if (trial) {
      if (!bench)
        throw new ImportError(context.file, number, 'expected a "Timing with prompt_tokens=…" line before the trials');
      const values = keyValues(trial[2] as string, context, number);
      const promptRate = values.get("prompt_tps");
      const genRate = values.get("generation_tps");
      if (promptRate === undefined || genRate === undefined) {
        throw new ImportError(context.file, number, "expected prompt_tps=… and generation_tps=… in this trial line");
      }
      bench.trials.push(benchmarkRun(number, promptRate, genRate, values.get("peak_memory")));
      continue;
    }
    const averages = AVERAGES.exec(line);
    if (averages) {
      if (!bench) throw new ImportError(context.file, number, 'expected "Trial n:" lines before "Averages:"');
      endBenchmark(keyValues(averages[1] as string, context, number), number);
    }
  }
  endGenerate();
  endBenchmark(undefined);
  return runs;
}

const DECODE_NOTE = "mlx-lm's generation rate counts tokens from the first generated one, over the time since it.";

/** The measurement an "Averages:" line standing alone gives: a mean of trials that are not in the file. */
function averagedMeasurement(
  kind: "prefill" | "decode",
  run: MlxRun,
  value: number,
  tokens: number | undefined,
): Measurement {
  const trials = run.averaged?.trials;
  const notes = [
    `mlx_lm.benchmark's average of ${trials ?? "its"} trial(s); the trials themselves are not in the file.`,
    kind === "decode" ? DECODE_NOTE : undefined,
  ].filter(Boolean);
  return {
    kind,
    unit: "tokens/s",
    ...(tokens !== undefined ? { [kind === "prefill" ? "nPrompt" : "nGen"]: tokens } : {}),
    cold: false,
    ...(trials ? { repetitions: trials } : {}),
    ...(run.warmup ? { warmup: run.warmup } : {}),
    mean: value,
    notes: notes.join(" "),
  } as Measurement;
}

function bundleFor(modelName: string, runs: MlxRun[], context: ImportContext): Bundle {
  const single = runs.filter((r) => !r.averaged);
  const averaged = runs.filter((r) => r.averaged);
  const prefill: RunValue[] = single.map((r) => ({
    value: r.promptRate as number,
    tokens: r.promptTokens,
    cold: r.cold,
  }));
  // A prompt line without its generation line is a prefill alone: no decode from it.
  const decode: RunValue[] = single
    .filter((r) => r.genRate !== undefined)
    .map((r) => ({ value: r.genRate as number, tokens: r.genTokens, cold: r.cold }));
  // mlx_lm.benchmark's "Running warmup.." is one untimed run before the trials (its warm runs).
  const warmup = single.some((r) => r.cold === false) && single.every((r) => r.cold !== false || r.warmup);
  const warmed = (m: Measurement): Measurement => (warmup && m.cold === false ? { ...m, warmup: 1 } : m);
  const measurements: Measurement[] = [
    ...measurementsOf("prefill", prefill, "nPrompt").map(warmed),
    ...averaged.map((r) => averagedMeasurement("prefill", r, r.promptRate as number, r.promptTokens)),
    ...measurementsOf("decode", decode, "nGen", DECODE_NOTE).map(warmed),
    ...averaged.map((r) => averagedMeasurement("decode", r, r.genRate as number, r.genTokens)),
  ];
  const peaks = single.map((r) => r.peakBytes).filter((b): b is number => b !== undefined);
  // An average of the trials' peaks is no more than their largest: a lower bound of the peak.
  const averagedPeaks = averaged.map((r) => r.peakBytes).filter((b): b is number => b !== undefined);
  const quantization = quantizationFromName(modelName);
  const config = (runs[0] as MlxRun).config;
  // mlx_lm loads a Hugging Face repo by its id ("mlx-community/Llama-3.2-3B-Instruct-4bit"): kept as the file gives it.
  const repo = (runs[0] as MlxRun).model;
  const huggingFaceRepo = repo && Model.shape.huggingFaceRepo.safeParse(repo).success ? repo : undefined;
  return importedBundle(
    {
      device: deviceFor(context),
      runtime: { engine: "mlx" },
      model: {
        name: modelName,
        format: "mlx",
        ...(quantization ? { quantization } : {}),
        ...(huggingFaceRepo ? { huggingFaceRepo } : {}),
      },
      ...(Object.keys(config).length ? { config } : {}),
      measurements,
      ...(peaks.length
        ? {
            memory: {
              peakReportedBytes: Math.max(...peaks),
              notes: `MLX's peak memory (mx.get_peak_memory(), Metal or unified memory), the largest of ${peaks.length} run(s): ${peaks.map((b) => round6(b / 1e9)).join(", ")} GB.`,
            },
          }
        : averagedPeaks.length
          ? {
              memory: {
                peakReportedBytes: { value: Math.max(...averagedPeaks), precision: "lower_bound" as const },
                notes: `MLX's peak memory (mx.get_peak_memory(), Metal or unified memory) as mlx_lm.benchmark averages it over its trials: ${averagedPeaks.map((b) => round6(b / 1e9)).join(", ")} GB; the largest trial's peak is at least that.`,
              },
            }
          : {}),
    },
    "mlx",
    context,
  );
}

export const mlx: Importer = {
  format: "mlx",
  detect(text) {
    if (/^\s*Trial\s+\d+:\s*prompt_tps=/m.test(text) || /^\s*Averages:\s*prompt_tps=/m.test(text)) return 0.95;
    const hasPrompt = /^\s*Prompt:\s*(?:\d+\s*tokens?,\s*)?[\d.]+\s*tokens-per-sec/m.test(text);
    const hasGeneration = /^\s*Generation:\s*(?:\d+\s*tokens?,\s*)?[\d.]+\s*tokens-per-sec/m.test(text);
    if (hasPrompt && hasGeneration) return 0.95;
    if (hasPrompt || hasGeneration) return 0.7;
    return 0;
  },
  parse(text, context) {
    const groups = new Map<string, { name: string; runs: MlxRun[] }>();
    for (const run of parseRuns(text, context)) {
      const name = modelNameFor(context, run.model, run.line);
      const key = `${name}\u0000${JSON.stringify(run.config)}`;
      const group = groups.get(key) ?? { name, runs: [] };
      group.runs.push(run);
      groups.set(key, group);
    }
    return [...groups.values()].map((g) => bundleFor(g.name, g.runs, context));
  },
};
