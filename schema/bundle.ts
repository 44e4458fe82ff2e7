// The result bundle: the one wire format of edgebench. The CLI builds it, the Worker validates it,
// the site renders it. Every object is strict (unknown keys are rejected) and every number carries a
// fixed unit: durations in ms, rates in tokens/s, sizes in bytes, scores as fractions, temperatures in °C.
import * as z from "zod";

export const BUNDLE_SCHEMA_V1 = "edgebench.bundle/v1";

// Bounds keep a single bundle small enough to store verbatim and render on one page.
const MAX_SAMPLES = 10_000;
const MAX_LIST = 500;
const MAX_SERIES = 20_000;
const SHORT = 200;
const LONG = 20_000;

const text = (max = SHORT) => z.string().trim().min(1).max(max);
const count = () => z.int().min(0);
const positiveInt = () => z.int().min(1);
const nonNegative = () => z.number().min(0);
const bytes = () => z.int().min(0).describe("bytes");
const byteAmount = () => amount(z.int().min(0)).describe("bytes");
const fraction = () => z.number().min(0).describe("fraction (1 = 100%); may exceed 1 for bonus points");
const snakeName = () =>
  z
    .string()
    .max(64)
    .regex(/^[a-z][a-z0-9_]*$/, "must be snake_case, e.g. decode_tps");

/** How exact a reported number is: reports often say "~1.3s", "85%+" or "116-138ms". */
export const Precision = z.enum(["exact", "approximate", "lower_bound", "upper_bound"]);

/**
 * A single reported figure: a plain number, or the same with its precision or as a range, for what
 * reports write as "~4 GB" or "2-4 GB". Measurements have their own, richer statistics.
 */
const amount = (base: z.ZodNumber) =>
  z.union([
    base,
    z
      .strictObject({
        value: base.optional(),
        min: base.optional(),
        max: base.optional(),
        precision: Precision.optional(),
      })
      .refine((a) => a.value !== undefined || a.min !== undefined || a.max !== undefined, {
        message: "an amount needs a value, a min or a max",
      }),
  ]);
export type Amount = number | { value?: number; min?: number; max?: number; precision?: z.infer<typeof Precision> };

/** The one number an amount stands for: its value, else the middle of its range. */
export function amountValue(a: Amount | undefined): number | undefined {
  if (a === undefined || typeof a === "number") return a;
  if (a.value !== undefined) return a.value;
  if (a.min !== undefined && a.max !== undefined) return (a.min + a.max) / 2;
  return a.min ?? a.max;
}

// ---------------------------------------------------------------------------------------------
// device

export const CpuArch = z.enum(["arm64", "armv7l", "x86_64", "riscv64", "other"]);
export const FormFactor = z.enum([
  "sbc",
  "embedded_module",
  "phone",
  "tablet",
  "laptop",
  "desktop",
  "workstation",
  "server",
  "other",
]);
export const AcceleratorType = z.enum(["gpu", "npu", "tpu", "dsp", "other"]);

/** 16 TiB: more memory than any accelerator made; a larger figure is a unit mistake or a fabrication. */
export const MAX_ACCELERATOR_MEMORY_BYTES = 2 ** 44;

// A device name as a tool prints it: letters or digits first, then the punctuation GPU names use
// ("NVIDIA GeForce RTX 4090", "Intel(R) Arc(TM) A770 Graphics", "AMD Radeon RX 7900 XTX (RADV NAVI31)").
const DEVICE_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ()[\]\-_.,+/@:®™#]*$/u;
const deviceName = () =>
  text(120).regex(
    DEVICE_NAME,
    "must be a device name as the vendor or tool prints it: letters, digits, spaces and ()-_.,+/@:#",
  );

export const Accelerator = z.strictObject({
  type: AcceleratorType,
  vendor: deviceName().optional(),
  model: deviceName().optional(),
  /** Dedicated memory; absent for unified-memory parts, which set `unifiedMemory`. */
  memoryBytes: z
    .int()
    .min(0)
    .max(MAX_ACCELERATOR_MEMORY_BYTES, "is more than 16 TiB, more memory than any accelerator has")
    .optional()
    .describe("bytes"),
  unifiedMemory: z.boolean().optional(),
  computeUnits: positiveInt().optional().describe("GPU cores, NPU cores, SMs: as the vendor counts them"),
  driver: text().optional().describe("driver or SDK version, e.g. CUDA 11.8"),
  notes: text(LONG).optional(),
});

