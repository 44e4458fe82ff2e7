// Physics and statistics on top of signatures: a signature proves who sent a run, not that it is
// true. These checks run on the server, on the bundle as stored, never on a client's own verdict.
import { type SQL, sql } from "drizzle-orm";
import type { Bundle, Measurement } from "../schema/bundle.ts";
import { cells } from "../schema/db.ts";
import { rooflineBound } from "../schema/roofline.ts";
import type { RunSummary } from "../schema/summary.ts";

export interface RunFlag {
  code: string;
  reason: string;
  /** Whether the flag ranks the run apart from the leaderboard. */
  rankApart: boolean;
}

/** Decode may exceed bandwidth ÷ model bytes by this much before it is called implausible (caches, rounding). */
export const ROOFLINE_SLACK = 1.25;
/** Two timing figures of one run that disagree by more than this share are inconsistent. */
export const TIMING_TOLERANCE = 0.5;
/** Statistics further than this share from their own raw samples' mean are inconsistent. */
export const STATISTICS_TOLERANCE = 0.05;
export const OUTLIER_SIGMAS = 3;
export const OUTLIER_MIN_OTHERS = 3;

function rooflineFlag(bundle: Bundle, summary: RunSummary): RunFlag | undefined {
  const decode = summary.decodeTps;
  const { bound } = rooflineBound(bundle);
  if (decode === null || !bound) return undefined;
  const limit = bound.decodeUpperBoundTps;
  if (decode <= limit * ROOFLINE_SLACK) return undefined;
  const sources = bound.memories
    .map(
      (m) =>
        `${m.label} ${gb(m.bandwidthBytesPerSec)}/s${m.share < 1 ? ` for ${Math.round(m.share * 100)} % of the weights` : ""} (${m.basis})`,
    )
    .join(" and ");
  return {
    code: "implausible_speed",
    reason: `decode ${decode.toFixed(2)} tok/s is above the physical bound of ${limit.toFixed(2)} tok/s: ${sources} ÷ ${gb(bound.bytesPerToken)} of weights read per token`,
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
  // Per-token latencies are token arrival: they pair with the delivered rate, not the engine's own timing.
  for (const decode of m.filter((x) => x.kind === "decode" && x.mean && x.timing !== "engine")) {
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

/** The other ranked runs of the same hardware × model × quantization × engine, as their cell keeps them. */
export interface CellStats {
  /** How many there are. */
  runs: number;
  /** The sum of their decode speeds. */
  decodeSum: number;
  /** The sum of their squared deviations from their mean (Welford's M2). */
  decodeM2: number;
}

/** No other runs: the cell is new. */
export const EMPTY_CELL: CellStats = { runs: 0, decodeSum: 0, decodeM2: 0 };

/**
 * The cell's figures with one more run of decode speed `x`, updated in place as the database does
 * (workers/ingest.ts), so the outlier check sees what the cell will store.
 */
export function withRun(cell: CellStats, x: number): CellStats {
  const runs = cell.runs + 1;
  const decodeSum = cell.decodeSum + x;
  const decodeM2 = cell.runs === 0 ? 0 : cell.decodeM2 + (x - cell.decodeSum / cell.runs) * (x - decodeSum / runs);
  return { runs, decodeSum, decodeM2 };
}

function outlierFlag(summary: RunSummary, cell: CellStats): RunFlag | undefined {
  const x = summary.decodeTps;
  const n = cell.runs;
  if (x === null || n < OUTLIER_MIN_OTHERS) return undefined;
  const mean = cell.decodeSum / n;
  const sd = Math.sqrt(Math.max(0, cell.decodeM2) / (n - 1));
  if (sd === 0 || Math.abs(x - mean) <= OUTLIER_SIGMAS * sd) return undefined;
  return {
    code: "outlier",
    reason: `decode ${x.toFixed(2)} tok/s is ${(Math.abs(x - mean) / sd).toFixed(1)}σ from the ${n} other runs of this hardware, model, quantization and engine (mean ${mean.toFixed(2)}, σ ${sd.toFixed(2)})`,
    rankApart: true,
  };
}

/**
 * outlierFlag's test in SQL, on a cell's stored figures against a decode speed `x` (a value or
 * placeholder): true where the flag may be raised. It is a hair wider than outlierFlag, so rounding
 * can only send a borderline run to the JS test, never past it (ingest.ts checks it before writing).
 */
export function mayBeOutlierSql(x: unknown): SQL {
  const sd = sql`sqrt(max(0, ${cells.decodeM2}) / (${cells.runs} - 1))`;
  return sql`(${cells.runs} >= ${sql.raw(String(OUTLIER_MIN_OTHERS))} and ${sd} > 0
    and abs(${x} - ${cells.decodeSum} / ${cells.runs}) > ${sql.raw(String(OUTLIER_SIGMAS))} * ${sd} * (1 - 1e-9))`;
}

export function plausibilityFlags(bundle: Bundle, summary: RunSummary, cell: CellStats): RunFlag[] {
  return [rooflineFlag(bundle, summary), ...timingFlags(bundle), outlierFlag(summary, cell)].filter(
    (f): f is RunFlag => f !== undefined,
  );
}
