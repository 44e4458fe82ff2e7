// lm-evaluation-harness results JSON (lm_eval --output_path …): scores per task and metric, with
// stderr, few-shot count and task version, for one model. v0.4+ names metrics "acc,none"
// (metric,filter) and may nest tasks in groups (group_subtasks); v0.3 wrote "acc"/"acc_stderr" and kept
// num_fewshot in config. Such a file measures quality only: the bundle has no speed measurements.
import * as z from "zod";
import type { Accelerator, Bundle, Device, Model, QualitySuite, Runtime, Score } from "../../../schema/bundle.ts";
import { deviceFor, importedBundle, modelNameFor } from "../build.ts";
import { type ImportContext, ImportError, type Importer } from "../types.ts";
import { jsonErrorLine } from "./llama-bench-records.ts";

/** What this importer reads of the file; everything else in it is left alone. */
const LmEvalResults = z.object({
  results: z.record(z.string(), z.record(z.string(), z.unknown())),
  groups: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  group_subtasks: z.record(z.string(), z.array(z.string())).optional(),
  versions: z.record(z.string(), z.union([z.number(), z.string(), z.null()])).optional(),
  "n-shot": z.record(z.string(), z.union([z.number(), z.string(), z.null()])).optional(),
  "n-samples": z
    .record(z.string(), z.object({ original: z.number().optional(), effective: z.number().optional() }))
    .optional(),
  config: z
    .object({
      model: z.string().optional(),
      model_args: z.union([z.string(), z.record(z.string(), z.unknown()), z.null()]).optional(),
      num_fewshot: z.union([z.number(), z.null()]).optional(),
      batch_size: z.union([z.number(), z.string(), z.null()]).optional(),
      device: z.union([z.string(), z.null()]).optional(),
      limit: z.union([z.number(), z.null()]).optional(),
      /** v0.4.3+: the parameter count the harness read from the loaded model. */
      model_num_parameters: z.number().optional(),
    })
    .optional(),
  git_hash: z.union([z.string(), z.null()]).optional(),
  lm_eval_version: z.string().optional(),
  date: z.union([z.number(), z.string()]).optional(),
  model_name: z.string().optional(),
  transformers_version: z.string().optional(),
  pretty_env_info: z.string().optional(),
});
type LmEvalResults = z.infer<typeof LmEvalResults>;

export const lmEval: Importer = {
  format: "lm-eval",
  detect(text) {
    if (!/"results"\s*:/.test(text)) return 0;
    const markers = [
      /"versions"\s*:/,
      /"n-shot"\s*:/,
      /"higher_is_better"\s*:/,
      /"config"\s*:\s*\{/,
      /_stderr(,[^"]*)?"\s*:/,
    ];
    const found = markers.filter((m) => m.test(text)).length;
    return found >= 2 ? 0.95 : found === 1 ? 0.6 : 0.2;
  },
  parse(text, context) {
    const results = readResults(context.file, text);
    return [bundleOf(results, context)];
  },
};

// ---------------------------------------------------------------------------------------------
// reading the file

/** Python's json.dump writes NaN and Infinity, which JSON (and JSON.parse) does not have. */
function withoutPythonNumbers(json: string): string {
  return json.replace(/(?<=[:[,]\s*)-?(NaN|Infinity)(?=\s*[,\]}])/g, "null");
}

function readResults(file: string, text: string): LmEvalResults {
  const lines = text.split("\n");
  // A console capture may have log lines around the JSON object.
  const start = lines.findIndex((l) => l.trim().startsWith("{"));
  if (start < 0)
    throw new ImportError(file, 1, 'expected an lm-evaluation-harness results JSON object ({ "results": … })');
  let end = lines.length - 1;
  while (end > start && !lines[end]?.trim().endsWith("}")) end--;
  // No closing brace: parse to the end, so that JSON.parse names where the text stops (a truncated file).
  if (end === start) end = lines.length - 1;
  const json = withoutPythonNumbers(lines.slice(start, end + 1).join("\n"));
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new ImportError(file, start + jsonErrorLine(json, error), `not valid JSON (${(error as Error).message})`);
  }
  const checked = LmEvalResults.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0] as z.core.$ZodIssue;
    const path = issue.path.map(String);
    const key = path.at(-1);
    const keyLine = key ? lines.findIndex((l) => l.includes(`"${key}"`)) : -1;
    throw new ImportError(
      file,
      keyLine >= 0 ? keyLine + 1 : start + 1,
      `expected lm-evaluation-harness results: ${path.join(".") || "the file"}: ${issue.message}`,
    );
  }
  if (Object.keys(checked.data.results).length === 0) {
    throw new ImportError(file, start + 1, "expected at least one task in results");
  }
  return checked.data;
}

