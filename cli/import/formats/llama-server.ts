// llama-server (llama.cpp): the `timings` object of /completion and OpenAI-compatible
// /v1/chat/completions answers (whole, or the last event of a stream), with `model`,
// `generation_settings` and `system_fingerprint` when present; and the timing lines llama.cpp
// prints: the server's "prompt eval time = … ms / n tokens (…)" lines and the older
// `llama_print_timings:` / `llama_perf_context_print:` ones, in plain or JSON log lines.
import type { Bundle, Config, Measurement } from "../../../schema/bundle.ts";
import { deviceFor, importedBundle, modelNameFor } from "../build.ts";
import { type ImportContext, ImportError, type Importer } from "../types.ts";
import {
  checkedRate,
  isRecord,
  jsonDocuments,
  measurementsOf,
  numberedLines,
  numberField,
  quantizationFromName,
  type RunValue,
  round6,
  stringField,
} from "./console-units.ts";
import { type DeviceFacts, deviceFactsAt, scanDeviceLog } from "./device-log.ts";

/** One request as llama.cpp timed it. */
interface ServerRun {
  line: number;
  model?: string | undefined;
  fileName?: string | undefined;
  build?: string | undefined;
  config: Config;
  promptTokens?: number | undefined;
  promptMs?: number | undefined;
  printedPromptRate?: number | undefined;
  cachedTokens?: number | undefined;
  evalTokens?: number | undefined;
  evalMs?: number | undefined;
  printedEvalRate?: number | undefined;
  totalMs?: number | undefined;
  loadMs?: number | undefined;
  /** What the log says about the device and the offload at this run. */
  device?: DeviceFacts | undefined;
}

// Without --alias, older servers answered /v1 requests with OpenAI's default model name.
const PLACEHOLDER_MODEL = /^gpt-3\.5-turbo/;
const RANDOM_SEED = 4294967295;

function modelFromPath(path: string | undefined): { name?: string; fileName?: string } {
  if (!path || PLACEHOLDER_MODEL.test(path)) return {};
  const fileName = path.split(/[\\/]/).pop() as string;
  return /\.gguf$/i.test(fileName) ? { name: fileName.replace(/\.gguf$/i, ""), fileName } : { name: path };
}

function configFrom(settings: Record<string, unknown> | undefined, context: ImportContext, line: number): Config {
  if (!settings) return {};
  const n = (key: string) => numberField(settings, key, context, line);
  const sampling: NonNullable<Config["sampling"]> = {};
  const temperature = n("temperature") ?? n("temp");
  if (temperature !== undefined) sampling.temperature = round6(temperature);
  const topK = n("top_k");
  if (topK !== undefined) sampling.topK = topK;
  const topP = n("top_p");
  if (topP !== undefined) sampling.topP = round6(topP);
  const minP = n("min_p");
  if (minP !== undefined) sampling.minP = round6(minP);
  const repeatPenalty = n("repeat_penalty");
  if (repeatPenalty !== undefined) sampling.repeatPenalty = round6(repeatPenalty);
  const seed = settings.seed;
  // 4294967295 (-1 as unsigned) asks for a random seed: no seed was fixed.
  if (typeof seed === "number" && Number.isInteger(seed) && seed >= 0 && seed !== RANDOM_SEED) sampling.seed = seed;
  // n_predict is left out: predicted_n (nGen) says how long each run was, and a per-request limit
  // would split one configuration into a bundle per length.
  const config: Config = {};
  const nCtx = n("n_ctx");
  if (nCtx && Number.isInteger(nCtx)) config.contextSize = nCtx;
  if (Object.keys(sampling).length) config.sampling = sampling;
  return config;
}

/** A `timings` object printed on its own (`jq .timings`, a log of it): llama.cpp's fields, and no response around them. */
function isBareTimings(value: Record<string, unknown>): boolean {
  return (
    !("timings" in value) &&
    (typeof value.predicted_n === "number" || typeof value.prompt_n === "number") &&
    (typeof value.predicted_ms === "number" || typeof value.prompt_ms === "number")
  );
}

