// What llama-bench's fields mean, shared by every output mode: the test one result stands for, the
// model, the backend and the configuration. Field names are llama-bench's own (tools/llama-bench),
// including the 2023 ones (f16_kv, mul_mat_q, the cuda/metal/… booleans before `backends`).
import type { Accelerator, Config, Measurement } from "../../../schema/bundle.ts";
import { type Backend, backendOfWord } from "../hardware.ts";
import { ImportError } from "../types.ts";

/** One llama-bench result, whatever mode it was printed in. */
export interface BenchTest {
  line: number;
  model: {
    type?: string | undefined;
    fileName?: string | undefined;
    sizeBytes?: number | undefined;
    /** The markdown table's rounded "3.56 GiB": approximate. */
    sizeApproxBytes?: number | undefined;
    parameters?: number | undefined;
    /** The markdown table's rounded "6.74 B", kept verbatim: rounding it to a count would invent digits. */
    parametersText?: string | undefined;
  };
  /** cpu_info as printed: the host CPU, or (BLAS and CPU-only builds) a list of backends. */
  cpu?: string | undefined;
  /** What to say when there is no cpu_info, or it names no CPU. */
  noCpu: string;
  /** gpu_info, one entry per GPU; or, without it, the GPUs llama.cpp's log lines around the output name. */
  accelerators: Accelerator[];
  buildCommit?: string | undefined;
  buildNumber?: number | undefined;
  /** As llama-bench names it: "CUDA", "Metal,BLAS", or derived from the 2023 booleans. */
  backendText?: string | undefined;
  config: Config;
  measurement: Measurement;
  /** The time of each repetition (samples_ns, avg_ns, stddev_ns), when the file has it. */
  durations?: Measurement | undefined;
  testTime?: string | undefined;
}

// ---------------------------------------------------------------------------------------------
// reading values that JSON gives typed and CSV/SQL/markdown give as text

export function textField(value: unknown): string | undefined {
  if (typeof value === "string") return value.trim() === "" ? undefined : value.trim();
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

export function numberField(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && /^\s*-?\d+(\.\d+)?(e[+-]?\d+)?\s*$/i.test(value)) return Number(value);
  return undefined;
}