// ---------------------------------------------------------------------------------------------
// metrics → scores

/** Metrics that are not fractions (perplexities, BLEU/ROUGE on a 0–100 scale…): kept in notes, not as scores. */
const NOT_FRACTION = /perplexity|bits_per_byte|^(bleu|rouge\w*|ter|chrf)(_max|_diff)?$|^(bleu|rouge\w*)$/;

function snake(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return /^[a-z]/.test(s) ? s : `metric_${s}`;
}

interface TaskScores {
  scores: Score[];
  /** Metrics that could not be scores, verbatim ("perplexity 96.69"). */
  other: string[];
}

/** "acc,none" → acc; "exact_match,strict-match" → exact_match_strict_match; old files have "acc". */
function scoresOf(metrics: Record<string, unknown>): TaskScores {
  const values = new Map<string, { value: number; stderr?: number }>();
  const stderrs = new Map<string, number>();
  const other: string[] = [];
  for (const [key, raw] of Object.entries(metrics)) {
    if (key === "alias" || key === "name" || key === "sample_len" || key === "samples") continue;
    const [metric = key, filter = "none"] = key.split(",", 2);
    const isStderr = metric.endsWith("_stderr");
    const base = isStderr ? metric.slice(0, -"_stderr".length) : metric;
    const name = snake(filter === "none" ? base : `${base}_${filter}`).slice(0, 64);
    if (typeof raw !== "number" || !Number.isFinite(raw)) continue; // "N/A" stderr when bootstrapping was off
    if (isStderr) stderrs.set(name, raw);
    else if (raw < 0 || NOT_FRACTION.test(base)) other.push(`${key} = ${raw}`);
    else values.set(name, { value: raw });
  }
  const scores: Score[] = [...values.entries()].map(([metric, { value }]) => {
    const stderr = stderrs.get(metric);
    return { metric, unit: "fraction", value, ...(stderr !== undefined && stderr >= 0 ? { stderr } : {}) };
  });
  // A score list holds at most 20; the rest stays readable in the notes.
  for (const extra of scores.splice(20)) other.push(`${extra.metric} = ${extra.value}`);
  return { scores, other };
}

// ---------------------------------------------------------------------------------------------
// tasks and groups → suites

function fewShotOf(results: LmEvalResults, task: string): string | undefined {
  const shots = results["n-shot"]?.[task] ?? results.config?.num_fewshot;
  return shots === undefined || shots === null || shots === "" ? undefined : `${shots}-shot`;
}

function taskNotes(results: LmEvalResults, task: string, other: string[]): string | undefined {
  const samples = results["n-samples"]?.[task];
  const version = results.versions?.[task];
  const notes = [
    fewShotOf(results, task),
    version !== undefined && version !== null ? `task version ${version}` : "",
    samples?.effective !== undefined
      ? `${samples.effective} samples${samples.original !== undefined ? ` of ${samples.original}` : ""}`
      : "",
    other.length ? `other metrics: ${other.join(", ")}` : "",
  ].filter(Boolean);
  return notes.length ? notes.join("; ") : undefined;
}

/** The metrics of a task or group: v0.4.2+ puts group aggregates under "groups". */
function metricsOf(results: LmEvalResults, name: string): Record<string, unknown> {
  return { ...results.groups?.[name], ...results.results[name] };
}

/** Tasks and groups that are no group's subtask, in file order; each becomes one suite. */
function topLevel(results: LmEvalResults): string[] {
  const names = [...new Set([...Object.keys(results.results), ...Object.keys(results.group_subtasks ?? {})])];
  const nested = new Set(Object.values(results.group_subtasks ?? {}).flat());
  return names.filter((name) => !nested.has(name));
}

