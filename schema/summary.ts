// The few figures a leaderboard row shows, derived from a bundle by one set of rules so the Worker
// (which stores them as columns) and the site (which explains them) never disagree.
import * as z from "zod";
import {
  amountValue,
  Backend,
  type Bundle,
  Engine,
  ImportFormat,
  type Measurement,
  type MeasurementKind,
} from "./bundle.ts";
import { type HardwareKind, hardwareIdentity } from "./hardware-identity.ts";
import { modelIdentityOf } from "./slug.ts";

/**
 * The version of the rules that file a run under its hardware and model (schema/hardware-identity.ts,
 * schema/model-identity.ts) and pick its headline figures. Stored runs carry the version they were
 * summarized with; the re-key (workers/db/rekey.ts) brings older ones up to this one.
 */
export const IDENTITY_VERSION = 2;

export const QualityStatus = z.enum(["pass", "fail", "unknown"]);
export type QualityStatus = z.infer<typeof QualityStatus>;

const nullableNumber = z.number().nullable();

/** What a leaderboard row shows of a run. */
export const RunSummary = z.strictObject({
  hardwareSlug: z.string(),
  hardwareName: z.string(),
  /** "gpu": filed under the discrete GPUs that held the weights; "system": the board, SoC or CPU. */
  hardwareKind: z.enum(["gpu", "system"] satisfies HardwareKind[]),
  /** The hardware name as the bundle gave it (a GPU's printed name, or the board, SoC or CPU). */
  sourceHardwareName: z.string(),
  hostCpu: z.string().nullable(),
  hostRamBytes: nullableNumber,
  /** Layers offloaded to a GPU (llama.cpp -ngl) and the model's layer count, when stated. */
  gpuLayers: nullableNumber,
  modelLayers: nullableNumber,
  modelSlug: z.string(),
  modelName: z.string(),
  /** The model's name as the bundle gave it (a tool's printed name, a repo id, a file name). */
  sourceModelName: z.string(),
  quantization: z.string().nullable(),
  parameters: nullableNumber,
  engine: Engine,
  engineVersion: z.string().nullable(),
  backend: Backend.nullable(),
  decodeTps: nullableNumber,
  decodeNGen: nullableNumber,
  prefillTps: nullableNumber,
  prefillNPrompt: nullableNumber,
  ttftMs: nullableNumber,
  loadMs: nullableNumber,
  /** Peak host memory: as the tool reported it, else the process's RSS. */
  peakMemoryBytes: nullableNumber,
  peakVramBytes: nullableNumber,
  /** The decode rate an application sees (token arrival, sampling included), beside the engine-timed headline. */
  decodeDeliveredTps: nullableNumber,
  qualityStatus: QualityStatus,
  qualityReason: z.string().nullable(),
  qualityScore: nullableNumber,
  method: z.enum(["measured", "imported"]),
  importFormat: ImportFormat.nullable(),
  createdAt: z.string(),
  measuredAt: z.string().nullable(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The single number that stands for a measurement: the median of its repetitions (as stated, else of
 * its raw samples), else its mean, else the middle of a reported range. A median is what one slow
 * repetition (a GPU compiling its pipelines, a background task) cannot move.
 */
export function centralValue(m: Measurement): number | null {
  const stated = m.median ?? m.p50;
  if (stated !== undefined) return stated;
  if (m.samples?.length) return median(m.samples);
  if (m.mean !== undefined) return m.mean;
  if (m.min !== undefined && m.max !== undefined) return (m.min + m.max) / 2;
  return m.min ?? m.max ?? null;
}

/**
 * The headline measurement of a kind: warm runs only (a cold first run is its own figure), the size
 * closest to the conventional one (llama-bench's tg128 and pp512, a 128-token prompt for time to
 * first token), at the smallest context depth.
 */
export function headlineMeasurement(
  measurements: readonly Measurement[],
  kind: MeasurementKind,
  preferredSize?: number,
): Measurement | undefined {
  const size = (m: Measurement) => (kind === "prefill" || kind === "ttft" ? m.nPrompt : m.nGen);
  // A delivered rate (token arrival in the application) is shown beside the headline, and is the
  // headline only where nothing else was measured (the engine's counters could not be read).
  const warm = measurements.filter((m) => m.kind === kind && !m.cold && centralValue(m) !== null);
  const candidates = warm.some((m) => m.timing !== "delivered") ? warm.filter((m) => m.timing !== "delivered") : warm;
  const distance = (m: Measurement) => {
    const s = size(m);
    return preferredSize === undefined || s === undefined ? Number.MAX_SAFE_INTEGER : Math.abs(s - preferredSize);
  };
  return candidates
    .map((m, index) => ({ m, index }))
    .sort((a, b) => distance(a.m) - distance(b.m) || (a.m.depth ?? 0) - (b.m.depth ?? 0) || a.index - b.index)[0]?.m;
}

export const PREFERRED_DECODE_TOKENS = 128;
export const PREFERRED_PREFILL_TOKENS = 512;
export const PREFERRED_TTFT_PROMPT_TOKENS = 128;

/** The measurements a leaderboard row's decode, prefill and TTFT figures come from. */
export function headlines(measurements: readonly Measurement[]): {
  decode: Measurement | undefined;
  prefill: Measurement | undefined;
  ttft: Measurement | undefined;
} {
  return {
    decode: headlineMeasurement(measurements, "decode", PREFERRED_DECODE_TOKENS),
    prefill: headlineMeasurement(measurements, "prefill", PREFERRED_PREFILL_TOKENS),
    ttft: headlineMeasurement(measurements, "ttft", PREFERRED_TTFT_PROMPT_TOKENS),
  };
}

function qualityOf(bundle: Bundle): { status: QualityStatus; reason: string | null; score: number | null } {
  const quality = bundle.quality;
  const failingFlag = quality?.flags?.find((f) => f.severity === "fail");
  const primary = quality?.suites
    ?.flatMap((suite) => suite.scores ?? [])
    .find((score) => score.primary && score.value !== undefined);
  const score = primary?.value ?? null;
  if (quality?.verdict?.status === "fail") {
    return { status: "fail", reason: quality.verdict.reason ?? quality.verdict.label ?? "failed quality check", score };
  }
  if (failingFlag) {
    const evidence = failingFlag.evidence ? `: ${failingFlag.evidence}` : "";
    return { status: "fail", reason: `${failingFlag.code}${evidence}`, score };
  }
  if (bundle.failure) {
    return {
      status: "fail",
      reason: `${bundle.failure.stage} ${bundle.failure.kind}: ${bundle.failure.message}`,
      score,
    };
  }
  if (quality?.verdict?.status === "pass") {
    return { status: "pass", reason: quality.verdict.reason ?? quality.verdict.label ?? null, score };
  }
  return { status: "unknown", reason: null, score };
}

/** Peak host memory: as the tool reported it (when it does not say which memory), else process RSS. VRAM is apart. */
function peakMemoryOf(bundle: Bundle): number | null {
  const memory = bundle.memory;
  const reported = amountValue(memory?.peakReportedBytes) ?? amountValue(memory?.peakRssBytes);
  return reported === undefined ? null : Math.round(reported);
}

function rounded(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value);
}

/** The delivered decode rate of the same size as the headline's. */
function deliveredDecode(measurements: readonly Measurement[], headline: Measurement | undefined): number | null {
  if (!headline) return null;
  const delivered = measurements.find(
    (m) =>
      m.kind === "decode" &&
      m.timing === "delivered" &&
      !m.cold &&
      m.nGen === headline.nGen &&
      (m.depth ?? 0) === (headline.depth ?? 0),
  );
  return delivered ? centralValue(delivered) : null;
}

export function summarize(bundle: Bundle): RunSummary {
  const { decode, prefill, ttft } = headlines(bundle.measurements);
  const load = bundle.measurements.find((m) => m.kind === "load");
  const quality = qualityOf(bundle);
  const hardware = hardwareIdentity(bundle);
  const model = modelIdentityOf(bundle);
  return {
    hardwareSlug: hardware.slug,
    hardwareName: hardware.name,
    hardwareKind: hardware.kind,
    sourceHardwareName: hardware.sourceName,
    hostCpu: hardware.hostCpu,
    hostRamBytes: hardware.hostRamBytes,
    gpuLayers: hardware.gpuLayers,
    modelLayers: hardware.modelLayers,
    modelSlug: model.slug,
    // A model the identity rules do not know keeps the name it was given (only its slug is cleaned).
    modelName: model.recognized ? model.name : bundle.model.name,
    sourceModelName: bundle.model.name,
    quantization: model.quantization,
    parameters: bundle.model.parameters ?? null,
    engine: bundle.runtime.engine,
    engineVersion: bundle.runtime.version ?? null,
    backend: bundle.runtime.backend ?? null,
    decodeTps: decode ? centralValue(decode) : null,
    decodeNGen: decode?.nGen ?? null,
    prefillTps: prefill ? centralValue(prefill) : null,
    prefillNPrompt: prefill?.nPrompt ?? null,
    ttftMs: ttft ? centralValue(ttft) : null,
    loadMs: load ? centralValue(load) : null,
    peakMemoryBytes: peakMemoryOf(bundle),
    peakVramBytes: rounded(amountValue(bundle.memory?.peakVramBytes)),
    decodeDeliveredTps: deliveredDecode(bundle.measurements, decode),
    qualityStatus: quality.status,
    qualityReason: quality.reason,
    qualityScore: quality.score,
    method: bundle.provenance.method,
    importFormat: bundle.provenance.importedFrom?.format ?? null,
    createdAt: bundle.provenance.createdAt,
    measuredAt: bundle.provenance.measuredAt ?? null,
  };
}

/** The cell a run belongs to: runs of one hardware × model × quantization × engine are compared and reproduced together. */
export function cellOf(summary: Pick<RunSummary, "hardwareSlug" | "modelSlug" | "quantization" | "engine">): string {
  return [summary.hardwareSlug, summary.modelSlug, (summary.quantization ?? "").toLowerCase(), summary.engine].join(
    "|",
  );
}

/** The hardware and model slugs a cell belongs to (slugs never contain "|"). */
export function cellParts(cell: string): { hardwareSlug: string; modelSlug: string } {
  const [hardwareSlug = "", modelSlug = ""] = cell.split("|");
  return { hardwareSlug, modelSlug };
}