export const Device = z.strictObject({
  /** The product a buyer would recognise: "Raspberry Pi 4 Model B", "NVIDIA Jetson Orin". */
  board: text().optional(),
  formFactor: FormFactor.optional(),
  soc: text().optional().describe("system on chip, e.g. Rockchip RK3588"),
  cpu: z
    .strictObject({
      model: text().optional(),
      cores: positiveInt().optional(),
      threads: positiveInt().optional(),
      arch: CpuArch.optional(),
      maxFrequencyMhz: nonNegative().optional(),
      /** cpufreq scaling governor at the start of the run, e.g. ondemand, performance. */
      governor: text(40).optional(),
      /** CPU feature flags that decide llama.cpp's kernels, e.g. avx2, neon, dotprod, i8mm. */
      features: z.array(text(40)).max(64).optional(),
    })
    .optional(),
  ramBytes: bytes().optional(),
  memoryBandwidthBytesPerSec: nonNegative().optional(),
  accelerators: z.array(Accelerator).max(16).optional(),
  os: z
    .strictObject({
      name: text().optional(),
      version: text().optional(),
      kernel: text().optional(),
    })
    .optional(),
  powerMode: text().optional(),
  cooling: text().optional(),
  /** Thermal zones as read at the start of the run. */
  thermal: z
    .array(z.strictObject({ zone: text(64), type: text(64).optional(), temperatureC: z.number() }))
    .max(64)
    .optional(),
  /** Whether the platform reported throttling (under-voltage, frequency cap) at the start of the run. */
  throttled: z.boolean().optional(),
  /** What identifies this one machine; left out with --anon. */
  identity: z.strictObject({ hostname: text().optional(), serial: text().optional() }).optional(),
  notes: text(LONG).optional(),
});

// ---------------------------------------------------------------------------------------------
// runtime

export const Engine = z.enum([
  "llama.cpp",
  "node-llama-cpp",
  "ollama",
  "llama-server",
  "rkllm",
  "mlx",
  "transformers",
  "vllm",
  "onnxruntime",
  "executorch",
  "mlc-llm",
  "tensorrt-llm",
  "other",
]);
export const Backend = z.enum(["cpu", "cuda", "metal", "vulkan", "rocm", "sycl", "opencl", "npu", "mps", "other"]);

export const Runtime = z.strictObject({
  engine: Engine,
  /** When engine is "other", or a variant worth naming (e.g. a custom MLX implementation). */
  engineName: text().optional(),
  version: text().optional(),
  build: text().optional().describe("commit or build number"),
  backend: Backend.optional(),
  notes: text(LONG).optional(),
});

// ---------------------------------------------------------------------------------------------
// model

export const ModelFormat = z.enum([
  "gguf",
  "rkllm",
  "mlx",
  "safetensors",
  "pytorch",
  "onnx",
  "tflite",
  "executorch",
  "other",
]);

export const FineTune = z.strictObject({
  method: z.enum(["lora", "qlora", "full", "other"]),
  task: text().optional(),
  dataset: z
    .strictObject({
      name: text().optional(),
      language: text().optional(),
      trainExamples: count().optional(),
      validationExamples: count().optional(),
      notes: text(LONG).optional(),
    })
    .optional(),
  /** Training hyperparameters as recorded (epochs, batch_size, learning_rate, lora_r, …). */
  hyperparameters: z.record(snakeName(), z.union([z.number(), z.string().max(SHORT), z.boolean()])).optional(),
  trainingDurationMs: amount(z.number().min(0)).optional().describe("ms"),
  finalLoss: z.number().optional(),
  /** Instabilities seen during training (NaN gradients, loss collapse), as named evidence. */
  instabilities: z.array(text(LONG)).max(50).optional(),
});