/** Every subgroup and task under a group, depth first. */
function descendants(results: LmEvalResults, group: string, seen = new Set<string>()): string[] {
  return (results.group_subtasks?.[group] ?? []).flatMap((child) => {
    if (seen.has(child)) return [];
    seen.add(child);
    return [child, ...descendants(results, child, seen)];
  });
}

function suiteOf(results: LmEvalResults, name: string): QualitySuite {
  const { scores, other } = scoresOf(metricsOf(results, name));
  const version = results.versions?.[name];
  const suite: QualitySuite = {
    name,
    source: "lm_eval",
    ...(version !== undefined && version !== null ? { version: String(version) } : {}),
  };
  const children = descendants(results, name);
  if (children.length === 0) {
    suite.tasks = [name];
    if (scores.length) suite.scores = scores;
    const notes = taskNotes(results, name, other);
    if (notes) suite.notes = notes;
    return suite;
  }
  suite.tasks = children.filter((child) => !results.group_subtasks?.[child]).slice(0, 200);
  if (scores.length) suite.scores = scores;
  const categories = children.flatMap((child) => {
    const childScores = scoresOf(metricsOf(results, child));
    if (childScores.scores.length === 0) return [];
    const notes = taskNotes(results, child, childScores.other);
    return [{ name: child, scores: childScores.scores, ...(notes ? { notes } : {}) }];
  });
  if (categories.length) suite.categories = categories.slice(0, 100);
  const notes = [
    fewShotOf(results, name),
    other.length ? `other metrics: ${other.join(", ")}` : "",
    categories.length > 100 ? `${categories.length - 100} more subtasks are in the source file` : "",
  ].filter(Boolean);
  if (notes.length) suite.notes = notes.join("; ");
  return suite;
}

/**
 * v0.3 files have no groups: MMLU is 57 "hendrycksTest-…" tasks. Past the bundle's 50 suites, tasks that
 * share a "family-" prefix are gathered under it, as a group without aggregate scores.
 */
function withPrefixGroups(results: LmEvalResults): LmEvalResults {
  if (results.group_subtasks || topLevel(results).length <= 50) return results;
  const families = new Map<string, string[]>();
  for (const task of Object.keys(results.results)) {
    const family = /^([^-]+)-./.exec(task)?.[1];
    if (family) families.set(family, [...(families.get(family) ?? []), task]);
  }
  return { ...results, group_subtasks: Object.fromEntries([...families].filter(([, tasks]) => tasks.length > 1)) };
}

function suitesOf(file: string, source: LmEvalResults): QualitySuite[] {
  const results = withPrefixGroups(source);
  const names = topLevel(results);
  if (names.length > 50) {
    throw new ImportError(
      file,
      undefined,
      `expected at most 50 top-level tasks or groups (a bundle's limit), found ${names.length}`,
    );
  }
  return names.map((name) => suiteOf(results, name));
}

// ---------------------------------------------------------------------------------------------
// model, runtime, device

/** model_args is "pretrained=org/name,dtype=bfloat16" (or a dict in newer versions). */
function modelArgs(config: LmEvalResults["config"]): Record<string, string> {
  const raw = config?.model_args;
  if (!raw) return {};
  if (typeof raw !== "string") {
    return Object.fromEntries(
      Object.entries(raw).flatMap(([k, v]) => (v === null || v === undefined ? [] : [[k, String(v)]])),
    );
  }
  return Object.fromEntries(
    raw
      .split(",")
      .map((pair) => pair.split("="))
      .filter((pair): pair is [string, string] => pair.length === 2 && pair[0] !== "" && pair[1] !== "")
      .map(([k, v]) => [k.trim(), v.trim()]),
  );
}

const ENGINES: Array<[RegExp, Runtime["engine"]]> = [
  [/^(hf|hf-auto|hf-causal|hf-causal-experimental|hf-seq2seq|huggingface|gpt2)$/, "transformers"],
  [/^vllm/, "vllm"],
  [/^(gguf|ggml)$/, "llama.cpp"],
];

function runtimeOf(results: LmEvalResults): Runtime {
  const modelType = results.config?.model;
  const engine = (modelType && ENGINES.find(([pattern]) => pattern.test(modelType))?.[1]) || "other";
  const runtime: Runtime = { engine };
  if (engine === "other" && modelType) runtime.engineName = modelType;
  if (engine === "transformers" && results.transformers_version) runtime.version = results.transformers_version;
  const device = results.config?.device ?? undefined;
  if (device) {
    const backend = /^cuda/.test(device) ? "cuda" : device === "mps" ? "mps" : device === "cpu" ? "cpu" : undefined;
    if (backend) runtime.backend = backend;
  }
  return runtime;
}

