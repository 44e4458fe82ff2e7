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
import { hardwareName, hardwareSlug, modelSlug } from "./slug.ts";

export const QualityStatus = z.enum(["pass", "fail", "unknown"]);
export type QualityStatus = z.infer<typeof QualityStatus>;

const nullableNumber = z.number().nullable();

/** What a leaderboard row shows of a run. */
export const RunSummary = z.strictObject({
  hardwareSlug: z.string(),
  hardwareName: z.string(),
  modelSlug: z.string(),
  modelName: z.string(),
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
  peakMemoryBytes: nullableNumber,
  qualityStatus: QualityStatus,
  qualityReason: z.string().nullable(),
  qualityScore: nullableNumber,
  method: z.enum(["measured", "imported"]),
  importFormat: ImportFormat.nullable(),
  createdAt: z.string(),
  measuredAt: z.string().nullable(),
});
export type RunSummary = z.infer<typeof RunSummary>;

/**
 * The single number that stands for a measurement: its mean, else its median, else the middle of
 * a reported range, else the mean of its raw samples.
 */
export function centralValue(m: Measurement): number | null {
  const direct = m.mean ?? m.median ?? m.p50;
  if (direct !== undefined) return direct;
  if (m.min !== undefined && m.max !== undefined) return (m.min + m.max) / 2;
  if (m.samples?.length) return m.samples.reduce((a, b) => a + b, 0) / m.samples.length;
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
  const candidates = measurements.filter((m) => m.kind === kind && !m.cold && centralValue(m) !== null);
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

/** Peak memory: as the tool reported it, else process RSS plus VRAM. */
function peakMemoryOf(bundle: Bundle): number | null {
  const memory = bundle.memory;
  const reported = amountValue(memory?.peakReportedBytes);
  if (reported !== undefined) return Math.round(reported);
  const rss = amountValue(memory?.peakRssBytes);
  const vram = amountValue(memory?.peakVramBytes);
  if (rss === undefined && vram === undefined) return null;
  return Math.round((rss ?? 0) + (vram ?? 0));
}

export function summarize(bundle: Bundle): RunSummary {
  const { decode, prefill, ttft } = headlines(bundle.measurements);
  const load = bundle.measurements.find((m) => m.kind === "load");
  const quality = qualityOf(bundle);
  return {
    hardwareSlug: hardwareSlug(bundle.device),
    hardwareName: hardwareName(bundle.device),
    modelSlug: modelSlug(bundle.model),
    modelName: bundle.model.name,
    quantization: bundle.model.quantization ?? null,
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