function runFromResponse(value: Record<string, unknown>, line: number, context: ImportContext): ServerRun | undefined {
  const timings = isBareTimings(value) ? value : value.timings;
  if (!isRecord(timings)) return undefined;
  const verbose = isRecord(value.__verbose) ? value.__verbose : undefined;
  const settings = isRecord(value.generation_settings)
    ? value.generation_settings
    : isRecord(verbose?.generation_settings)
      ? verbose.generation_settings
      : undefined;
  const model = modelFromPath(stringField(value, "model") ?? (settings ? stringField(settings, "model") : undefined));
  const t = (key: string) => numberField(timings, key, context, line);
  const run: ServerRun = {
    line,
    model: model.name,
    fileName: model.fileName,
    build: stringField(value, "system_fingerprint"),
    config: configFrom(settings, context, line),
    promptTokens: t("prompt_n"),
    promptMs: t("prompt_ms"),
    printedPromptRate: t("prompt_per_second"),
    cachedTokens: t("cache_n"),
    evalTokens: t("predicted_n"),
    evalMs: t("predicted_ms"),
    printedEvalRate: t("predicted_per_second"),
  };
  // prompt_ms and predicted_ms are milliseconds; their per-token figures must agree with them, or
  // the object was rewritten in other units.
  for (const [n, ms, perToken, what] of [
    [run.promptTokens, run.promptMs, t("prompt_per_token_ms"), "prompt"],
    [run.evalTokens, run.evalMs, t("predicted_per_token_ms"), "predicted"],
  ] as const) {
    if (n && ms !== undefined && perToken !== undefined && Math.abs(perToken * n - ms) > Math.max(0.02 * ms, 0.05)) {
      throw new ImportError(
        context.file,
        line,
        `timings.${what}_per_token_ms (${perToken}) × ${what}_n (${n}) does not give ${what}_ms (${ms}): expected milliseconds`,
      );
    }
  }
  return run;
}

/** True for a streamed event that is not the last one (the last carries the timings). */
function isOpenStreamEvent(value: Record<string, unknown>): boolean {
  if (value.stop === false) return true;
  if (value.object === "chat.completion.chunk" && Array.isArray(value.choices)) {
    return value.choices.every((c) => isRecord(c) && c.finish_reason === null) && !isRecord(value.timings);
  }
  return false;
}

