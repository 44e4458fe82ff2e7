// Physics and statistics on top of signatures: a signature proves who sent a run, not that it is
// true. These checks run on the server, on the bundle as stored, never on a client's own verdict.
import { amountValue, type Bundle, type Measurement } from "../schema/bundle.ts";
import { knownHardware } from "../schema/hardware-catalog.ts";
import type { RunSummary } from "../schema/summary.ts";

export interface RunFlag {
  code: string;
  reason: string;
  /** Whether the flag ranks the run apart from the leaderboard. */
  rankApart: boolean;
}

/** Decode may exceed bandwidth ÷ model bytes by this much before it is called implausible (caches, rounding). */
export const ROOFLINE_SLACK = 1.25;
/** A declared (measured by the client) bandwidth is trusted less than the catalog's peak figure. */
export const DECLARED_BANDWIDTH_SLACK = 1.5;
/** Two timing figures of one run that disagree by more than this share are inconsistent. */
export const TIMING_TOLERANCE = 0.5;
/** Statistics further than this share from their own raw samples' mean are inconsistent. */
export const STATISTICS_TOLERANCE = 0.05;
export const OUTLIER_SIGMAS = 3;
export const OUTLIER_MIN_OTHERS = 3;

// Mixture-of-experts models read only their active experts per token: the file size overstates it.
const MIXTURE_OF_EXPERTS = /moe|mixtral|-a\d+(\.\d+)?b\b|\ba\d+b\b/i;

/** Bits per weight by quantization name, for models whose file size is not given. */
function bitsPerWeight(quantization: string | undefined): number | undefined {
  if (!quantization) return undefined;
  const q = quantization.toLowerCase();
  const table: Array<[RegExp, number]> = [
    [/f32|fp32/, 32],
    [/f16|fp16|bf16/, 16],
    [/q8|int8|w8a8|8-?bit/, 8.5],
    [/q6/, 6.6],
    [/q5/, 5.5],
    [/q4|int4|w4a16|4-?bit/, 4.5],
    [/q3/, 3.4],
    [/q2/, 2.6],
    [/1\.58|ternary|b1\.58/, 1.58],
  ];
  return table.find(([pattern]) => pattern.test(q))?.[1];
}

/** Bytes of weights read to generate one token by a dense model. */
export function bytesPerToken(bundle: Bundle): number | undefined {
  const file = amountValue(bundle.model.fileBytes);
  if (file) return file;
  const bits = bitsPerWeight(bundle.model.quantization);
  return bundle.model.parameters && bits ? (bundle.model.parameters * bits) / 8 : undefined;
}

