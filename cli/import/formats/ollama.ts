// Ollama: the JSON answers of /api/generate and /api/chat (whole, several in one file, or streamed
// as NDJSON where the last chunk, done: true, carries the statistics) and the block `ollama run
// --verbose` prints after each reply. Durations in the JSON are nanoseconds; the verbose block
// prints Go durations (1.234s, 567.8ms, 12µs).
import type { Bundle, Measurement } from "../../../schema/bundle.ts";
import { deviceFor, importedBundle, modelNameFor } from "../build.ts";
import { type ImportContext, ImportError, type Importer } from "../types.ts";
import {
  checkedRate,
  isRecord,
  jsonDocuments,
  measurementsOf,
  nanosecondsToMs,
  numberedLines,
  numberField,
  parseDurationMs,
  parseNumber,
  parseRate,
  quantizationFromName,
  stringField,
} from "./console-units.ts";
import { type DeviceFacts, type DeviceLog, deviceFactsAt, scanDeviceLog } from "./device-log.ts";

/** One reply: what Ollama reported about it, in ms and tokens. */
interface OllamaRun {
  line: number;
  model?: string | undefined;
  createdAt?: string | undefined;
  totalMs?: number | undefined;
  loadMs?: number | undefined;
  promptTokens?: number | undefined;
  promptMs?: number | undefined;
  printedPromptRate?: number | undefined;
  evalTokens?: number | undefined;
  evalMs?: number | undefined;
  printedEvalRate?: number | undefined;
  /** "load" for a request that only loaded the model (empty prompt). */
  doneReason?: string | undefined;
}

// ---------------------------------------------------------------------------------------------
// the API's JSON

const API_MARKERS = /"(?:eval_count|eval_duration|prompt_eval_count|load_duration)"\s*:/;

function runsFromJson(text: string, context: ImportContext): { runs: OllamaRun[]; errors: number } {
  const runs: OllamaRun[] = [];
  let errors = 0;
  let openStream: { line: number; model?: string | undefined } | undefined;
  const objects = jsonDocuments(text, context).flatMap((doc) =>
    (Array.isArray(doc.value) ? doc.value : [doc.value]).map((value) => ({ line: doc.line, value })),
  );
  for (const { line, value } of objects) {
    if (!isRecord(value)) continue;
    if (typeof value.error === "string") {
      errors++;
      openStream = undefined;
      continue;
    }
    if (value.done === false) {
      // A streamed chunk: the statistics come with the final one.
      openStream ??= { line, model: stringField(value, "model") };
      continue;
    }
    if (value.done !== true && !("eval_count" in value) && !("total_duration" in value)) continue;
    openStream = undefined;
    const ns = (key: string) => {
      const n = numberField(value, key, context, line);
      return n === undefined ? undefined : nanosecondsToMs(n);
    };
    const run: OllamaRun = {
      line,
      model: stringField(value, "model"),
      createdAt: stringField(value, "created_at"),
      totalMs: ns("total_duration"),
      loadMs: ns("load_duration"),
      promptTokens: numberField(value, "prompt_eval_count", context, line),
      promptMs: ns("prompt_eval_duration"),
      evalTokens: numberField(value, "eval_count", context, line),
      evalMs: ns("eval_duration"),
      doneReason: stringField(value, "done_reason"),
    };
    // Nanoseconds are the API's unit: a token generated in under a microsecond means the file holds
    // milliseconds or seconds under a nanosecond name, and every rate from it would be wrong.
    for (const [tokens, ms, key] of [
      [run.evalTokens, run.evalMs, "eval_duration"],
      [run.promptTokens, run.promptMs, "prompt_eval_duration"],
    ] as const) {
      if (tokens && ms !== undefined && ms > 0 && ms < tokens * 1e-3) {
        throw new ImportError(
          context.file,
          line,
          `${key} is ${ms * 1e6} for ${tokens} tokens: expected nanoseconds, as Ollama's API writes them`,
        );
      }
    }
    runs.push(run);
  }
  if (openStream) {
    throw new ImportError(
      context.file,
      openStream.line,
      'the streamed response that starts here is cut off: expected a final chunk with "done": true and the timings',
    );
  }
  return { runs, errors };
}

// ---------------------------------------------------------------------------------------------
// the `ollama run --verbose` block

const VERBOSE_KEYS = [
  "total duration",
  "load duration",
  "prompt eval count",
  "prompt eval duration",
  "prompt eval rate",
  "eval count",
  "eval duration",
  "eval rate",
] as const;
type VerboseKey = (typeof VERBOSE_KEYS)[number];
const VERBOSE_LINE = new RegExp(`^\\s*(${VERBOSE_KEYS.join("|")}):\\s*(.*?)\\s*$`, "i");
const RUN_COMMAND = /\bollama\s+run\s+(?:--?\S+\s+)*([^\s-]\S*)/;