export const Model = z.strictObject({
  name: text(),
  family: text().optional(),
  parameters: positiveInt().optional().describe("parameter count"),
  quantization: text().optional().describe("e.g. Q4_K_M, w8a8, fp16, 1.58-bit"),
  format: ModelFormat.optional(),
  architecture: text().optional(),
  fileName: text(500).optional(),
  fileBytes: byteAmount().optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex characters")
    .optional(),
  huggingFaceRepo: z
    .string()
    .regex(/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/, "must look like owner/name")
    .max(SHORT)
    .optional(),
  baseModel: text().optional(),
  contextLength: positiveInt().optional().describe("the model's trained context, in tokens"),
  /** Transformer blocks (GGUF `<arch>.block_count`): with config.gpuLayers, the share offloaded. */
  layers: positiveInt().max(10_000).optional(),
  /** Naming metadata as the model file states it (GGUF `general.*`), the most trusted source of its identity. */
  metadata: z
    .strictObject({
      name: text().optional().describe("general.name"),
      basename: text().optional().describe("general.basename"),
      sizeLabel: text(40).optional().describe("general.size_label"),
      finetune: text().optional().describe("general.finetune"),
      version: text(40).optional().describe("general.version"),
      organization: text().optional().describe("general.organization"),
      baseModels: z.array(text()).max(8).optional().describe("general.base_model.N.repo_url or name"),
    })
    .optional(),
  vocabSize: positiveInt().optional(),
  fineTune: FineTune.optional(),
  notes: text(LONG).optional(),
});

// ---------------------------------------------------------------------------------------------
// config

export const Sampling = z.strictObject({
  temperature: nonNegative().optional(),
  topK: count().optional(),
  topP: fraction().optional(),
  minP: fraction().optional(),
  repeatPenalty: nonNegative().optional(),
  seed: z.int().optional(),
  maxTokens: positiveInt().optional(),
});

export const Config = z.strictObject({
  contextSize: positiveInt().optional(),
  batchSize: positiveInt().optional(),
  ubatchSize: positiveInt().optional(),
  threads: positiveInt().optional(),
  /** Layers offloaded to the accelerator; llama.cpp's -ngl (99 or more means every layer). */
  gpuLayers: z.int().min(0, "must be 0 or more: the number of layers offloaded to the GPU").max(100_000).optional(),
  flashAttention: z.boolean().optional(),
  kvCacheType: text().optional().describe("e.g. f16, q8_0"),
  sampling: Sampling.optional(),
  chatTemplate: text(500).optional(),
  concurrency: positiveInt().optional(),
  /** Flags with no field of their own, verbatim (e.g. "--flash-attn", "npu_cores=3"). */
  extraFlags: z.array(text(500)).max(100).optional(),
});

// ---------------------------------------------------------------------------------------------
// measurements: the unit is fixed by the kind, and stated in every measurement.

export const MEASUREMENT_UNITS = {
  load: "ms",
  ttft: "ms",
  token_latency: "ms",
  e2e_latency: "ms",
  /** Latency of a whole application pipeline around the model (speech recognition, TTS…), not the model alone. */
  pipeline_latency: "ms",
  prefill: "tokens/s",
  decode: "tokens/s",
  prefill_decode: "tokens/s",
} as const;
export type MeasurementKind = keyof typeof MEASUREMENT_UNITS;
export const MEASUREMENT_KINDS = Object.keys(MEASUREMENT_UNITS) as [MeasurementKind, ...MeasurementKind[]];

const statistics = {
  label: text().optional().describe("e.g. pp512, tg128, as the producing tool names the test"),
  nPrompt: count().optional().describe("prompt tokens processed"),
  nGen: count().optional().describe("tokens generated"),
  depth: count().optional().describe("tokens already in the context before the test"),
  /** True for the first run after loading (a cold cache), kept apart from warm runs; absent when not stated. */
  cold: z.boolean().optional(),
  repetitions: positiveInt().optional(),
  /** Untimed runs of the same shape before the samples (GPU pipeline compilation, caches), as llama-bench does. */
  warmup: count().optional(),
  /**
   * How a rate was timed: "engine" is the engine's own time per token (llama-bench tg, llama.cpp's
   * eval time); "delivered" is token arrival in the application, sampling included.
   */
  timing: z.enum(["engine", "delivered"]).optional(),
  samples: z.array(z.number().min(0)).max(MAX_SAMPLES).optional(),
  /** Indexes into samples of repetitions far from the median (kept, and marked). */
  outliers: z.array(count()).max(MAX_SAMPLES).optional(),
  mean: nonNegative().optional(),
  stddev: nonNegative().optional(),
  median: nonNegative().optional(),
  min: nonNegative().optional(),
  max: nonNegative().optional(),
  p50: nonNegative().optional(),
  p95: nonNegative().optional(),
  p99: nonNegative().optional(),
  precision: Precision.optional(),
  notes: text(LONG).optional(),
};