function modelOf(results: LmEvalResults, context: ImportContext): Model {
  const args = modelArgs(results.config);
  const fromFile = results.model_name ?? args.pretrained ?? args.model ?? args.path;
  const model: Model = { name: modelNameFor(context, fromFile) };
  if (fromFile && /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(fromFile)) model.huggingFaceRepo = fromFile;
  if (args.dtype && args.dtype !== "auto") model.quantization = args.dtype;
  const parameters = results.config?.model_num_parameters;
  if (parameters !== undefined && Number.isInteger(parameters) && parameters > 0) model.parameters = parameters;
  if (results.config?.model === "gguf" || /\.gguf$/i.test(fromFile ?? "")) model.format = "gguf";
  return model;
}

/** torch's collect_env text (pretty_env_info) names the CPU, the GPUs and the OS. */
function deviceOf(results: LmEvalResults, context: ImportContext): Device {
  const env = results.pretty_env_info ?? "";
  const cpu = /^Model name:\s*(.+)$/m.exec(env)?.[1]?.trim();
  const os = /^OS:\s*(.+)$/m.exec(env)?.[1]?.trim();
  const gpus = [...env.matchAll(/^(?:GPU models and configuration:\s*)?GPU \d+: (.+)$/gm)].map((m) =>
    (m[1] as string).trim(),
  );
  const accelerators: Accelerator[] = gpus.map((model) => ({ type: "gpu", model }));
  const fromFile: Device = {
    ...(cpu ? { cpu: { model: cpu } } : {}),
    ...(accelerators.length ? { accelerators } : {}),
    ...(os && os !== "Could not collect" ? { os: { name: os } } : {}),
  };
  return deviceFor(context, fromFile);
}

function configOf(results: LmEvalResults): Bundle["config"] {
  const config = results.config;
  if (!config) return undefined;
  const batch = typeof config.batch_size === "number" ? config.batch_size : Number(config.batch_size);
  const extraFlags = [
    typeof config.model_args === "string" && config.model_args ? `model_args=${config.model_args}` : "",
    config.limit !== undefined && config.limit !== null ? `limit=${config.limit}` : "",
    // "auto" batch sizes have no number of their own.
    config.batch_size && !Number.isInteger(batch) ? `batch_size=${config.batch_size}` : "",
  ].filter(Boolean);
  const result = {
    ...(Number.isInteger(batch) && batch >= 1 ? { batchSize: batch } : {}),
    ...(extraFlags.length ? { extraFlags } : {}),
  };
  return Object.keys(result).length ? result : undefined;
}

/** `date` is a Unix time in seconds (v0.4) or a date string. */
function measuredAtOf(date: LmEvalResults["date"]): string | undefined {
  if (typeof date === "number") return isoFromUnixSeconds(date);
  if (typeof date === "string") {
    if (/^\d+(\.\d+)?$/.test(date)) return isoFromUnixSeconds(Number(date));
    return /^\d{4}-\d{2}-\d{2}/.exec(date)?.[0];
  }
  return undefined;
}

/** The time as ISO 8601, or undefined for zero, a negative time or one past what a Date holds (toISOString would throw). */
function isoFromUnixSeconds(seconds: number): string | undefined {
  if (!(seconds > 0)) return undefined;
  const time = new Date(seconds * 1000);
  return Number.isFinite(time.getTime()) ? time.toISOString() : undefined;
}

function bundleOf(results: LmEvalResults, context: ImportContext): Bundle {
  const config = configOf(results);
  return importedBundle(
    {
      device: deviceOf(results, context),
      runtime: runtimeOf(results),
      model: modelOf(results, context),
      ...(config ? { config } : {}),
      measurements: [],
      quality: { suites: suitesOf(context.file, results) },
      notes: "lm-evaluation-harness measures quality only; this file has no speed measurements.",
    },
    "lm-eval",
    context,
    { toolVersion: results.lm_eval_version ?? results.git_hash ?? undefined, measuredAt: measuredAtOf(results.date) },
  );
}