function verboseValue(key: VerboseKey, raw: string, context: ImportContext, line: number): number | undefined {
  if (key.endsWith("count")) {
    const count = parseNumber(raw.replace(/\s*token\(s\)$/, ""));
    if (count === undefined) throw new ImportError(context.file, line, `expected "${key}: <n> token(s)", got "${raw}"`);
    return count;
  }
  if (key.endsWith("rate")) {
    // Ollama prints NaN or +Inf when a duration was zero: no rate, not an error.
    if (/^(?:NaN|[+-]?Inf)\b/.test(raw)) return undefined;
    const rate = parseRate(raw);
    if (rate === undefined) throw new ImportError(context.file, line, `expected "${key}: <x> tokens/s", got "${raw}"`);
    return rate;
  }
  const ms = parseDurationMs(raw);
  if (ms === undefined) {
    throw new ImportError(
      context.file,
      line,
      `expected a duration such as 1.234s, 567.8ms or 12µs after "${key}:", got "${raw}"`,
    );
  }
  return ms;
}

function runsFromVerbose(text: string, context: ImportContext): OllamaRun[] {
  const runs: OllamaRun[] = [];
  let model: string | undefined;
  let block: { run: OllamaRun; seen: Set<VerboseKey>; last: number } | undefined;
  const close = () => {
    if (!block) return;
    if (!block.seen.has("eval count") || !block.seen.has("eval duration")) {
      throw new ImportError(
        context.file,
        block.last,
        'the ollama --verbose statistics are cut off here: expected "eval count:" and "eval duration:" lines',
      );
    }
    runs.push(block.run);
    block = undefined;
  };
  for (const { number, text: line } of numberedLines(text)) {
    const command = RUN_COMMAND.exec(line);
    if (command) model = command[1];
    const stat = VERBOSE_LINE.exec(line);
    if (!stat) {
      if (line.trim() !== "") close();
      continue;
    }
    const key = (stat[1] as string).toLowerCase() as VerboseKey;
    if (block?.seen.has(key)) close();
    block ??= { run: { line: number, model }, seen: new Set(), last: number };
    block.seen.add(key);
    block.last = number;
    const value = verboseValue(key, stat[2] as string, context, number);
    const run = block.run;
    if (key === "total duration") run.totalMs = value;
    else if (key === "load duration") run.loadMs = value;
    else if (key === "prompt eval count") run.promptTokens = value;
    else if (key === "prompt eval duration") run.promptMs = value;
    else if (key === "prompt eval rate") run.printedPromptRate = value;
    else if (key === "eval count") run.evalTokens = value;
    else if (key === "eval duration") run.evalMs = value;
    else run.printedEvalRate = value;
  }
  close();
  return runs;
}

// ---------------------------------------------------------------------------------------------
// runs → bundles

/** A first reply that loaded the model takes this long at least; a resident model's load_duration is µs to ms. */
const COLD_LOAD_MS = 100;
/** With nothing to compare against, only a load this long is clearly a model being loaded. */
const LONE_COLD_LOAD_MS = 1000;

/**
 * Only a model's first reply can be cold: after it the model is resident. It is cold when its load
 * took far longer than any later reply's (the model was loaded for it).
 */
function coldFlags(runs: OllamaRun[]): Array<boolean | undefined> {
  const [first, ...rest] = runs;
  const firstLoad = first?.loadMs ?? 0;
  const laterMax = Math.max(0, ...rest.map((r) => r.loadMs ?? 0));
  const firstIsCold =
    rest.length > 0 ? firstLoad >= COLD_LOAD_MS && firstLoad >= 10 * laterMax : firstLoad >= LONE_COLD_LOAD_MS;
  return runs.map((_, index) => (firstIsCold ? index === 0 : undefined));
}

/**
 * What Ollama's server log, when the capture has it, says about the device: the GPUs ("inference
 * compute"), the backend and the offload. The log and the replies come from two terminals, so the
 * offload, block count and GGUF names are only tied to a model when the capture holds one model, or
 * the log one model load.
 */
function deviceFactsOf(log: DeviceLog, runs: OllamaRun[], models: number): DeviceFacts {
  const facts = deviceFactsAt(log, (runs[0] as OllamaRun).line);
  if (models <= 1 || log.loads.length <= 1) return facts;
  return { accelerators: facts.accelerators };
}