const measurementOf = <K extends MeasurementKind>(kind: K) =>
  z.strictObject({
    kind: z.literal(kind),
    unit: z.literal(MEASUREMENT_UNITS[kind]),
    ...statistics,
  });

export const Measurement = z
  .discriminatedUnion("kind", [
    measurementOf("load"),
    measurementOf("ttft"),
    measurementOf("token_latency"),
    measurementOf("e2e_latency"),
    measurementOf("pipeline_latency"),
    measurementOf("prefill"),
    measurementOf("decode"),
    measurementOf("prefill_decode"),
  ])
  .refine((m) => m.samples?.length || [m.mean, m.median, m.p50, m.min, m.max].some((v) => v !== undefined), {
    message: "a measurement needs samples or at least one statistic (mean, median, p50, min, max)",
  });

// ---------------------------------------------------------------------------------------------
// memory, energy, roofline

export const Memory = z.strictObject({
  peakRssBytes: byteAmount().optional(),
  peakVramBytes: byteAmount().optional(),
  /** Peak memory as a tool reports it when it does not say which memory (e.g. RKLLM, MLX). */
  peakReportedBytes: byteAmount().optional(),
  modelBytes: byteAmount().optional().describe("weights resident in memory"),
  systemUsedFraction: amount(z.number().min(0)).optional().describe("fraction"),
  notes: text(LONG).optional(),
});

export const Energy = z.strictObject({
  source: z.enum(["nvml", "rapl", "ina3221", "rpi_pmic", "external_meter", "other"]),
  averagePowerW: nonNegative().optional(),
  prefillJoulesPerToken: nonNegative().optional(),
  decodeJoulesPerToken: nonNegative().optional(),
  notes: text(LONG).optional(),
});

export const Roofline = z.strictObject({
  bandwidthBytesPerSec: nonNegative(),
  bytesPerToken: nonNegative(),
  decodeUpperBoundTps: nonNegative(),
  efficiency: fraction(),
});

// ---------------------------------------------------------------------------------------------
// quality

export const FlagSeverity = z.enum(["info", "warn", "fail"]);

/** A named finding about output quality, with the evidence behind it. */
export const QualityFlag = z.strictObject({
  code: snakeName().describe("e.g. repetition_loop, word_salad, pad_only, runaway_think"),
  severity: FlagSeverity,
  source: z.enum(["automatic", "reported"]),
  evidence: text(LONG).optional(),
});

export const Score = z.strictObject({
  metric: snakeName().describe("e.g. accuracy, f1, acc_norm, mc2, rubric_points, syntax_valid"),
  unit: z.literal("fraction"),
  value: fraction().optional(),
  stderr: nonNegative().optional(),
  passed: count().optional(),
  total: count().optional(),
  earned: nonNegative().optional(),
  possible: nonNegative().optional(),
  precision: Precision.optional(),
  primary: z.boolean().optional().describe("the suite's headline score"),
  grade: text(20).optional().describe("a letter grade on the producer's own scale, e.g. B+"),
});

export const QualityItem = z.strictObject({
  id: text(),
  category: text().optional(),
  prompt: text(LONG).optional(),
  expected: text(LONG).optional(),
  output: z.string().max(LONG).optional(),
  passed: z.boolean().optional(),
  score: fraction().optional(),
  checks: z.record(snakeName(), z.boolean()).optional(),
  flags: z.array(QualityFlag).max(50).optional(),
  notes: text(LONG).optional(),
});

export const QualityCategory = z.strictObject({
  name: text(),
  scores: z.array(Score).min(1).max(20),
  notes: text(LONG).optional(),
});

export const QualitySuite = z.strictObject({
  name: text(),
  version: text().optional(),
  source: z.enum(["builtin", "user", "lm_eval", "report", "other"]),
  description: text(LONG).optional(),
  tasks: z.array(text()).max(200).optional(),
  status: z.enum(["completed", "failed", "partial"]).optional(),
  scores: z.array(Score).max(50).optional(),
  categories: z.array(QualityCategory).max(100).optional(),
  items: z.array(QualityItem).max(MAX_LIST).optional(),
  notes: text(LONG).optional(),
});

export const Perplexity = z.strictObject({
  dataset: text(),
  value: z.number().min(1),
  tokens: positiveInt(),
  contextSize: positiveInt().optional(),
});