export function intField(value: unknown): number | undefined {
  const n = numberField(value);
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

function boolField(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  const text = textField(value)?.toLowerCase();
  if (text === "1" || text === "true" || text === "yes") return true;
  if (text === "0" || text === "false" || text === "no") return false;
  return undefined;
}

export function numberList(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const numbers = value.map(numberField);
  return numbers.every((n): n is number => n !== undefined) ? numbers : undefined;
}

// ---------------------------------------------------------------------------------------------
// the model: model_type is "<arch> <size> <file type>", e.g. "qwen2 7B Q4_K - Medium", "llama 7B mostly Q4_0"

const K_QUANT_SIZES: Record<string, string> = { Small: "S", Medium: "M", Large: "L" };

export function describeModelType(modelType: string): { architecture?: string; quantization?: string } {
  const [architecture, size, ...rest] = modelType.split(/\s+/);
  if (!architecture || !size || rest.length === 0) return architecture ? { architecture } : {};
  let fileType = rest
    .join(" ")
    .replace(/^(mostly|all)\s+/, "")
    .replace(/\s*\(guessed\)$/, "");
  // llama.cpp names K-quant mixes "Q4_K - Medium"; the files and everyone else call them Q4_K_M.
  const kQuant = /^(Q\d_K) - (Small|Medium|Large)$/.exec(fileType);
  if (kQuant) fileType = `${kQuant[1]}_${K_QUANT_SIZES[kQuant[2] as string]}`;
  // "IQ2_XXS - 2.0625 bpw": the bits per weight follow from the type.
  fileType = fileType.replace(/ - [\d.]+ bpw$/, "");
  return { architecture, quantization: fileType };
}

export function modelNameFromFile(fileName: string): string {
  return fileName.replace(/\.gguf$/i, "");
}

// ---------------------------------------------------------------------------------------------
// the backend

/**
 * The accelerating backend of "Metal,BLAS"- or "CUDA,RPC"-style lists: a named GPU or NPU backend
 * first, then one the bundle has no name for; BLAS and CPU only count when nothing else is there.
 */
export function backendOf(backendText: string): Backend {
  const names = backendText.split(/[,+\s]+/).filter(Boolean);
  const mapped = names.map((name) => backendOfWord(name) ?? "other");
  return mapped.find((b) => b !== "cpu" && b !== "other") ?? mapped.find((b) => b !== "cpu") ?? "cpu";
}

/**
 * gpu_info as llama-bench prints it: one description per GPU, joined with "/" before the ggml device
 * registry (2024) and with ", " since.
 */
export function gpuNames(gpuInfo: string | undefined): string[] {
  if (!gpuInfo) return [];
  return gpuInfo
    .split(gpuInfo.includes(", ") ? /\s*,\s+/ : /\s*\/\s*/)
    .map((name) => name.trim())
    .filter(Boolean);
}

/** Before `backends` (2024), llama-bench printed one boolean per compiled-in backend. */
const LEGACY_BACKEND_FLAGS: Array<[string, string]> = [
  ["cuda", "CUDA"],
  ["vulkan", "Vulkan"],
  ["kompute", "Kompute"],
  ["metal", "Metal"],
  ["sycl", "SYCL"],
  ["opencl", "OpenCL"],
  ["rpc", "RPC"],
  ["gpu_blas", "GPU BLAS"],
  ["blas", "BLAS"],
];

export function legacyBackendText(fields: Record<string, unknown>): string | undefined {
  const on = LEGACY_BACKEND_FLAGS.filter(([field]) => boolField(fields[field]) === true).map(([, name]) => name);
  // gpu_blas is true alongside cuda/opencl; it only names the backend when alone.
  const specific = on.filter((name) => name !== "GPU BLAS");
  const names = specific.length ? specific : on;
  if (names.length) return names.join(",");
  const known = LEGACY_BACKEND_FLAGS.some(([field]) => fields[field] !== undefined);
  return known ? "CPU" : undefined;
}

// ---------------------------------------------------------------------------------------------
// the configuration

/** Fields that are not configuration: identity of the build, machine and model, the test and its result. */
const NON_CONFIG_FIELDS = new Set([
  "build_commit",
  "build_number",
  "cpu_info",
  "gpu_info",
  "backends",
  "model_filename",
  "model_type",
  "model_size",
  "model_n_params",
  "n_prompt",
  "n_gen",
  "n_depth",
  "test_time",
  "avg_ns",
  "stddev_ns",
  "avg_ts",
  "stddev_ts",
  "samples_ns",
  "samples_ts",
  ...LEGACY_BACKEND_FLAGS.map(([field]) => field),
]);

/** Configuration fields with a place of their own in the bundle. */
const MAPPED_CONFIG_FIELDS = new Set([
  "n_batch",
  "n_ubatch",
  "n_threads",
  "n_gpu_layers",
  "flash_attn",
  "type_k",
  "type_v",
  "f16_kv",
]);

function positive(n: number | undefined): number | undefined {
  return n !== undefined && n >= 1 ? n : undefined;
}

function kvCacheTypeOf(fields: Record<string, unknown>): string | undefined {
  const typeK = textField(fields.type_k);
  const typeV = textField(fields.type_v);
  if (typeK && typeV) return typeK === typeV ? typeK : `K ${typeK}, V ${typeV}`;
  if (typeK || typeV) return typeK ? `K ${typeK}` : `V ${typeV}`;
  // 2023: f16_kv (true = f16 cache, false = f32)
  const f16 = boolField(fields.f16_kv);
  return f16 === undefined ? undefined : f16 ? "f16" : "f32";
}

/** The bundle config of one result; fields without a place of their own are kept as name=value flags. */
export function configFromFields(fields: Record<string, unknown>): Config {
  const config: Config = {};
  const batch = positive(intField(fields.n_batch));
  if (batch) config.batchSize = batch;
  const ubatch = positive(intField(fields.n_ubatch));
  if (ubatch) config.ubatchSize = ubatch;
  const threads = positive(intField(fields.n_threads));
  if (threads) config.threads = threads;
  const extraFlags: string[] = [];
  const gpuLayers = intField(fields.n_gpu_layers);
  // -1 means "all layers" in current llama-bench; a count it is not, so it stays verbatim.
  if (gpuLayers !== undefined && gpuLayers >= 0) config.gpuLayers = gpuLayers;
  else if (gpuLayers !== undefined) extraFlags.push(`n_gpu_layers=${gpuLayers}`);
  const flashAttention = boolField(fields.flash_attn);
  if (flashAttention !== undefined) config.flashAttention = flashAttention;
  else if (textField(fields.flash_attn)) extraFlags.push(`flash_attn=${textField(fields.flash_attn)}`);
  const kvCacheType = kvCacheTypeOf(fields);
  if (kvCacheType) config.kvCacheType = kvCacheType;
  for (const [name, value] of Object.entries(fields)) {
    if (NON_CONFIG_FIELDS.has(name) || MAPPED_CONFIG_FIELDS.has(name)) continue;
    const text = Array.isArray(value) ? value.join(",") : textField(value);
    if (text) extraFlags.push(`${name}=${text}`);
  }
  if (extraFlags.length) config.extraFlags = extraFlags.slice(0, 100);
  return config;
}

// ---------------------------------------------------------------------------------------------
// the test and its result

export interface TestShape {
  nPrompt: number;
  nGen: number;
  depth: number;
}

function testLabel({ nPrompt, nGen, depth }: TestShape): string {
  const parts = [nPrompt > 0 ? `pp${nPrompt}` : "", nGen > 0 ? `tg${nGen}` : ""].filter(Boolean).join("+");
  return depth > 0 ? `${parts} @ d${depth}` : parts;
}

function kindOf(file: string, line: number, { nPrompt, nGen }: TestShape): Measurement["kind"] {
  if (nPrompt > 0 && nGen > 0) return "prefill_decode";
  if (nPrompt > 0) return "prefill";
  if (nGen > 0) return "decode";
  throw new ImportError(file, line, "expected n_prompt or n_gen above 0: a test of no tokens measures nothing");
}

const NS_PER_S = 1e9;
const NS_PER_MS = 1e6;

/** ms with at most 3 decimals, for notes. */
function ms(ns: number): string {
  return `${Number((ns / NS_PER_MS).toFixed(3))} ms`;
}

interface TimingFields {
  avgTs?: number | undefined;
  stddevTs?: number | undefined;
  samplesTs?: number[] | undefined;
  avgNs?: number | undefined;
  stddevNs?: number | undefined;
  samplesNs?: number[] | undefined;
}

/**
 * The measurement of one result in tokens/s. llama-bench's avg_ts is the mean of the per-run rates;
 * when only nanoseconds are there (a trimmed file), rates come from tokens ÷ time. Mismatched units
 * (avg_ts that is not tokens ÷ avg_ns within a factor of 2) are an error, not a guess.
 */
export function measurementOf(file: string, line: number, shape: TestShape, timing: TimingFields): Measurement {
  const kind = kindOf(file, line, shape);
  const tokens = shape.nPrompt + shape.nGen;
  const fromNs = (ns: number) => (tokens * NS_PER_S) / ns;
  const { avgTs, stddevTs, samplesTs, avgNs, stddevNs, samplesNs } = timing;
  if (avgTs === undefined && avgNs === undefined && !samplesTs?.length && !samplesNs?.length) {
    throw new ImportError(file, line, "expected avg_ts or avg_ns (the result of the test)");
  }
  if (avgNs !== undefined && avgNs <= 0) throw new ImportError(file, line, `expected avg_ns above 0, found ${avgNs}`);
  if (samplesNs?.some((ns) => ns <= 0)) throw new ImportError(file, line, "expected every samples_ns above 0");
  if (avgTs !== undefined && avgNs !== undefined) {
    const expected = fromNs(avgNs);
    if (avgTs > expected * 2 || avgTs < expected / 2) {
      throw new ImportError(
        file,
        line,
        `avg_ts ${avgTs} tok/s does not match avg_ns ${avgNs} for ${tokens} tokens (about ${expected.toFixed(2)} tok/s expected); the units are not llama-bench's`,
      );
    }
  }
  if (samplesTs && samplesNs && samplesTs.length !== samplesNs.length) {
    throw new ImportError(
      file,
      line,
      `expected as many samples_ts as samples_ns, found ${samplesTs.length} and ${samplesNs.length}`,
    );
  }
  const samples = samplesTs?.length ? samplesTs : samplesNs?.length ? samplesNs.map(fromNs) : undefined;
  const mean = avgTs ?? (avgNs !== undefined ? fromNs(avgNs) : undefined);
  const notes: string[] = [];
  if (avgNs !== undefined) {
    notes.push(`mean time per run ${ms(avgNs)}${stddevNs !== undefined ? `, stddev ${ms(stddevNs)}` : ""} (avg_ns)`);
  }
  if (avgTs === undefined && avgNs !== undefined) notes.push(`tokens/s computed as ${tokens} tokens ÷ avg_ns`);
  const measurement: Measurement = {
    kind,
    unit: "tokens/s",
    label: testLabel(shape),
    nPrompt: shape.nPrompt,
    nGen: shape.nGen,
    ...(shape.depth > 0 ? { depth: shape.depth } : {}),
    ...(samples?.length ? { repetitions: samples.length, samples } : {}),
    ...(mean !== undefined ? { mean } : {}),
    // A stddev of times does not convert to a stddev of rates, so only stddev_ts is kept.
    ...(avgTs !== undefined && stddevTs !== undefined ? { stddev: stddevTs } : {}),
    ...(notes.length ? { notes: notes.join("; ") } : {}),
  } as Measurement;
  return measurement;
}

/**
 * The time each repetition of the test took, in ms, as llama-bench measured it (samples_ns, avg_ns,
 * stddev_ns: one run of the whole test, prompt and generation together). Kept beside the rate: a
 * stddev of times does not convert to one of rates, and the rates alone lose what the file says.
 */
export function durationsOf(shape: TestShape, timing: TimingFields): Measurement | undefined {
  const { avgNs, stddevNs, samplesNs } = timing;
  if (avgNs === undefined && !samplesNs?.length) return undefined;
  return {
    kind: "e2e_latency",
    unit: "ms",
    label: testLabel(shape),
    nPrompt: shape.nPrompt,
    nGen: shape.nGen,
    ...(shape.depth > 0 ? { depth: shape.depth } : {}),
    ...(samplesNs?.length ? { repetitions: samplesNs.length, samples: samplesNs.map((ns) => ns / NS_PER_MS) } : {}),
    ...(avgNs !== undefined ? { mean: avgNs / NS_PER_MS } : {}),
    ...(avgNs !== undefined && stddevNs !== undefined ? { stddev: stddevNs / NS_PER_MS } : {}),
    notes: "llama-bench's time per repetition of the test (samples_ns, avg_ns, stddev_ns).",
  };
}