function rooflineFlag(bundle: Bundle, summary: RunSummary): RunFlag | undefined {
  const decode = summary.decodeTps;
  const bytes = bytesPerToken(bundle);
  if (decode === null || !bytes || MIXTURE_OF_EXPERTS.test(bundle.model.name)) return undefined;
  const known = knownHardware(bundle.device);
  const declared = bundle.device.memoryBandwidthBytesPerSec;
  const bandwidth = known?.peakBandwidthBytesPerSec ?? (declared ? declared * DECLARED_BANDWIDTH_SLACK : undefined);
  if (!bandwidth) return undefined;
  const bound = bandwidth / bytes;
  if (decode <= bound * ROOFLINE_SLACK) return undefined;
  const source = known
    ? `${known.slug}'s peak ${gb(known.peakBandwidthBytesPerSec)}/s (${known.basis})`
    : `the declared ${gb(declared as number)}/s`;
  return {
    code: "implausible_speed",
    reason: `decode ${decode.toFixed(2)} tok/s is above the physical bound of ${bound.toFixed(2)} tok/s: ${source} ÷ ${gb(bytes)} of weights read per token`,
    rankApart: true,
  };
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(bytes < 1e9 ? 3 : 1)} GB`;

function sameSize(a: Measurement, b: Measurement): boolean {
  return a.nGen === b.nGen && (a.depth ?? 0) === (b.depth ?? 0) && Boolean(a.cold) === Boolean(b.cold);
}

/** Timing figures that contradict each other (the MLPerf TEST06 idea: counts must match durations). */
function timingFlags(bundle: Bundle): RunFlag[] {
  const reasons: string[] = [];
  const m = bundle.measurements;
  for (const decode of m.filter((x) => x.kind === "decode" && x.mean)) {
    const latency = m.find((x) => x.kind === "token_latency" && x.mean && sameSize(x, decode));
    if (!latency?.mean || !decode.mean) continue;
    const implied = 1000 / latency.mean;
    if (Math.abs(implied - decode.mean) / decode.mean > TIMING_TOLERANCE) {
      reasons.push(
        `decode ${decode.label ?? ""} reports ${decode.mean} tok/s but its per-token latency of ${latency.mean} ms means ${implied.toFixed(1)} tok/s`,
      );
    }
  }
  for (const ttft of m.filter((x) => x.kind === "ttft" && x.mean && x.nPrompt)) {
    const prefill = m
      .filter((x) => x.kind === "prefill" && x.mean && !x.cold)
      .sort((a, b) => (b.mean ?? 0) - (a.mean ?? 0))[0];
    if (!prefill?.mean || !ttft.mean || !ttft.nPrompt) continue;
    // The first token cannot come before the prompt is read, even at the fastest prefill reported.
    const fastest = (ttft.nPrompt / prefill.mean) * 1000;
    if (ttft.mean < fastest * (1 - TIMING_TOLERANCE)) {
      reasons.push(
        `time to first token ${ttft.mean} ms for ${ttft.nPrompt} prompt tokens is faster than reading them at the fastest prefill reported (${prefill.mean} tok/s: ${fastest.toFixed(1)} ms)`,
      );
    }
  }
  for (const x of m) {
    if (!x.samples?.length || x.mean === undefined) continue;
    const mean = x.samples.reduce((a, b) => a + b, 0) / x.samples.length;
    const outside = x.min !== undefined && x.max !== undefined && (x.mean < x.min || x.mean > x.max);
    if (outside || Math.abs(mean - x.mean) > Math.abs(mean) * STATISTICS_TOLERANCE + 1e-9) {
      reasons.push(
        `${x.kind} ${x.label ?? ""} reports a mean of ${x.mean} but its ${x.samples.length} raw samples average ${Number(mean.toPrecision(6))}`,
      );
    }
  }
  const soak = bundle.soak;
  if (
    soak?.latencyMs?.mean &&
    soak.requests > 0 &&
    soak.latencyMs.mean * (soak.requests - soak.failures) > soak.durationMs * 1.05
  ) {
    reasons.push(
      `the soak reports ${soak.requests} requests averaging ${soak.latencyMs.mean} ms, more time than its ${soak.durationMs} ms duration`,
    );
  }
  return reasons.length
    ? [{ code: "inconsistent_timing", reason: reasons.join("; ").slice(0, 2000), rankApart: true }]
    : [];
}

export interface CellStats {
  /** Decode speeds of the other ranked runs of the same hardware × model × quantization × engine. */
  others: number[];
}

function outlierFlag(summary: RunSummary, cell: CellStats): RunFlag | undefined {
  const x = summary.decodeTps;
  const n = cell.others.length;
  if (x === null || n < OUTLIER_MIN_OTHERS) return undefined;
  const mean = cell.others.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(cell.others.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  if (sd === 0 || Math.abs(x - mean) <= OUTLIER_SIGMAS * sd) return undefined;
  return {
    code: "outlier",
    reason: `decode ${x.toFixed(2)} tok/s is ${(Math.abs(x - mean) / sd).toFixed(1)}σ from the ${n} other runs of this hardware, model, quantization and engine (mean ${mean.toFixed(2)}, σ ${sd.toFixed(2)})`,
    rankApart: true,
  };
}

export function plausibilityFlags(bundle: Bundle, summary: RunSummary, cell: CellStats): RunFlag[] {
  return [rooflineFlag(bundle, summary), ...timingFlags(bundle), outlierFlag(summary, cell)].filter(
    (f): f is RunFlag => f !== undefined,
  );
}