export const Verdict = z.strictObject({
  status: z.enum(["pass", "fail"]),
  label: text().optional().describe("the producer's own word, e.g. EXCELLENT, UNUSABLE"),
  reason: text(LONG).optional(),
  source: z.enum(["automatic", "reported"]),
});

export const Quality = z.strictObject({
  verdict: Verdict.optional(),
  flags: z.array(QualityFlag).max(100).optional(),
  perplexity: Perplexity.optional(),
  suites: z.array(QualitySuite).max(50).optional(),
});

// ---------------------------------------------------------------------------------------------
// soak, sweep, targets, failure, references

const Range = z.strictObject({
  mean: z.number().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  p50: z.number().optional(),
  p95: z.number().optional(),
  p99: z.number().optional(),
});

export const SoakPoint = z.strictObject({
  tMs: nonNegative(),
  latencyMs: nonNegative().optional(),
  ok: z.boolean().optional(),
  temperatureC: z.number().optional(),
  rssBytes: bytes().optional(),
  systemUsedFraction: fraction().optional(),
  throttled: z.boolean().optional(),
});

export const Soak = z.strictObject({
  durationMs: nonNegative(),
  intervalMs: nonNegative().optional(),
  requests: count(),
  failures: count(),
  maxTokensPerRequest: positiveInt().optional(),
  latencyMs: Range.optional(),
  temperatureC: Range.optional(),
  throttled: z.boolean().optional(),
  throttleThresholdC: z.number().optional(),
  memory: z
    .strictObject({
      meanBytes: bytes().optional(),
      peakBytes: bytes().optional(),
      meanSystemUsedFraction: fraction().optional(),
      leakDetected: z.boolean().optional(),
      leakSlopeBytesPerHour: z.number().optional(),
    })
    .optional(),
  cpuLoad: z.strictObject({ mean1m: nonNegative().optional(), max1m: nonNegative().optional() }).optional(),
  monitorIntervalMs: nonNegative().optional(),
  series: z.array(SoakPoint).max(MAX_SERIES).optional(),
  notes: text(LONG).optional(),
});

export const FailureStage = z.enum(["load", "prefill", "decode", "quality", "training", "soak", "process", "other"]);

export const Failure = z.strictObject({
  stage: FailureStage,
  kind: z.enum(["crash", "oom", "timeout", "interrupted", "error", "degenerate", "diverged", "other"]),
  message: text(LONG),
  exitCode: z.int().optional(),
  signal: text(20).optional(),
});

export const SweepPoint = z.strictObject({
  config: Config,
  measurements: z.array(Measurement).max(MAX_LIST).optional(),
  memory: Memory.optional(),
  quality: Quality.optional(),
  failure: Failure.optional(),
  notes: text(LONG).optional(),
});

export const Sweep = z.strictObject({
  /** The config fields varied, e.g. ["batchSize", "contextSize"]. */
  parameters: z.array(text(64)).min(1).max(20),
  points: z.array(SweepPoint).min(1).max(MAX_LIST),
  notes: text(LONG).optional(),
});

/** Metrics a target can be declared on, with the unit each one is expressed in. */
export const TARGET_METRIC_UNITS = {
  decode_tps: "tokens/s",
  prefill_tps: "tokens/s",
  ttft_ms: "ms",
  latency_ms: "ms",
  load_ms: "ms",
  peak_memory_bytes: "bytes",
  system_ram_fraction: "fraction",
  quality: "fraction",
  success_rate: "fraction",
  temperature_c: "°C",
  uptime_ms: "ms",
} as const;
export type TargetMetric = keyof typeof TARGET_METRIC_UNITS;

const targetOf = <M extends TargetMetric>(metric: M) =>
  z.strictObject({
    metric: z.literal(metric),
    unit: z.literal(TARGET_METRIC_UNITS[metric]),
    op: z.enum(["<", "<=", ">", ">="]),
    threshold: z.number(),
    actual: z.number().optional(),
    passed: z.boolean(),
    label: text().optional(),
  });

export const Target = z.discriminatedUnion("metric", [
  targetOf("decode_tps"),
  targetOf("prefill_tps"),
  targetOf("ttft_ms"),
  targetOf("latency_ms"),
  targetOf("load_ms"),
  targetOf("peak_memory_bytes"),
  targetOf("system_ram_fraction"),
  targetOf("quality"),
  targetOf("success_rate"),
  targetOf("temperature_c"),
  targetOf("uptime_ms"),
]);