function bundleFor(
  modelName: string,
  runs: OllamaRun[],
  context: ImportContext,
  warnings: string[],
  facts: DeviceFacts,
): Bundle {
  const cold = coldFlags(runs);
  const prefill = [];
  const decode = [];
  const latency = [];
  const load = [];
  for (const [index, run] of runs.entries()) {
    const isCold = cold[index];
    // Every reply's load_duration is what the file says; only the cold first one is a model load.
    if (run.loadMs !== undefined) load.push({ value: run.loadMs, cold: isCold });
    if (run.doneReason === "load") continue;
    const promptRate = checkedRate(
      run.promptTokens,
      run.promptMs,
      run.printedPromptRate,
      "prompt eval",
      context,
      run.line,
    );
    if (promptRate !== undefined) prefill.push({ value: promptRate, tokens: run.promptTokens, cold: isCold });
    const evalRate = checkedRate(run.evalTokens, run.evalMs, run.printedEvalRate, "eval", context, run.line);
    if (evalRate !== undefined) decode.push({ value: evalRate, tokens: run.evalTokens, cold: isCold });
    if (run.totalMs !== undefined) latency.push({ value: run.totalMs, tokens: run.evalTokens, cold: isCold });
  }
  const measurements: Measurement[] = [
    ...measurementsOf(
      "load",
      load.filter((l) => l.cold),
      undefined,
      "Ollama's load_duration of the first reply, for which the model was loaded.",
    ),
    ...measurementsOf(
      "load",
      load.filter((l) => !l.cold),
      undefined,
      "Ollama's load_duration: the time spent loading the model for the reply, µs to ms when it was already in memory.",
    ),
    ...measurementsOf("prefill", prefill, "nPrompt"),
    ...measurementsOf("decode", decode, "nGen"),
    ...measurementsOf(
      "e2e_latency",
      latency,
      "nGen",
      "Ollama's total_duration: the whole request, including any model load and prompt evaluation.",
    ),
  ];
  const quantization = quantizationFromName(modelName);
  const createdAt = runs.find((r) => r.createdAt)?.createdAt;
  const parts = {
    device: deviceFor(context, facts.accelerators.length ? { accelerators: facts.accelerators } : {}, {
      line: runs[0]?.line,
    }),
    runtime: { engine: "ollama" as const, ...(facts.backend ? { backend: facts.backend } : {}) },
    model: {
      name: modelName,
      ...(quantization ? { quantization } : {}),
      ...(facts.layers ? { layers: facts.layers } : {}),
      ...(facts.metadata ? { metadata: facts.metadata } : {}),
    },
    ...(facts.gpuLayers !== undefined ? { config: { gpuLayers: facts.gpuLayers } } : {}),
    measurements,
    ...(warnings.length ? { warnings: warnings.map((message) => ({ code: "skipped_responses", message })) } : {}),
  };
  return importedBundle(parts, "ollama", context, { measuredAt: createdAt });
}

export const ollama: Importer = {
  format: "ollama",
  detect(text) {
    const verboseKeys = new Set(
      text
        .split("\n")
        .map((line) => VERBOSE_LINE.exec(line)?.[1]?.toLowerCase())
        .filter(Boolean),
    );
    if (verboseKeys.has("eval rate") && verboseKeys.has("eval duration")) return 0.95;
    if (/"eval_duration"\s*:/.test(text) && /"(?:created_at|done)"\s*:/.test(text)) return 0.95;
    if (verboseKeys.size >= 3) return 0.7;
    if (/"done"\s*:\s*(?:true|false)/.test(text) && /"created_at"\s*:/.test(text)) return 0.6;
    return 0;
  },
  parse(text, context) {
    const fromJson = API_MARKERS.test(text) || /"done"\s*:/.test(text) ? runsFromJson(text, context) : undefined;
    const runs = [...(fromJson?.runs ?? []), ...runsFromVerbose(text, context)].sort((a, b) => a.line - b.line);
    const byModel = new Map<string, OllamaRun[]>();
    for (const run of runs) {
      const name = modelNameFor(context, run.model, run.line);
      byModel.set(name, [...(byModel.get(name) ?? []), run]);
    }
    const warnings = fromJson?.errors
      ? [`${fromJson.errors} response(s) in the file were Ollama errors ({"error": …}) and were not imported.`]
      : [];
    const log = scanDeviceLog(text);
    return [...byModel].map(([name, modelRuns]) =>
      bundleFor(name, modelRuns, context, warnings, deviceFactsOf(log, modelRuns, byModel.size)),
    );
  },
};