function runsFromJson(text: string, context: ImportContext): ServerRun[] {
  const runs: ServerRun[] = [];
  let openStreamLine: number | undefined;
  const objects = jsonDocuments(text, context).flatMap((doc) =>
    (Array.isArray(doc.value) ? doc.value : [doc.value]).map((value) => ({ line: doc.line, value })),
  );
  for (const { line, value } of objects) {
    if (!isRecord(value)) continue;
    const run = runFromResponse(value, line, context);
    if (run) {
      runs.push(run);
      openStreamLine = undefined;
    } else if (isOpenStreamEvent(value)) {
      openStreamLine ??= line;
    }
  }
  if (openStreamLine !== undefined) {
    throw new ImportError(
      context.file,
      openStreamLine,
      "the streamed response that starts here is cut off: expected a last event carrying the timings",
    );
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------
// printed timing lines

const TIMING_LINE =
  /\b(prompt eval time|generation eval time|eval time|total time|load time)\s*=\s*(\d+(?:\.\d+)?)\s*ms(?:\s*\/\s*(\d+)\s*(?:tokens|runs))?(?:\s*\(\s*(\d+(?:\.\d+)?)\s*ms per token,\s*(\d+(?:\.\d+)?|inf|nan)\s*tokens per second\))?/i;
const MODEL_FILE = /(?:loaded meta data with .* from|loading model from|-m|--model)\s+'?"?(\S+?\.gguf)\b/;
const GENERAL_NAME = /general\.name\s+(?:str\s+)?=\s*(.+?)\s*$/;
const BUILD = /\bbuild(?: info)?:\s*(\d+)\s*\(([0-9a-f]+)\)/;
const THREADS = /\bn_threads\s*=\s*(\d+)/;
const N_CTX = /\bn_ctx\s*=\s*(\d+)/;

function runsFromLines(text: string, context: ImportContext): ServerRun[] {
  const runs: ServerRun[] = [];
  let fileName: string | undefined;
  let generalName: string | undefined;
  let build: string | undefined;
  const config: Config = {};
  let current: ServerRun | undefined;
  let pendingLoadMs: number | undefined;
  const finish = () => {
    if (!current) return;
    if (current.evalMs === undefined) {
      throw new ImportError(
        context.file,
        current.line,
        'the timings that start here are cut off: expected an "eval time = … ms / n tokens" line after "prompt eval time"',
      );
    }
    runs.push(current);
    current = undefined;
  };
  const start = (line: number) => {
    const fromFile = modelFromPath(fileName);
    current = {
      line,
      model: generalName ?? fromFile.name,
      fileName: fromFile.fileName,
      build,
      config: { ...config },
      loadMs: pendingLoadMs,
    };
    pendingLoadMs = undefined;
    return current;
  };
  for (const { number, text: line } of numberedLines(text)) {
    const file = MODEL_FILE.exec(line);
    if (file) fileName = file[1];
    const name = GENERAL_NAME.exec(line);
    if (name) generalName = name[1];
    const buildMatch = BUILD.exec(line);
    if (buildMatch) build = `b${buildMatch[1]}-${buildMatch[2]}`;
    const threads = THREADS.exec(line);
    if (threads && Number(threads[1]) > 0) config.threads = Number(threads[1]);
    const nCtx = N_CTX.exec(line);
    if (nCtx && Number(nCtx[1]) > 0) config.contextSize = Number(nCtx[1]);

    const timing = TIMING_LINE.exec(line);
    if (!timing) continue;
    const what = (timing[1] as string).toLowerCase();
    const ms = Number(timing[2]);
    const tokens = timing[3] === undefined ? undefined : Number(timing[3]);
    const printedRate = timing[5] === undefined || !/^\d/.test(timing[5]) ? undefined : Number(timing[5]);
    if (what === "load time") {
      // llama_print_timings prints the load first; it belongs to the run whose timings follow.
      if (current?.evalMs !== undefined) finish();
      if (current) current.loadMs = ms;
      else pendingLoadMs = ms;
    } else if (what === "prompt eval time") {
      finish();
      const run = start(number);
      run.promptMs = ms;
      run.promptTokens = tokens;
      run.printedPromptRate = printedRate;
    } else if (what === "eval time" || what === "generation eval time") {
      if (current?.evalMs !== undefined) finish();
      const run = current ?? start(number);
      run.evalMs = ms;
      run.evalTokens = tokens;
      run.printedEvalRate = printedRate;
    } else if (current) {
      current.totalMs = ms;
      finish();
    }
  }
  finish();
  return runs;
}

// ---------------------------------------------------------------------------------------------
// runs → bundles

function bundleFor(runs: ServerRun[], modelName: string, context: ImportContext): Bundle {
  const first = runs[0] as ServerRun;
  // Prompt evaluations after the same number of cached tokens (cache_n: the prefix reused from the
  // slot's cache) are repetitions of one test at that depth; cache_n 0 or absent is no depth.
  const prefill = new Map<number, RunValue[]>();
  const decode = [];
  const latency = [];
  const load = [];
  let cached = 0;
  for (const run of runs) {
    const promptRate = checkedRate(run.promptTokens, run.promptMs, run.printedPromptRate, "prompt", context, run.line);
    if (promptRate !== undefined) {
      const depth = run.cachedTokens ?? 0;
      prefill.set(depth, [...(prefill.get(depth) ?? []), { value: promptRate, tokens: run.promptTokens }]);
    }
    const evalRate = checkedRate(run.evalTokens, run.evalMs, run.printedEvalRate, "generation", context, run.line);
    if (evalRate !== undefined) decode.push({ value: evalRate, tokens: run.evalTokens });
    if (run.totalMs !== undefined) latency.push({ value: run.totalMs, tokens: run.evalTokens });
    if (run.loadMs !== undefined) load.push({ value: run.loadMs });
    if (run.cachedTokens) cached++;
  }
  const cacheNote = cached
    ? `${cached} of ${runs.length} request(s) reused prompt tokens from the cache (cache_n > 0); prompt_n counts only the tokens evaluated.`
    : undefined;
  const measurements: Measurement[] = [
    ...measurementsOf("load", load, undefined, "llama.cpp's load time."),
    ...[...prefill].flatMap(([depth, values]) =>
      measurementsOf("prefill", values, "nPrompt", cacheNote).map((m) => (depth > 0 ? { ...m, depth } : m)),
    ),
    ...measurementsOf("decode", decode, "nGen"),
    ...measurementsOf("e2e_latency", latency, "nGen", "llama.cpp's total time: prompt evaluation plus generation."),
  ];
  const fileName = runs.find((r) => r.fileName)?.fileName;
  const quantization = quantizationFromName(fileName ?? modelName);
  const build = runs.find((r) => r.build)?.build;
  const config = first.config;
  const facts = first.device;
  return importedBundle(
    {
      device: deviceFor(context, facts?.accelerators.length ? { accelerators: facts.accelerators } : {}, {
        line: first.line,
      }),
      runtime: {
        engine: "llama-server",
        ...(build ? { build } : {}),
        ...(facts?.backend ? { backend: facts.backend } : {}),
      },
      model: {
        name: modelName,
        ...(quantization ? { quantization } : {}),
        ...(fileName ? { fileName, format: "gguf" as const } : {}),
        ...(facts?.layers ? { layers: facts.layers } : {}),
        ...(facts?.metadata ? { metadata: facts.metadata } : {}),
      },
      ...(Object.keys(config).length ? { config } : {}),
      measurements,
    },
    "llama-server",
    context,
  );
}

export const llamaServer: Importer = {
  format: "llama-server",
  detect(text) {
    if (/"timings"\s*:\s*\{/.test(text) && /"predicted_(?:n|ms|per_second)"\s*:/.test(text)) return 0.95;
    // A bare timings object: only llama.cpp names its fields prompt_n / predicted_n and prompt_ms / predicted_ms.
    if (/"(?:prompt|predicted)_n"\s*:/.test(text) && /"(?:prompt|predicted)_ms"\s*:/.test(text)) return 0.9;
    if (/\b(?:llama_print_timings|llama_perf_context_print|print_timings?)\b.*eval time\s*=/.test(text)) return 0.9;
    if (/^\s*prompt eval time\s*=\s*[\d.]+\s*ms\s*\/\s*\d+\s*tokens/m.test(text)) return 0.85;
    if (/prompt eval time\s*=.*tokens per second/.test(text)) return 0.6;
    // A stream cut before its last event still has to reach this importer, to be reported as cut off.
    if (/"object"\s*:\s*"chat\.completion\.chunk"|"id_slot"\s*:/.test(text)) return 0.6;
    return 0;
  },
  parse(text, context) {
    const fromJson = /"timings"\s*:|"stop"\s*:\s*false|"chat\.completion\.chunk"|"(?:prompt|predicted)_n"\s*:/.test(
      text,
    )
      ? runsFromJson(text, context)
      : [];
    const runs = [...fromJson, ...runsFromLines(text, context)].sort((a, b) => a.line - b.line);
    const log = scanDeviceLog(text);
    const groups = new Map<string, { name: string; runs: ServerRun[] }>();
    for (const run of runs) {
      const name = modelNameFor(context, run.model, run.line);
      run.device = deviceFactsAt(log, run.line);
      // "offloaded X/Y layers to GPU": X is llama.cpp's -ngl count (the output layer is one).
      if (run.device.gpuLayers !== undefined) run.config = { ...run.config, gpuLayers: run.device.gpuLayers };
      const { gpuLayers: _gpuLayers, ...device } = run.device;
      const key = `${name}\u0000${JSON.stringify(run.config)}\u0000${JSON.stringify(device)}`;
      const group = groups.get(key) ?? { name, runs: [] };
      group.runs.push(run);
      groups.set(key, group);
    }
    return [...groups.values()].map((g) => bundleFor(g.runs, g.name, context));
  },
};