/** A comparison row the producer reported alongside its run: a cloud model, a non-LLM baseline… */
export const Reference = z.strictObject({
  label: text(),
  kind: z.enum(["cloud_model", "local_model", "non_llm_model", "other"]),
  provider: text().optional(),
  model: Model.partial().optional(),
  measurements: z.array(Measurement).max(50).optional(),
  scores: z.array(Score).max(20).optional(),
  memory: Memory.optional(),
  failure: Failure.optional(),
  costUsdPerRequest: amount(z.number().min(0)).optional(),
  notes: text(LONG).optional(),
});

export const Warning = z.strictObject({
  code: snakeName(),
  message: text(LONG),
});

// ---------------------------------------------------------------------------------------------
// provenance

export const ImportFormat = z.enum(["llama-bench", "lm-eval", "ollama", "llama-server", "mlx", "rkllm", "report"]);
export type ImportFormat = z.infer<typeof ImportFormat>;

export const Provenance = z.strictObject({
  tool: z.strictObject({ name: text(), version: text() }),
  method: z.enum(["measured", "imported"]),
  importedFrom: z
    .strictObject({
      format: ImportFormat,
      toolVersion: text().optional(),
      file: text(500).optional(),
      title: text(500).optional(),
      url: z
        .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
        .max(2000)
        .optional(),
    })
    .optional(),
  /** Bundle fields the source did not measure: unknown stays absent, and is named here. */
  notMeasured: z.array(text(100)).max(100).optional(),
  commandLine: text(LONG).optional(),
  /** When the bundle was made; for an import, when it was imported. */
  createdAt: z.iso.datetime({ offset: true }),
  /**
   * When the measurement itself happened, as precisely as known: a datetime, a date, a year-month, a
   * year, or ISO 8601's --MM-DD for a report that gives a day but no year.
   */
  measuredAt: z
    .union([
      z.iso.datetime({ offset: true }),
      z.string().regex(/^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$|^--(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/),
    ])
    .optional(),
  nonce: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/)
    .optional(),
});

// ---------------------------------------------------------------------------------------------
// the bundle

export const Bundle = z
  .strictObject({
    schema: z.literal(BUNDLE_SCHEMA_V1),
    device: Device,
    runtime: Runtime,
    model: Model,
    config: Config.optional(),
    measurements: z.array(Measurement).max(MAX_LIST),
    memory: Memory.optional(),
    energy: Energy.optional(),
    roofline: Roofline.optional(),
    quality: Quality.optional(),
    soak: Soak.optional(),
    sweep: Sweep.optional(),
    targets: z.array(Target).max(50).optional(),
    failure: Failure.optional(),
    references: z.array(Reference).max(50).optional(),
    warnings: z.array(Warning).max(100).optional(),
    notes: text(LONG).optional(),
    provenance: Provenance,
  })
  .refine((b) => b.provenance.method !== "imported" || b.provenance.importedFrom !== undefined, {
    message: "an imported bundle must say what it was imported from",
    path: ["provenance", "importedFrom"],
  })
  .refine((b) => b.device.board || b.device.soc || b.device.cpu?.model, {
    message: "the device needs at least one of board, soc or cpu.model to name its hardware",
    path: ["device"],
  });

export type Bundle = z.infer<typeof Bundle>;
export type Device = z.infer<typeof Device>;
export type Runtime = z.infer<typeof Runtime>;
export type Model = z.infer<typeof Model>;
export type Config = z.infer<typeof Config>;
export type Measurement = z.infer<typeof Measurement>;
export type Memory = z.infer<typeof Memory>;
export type Quality = z.infer<typeof Quality>;
export type QualitySuite = z.infer<typeof QualitySuite>;
export type QualityFlag = z.infer<typeof QualityFlag>;
export type Score = z.infer<typeof Score>;
export type Soak = z.infer<typeof Soak>;
export type Sweep = z.infer<typeof Sweep>;
export type Target = z.infer<typeof Target>;
export type Failure = z.infer<typeof Failure>;
export type Reference = z.infer<typeof Reference>;
export type Provenance = z.infer<typeof Provenance>;
export type Accelerator = z.infer<typeof Accelerator>;
export type FailureStage = z.infer<typeof FailureStage>;
export type SweepPoint = z.infer<typeof SweepPoint>;
export type Perplexity = z.infer<typeof Perplexity>;
export type Energy = z.infer<typeof Energy>;
