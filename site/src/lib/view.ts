// What pages derive from the data before showing it: groupings, the few figures a sweep point or a
// reference stands for, label/value lists that skip what is absent. No fetching here (registry.ts
// does that) and no markup (the .astro files do that).
import type { RunRow } from "../../../schema/api.ts";
import {
  amountValue,
  type Config,
  type Measurement,
  type Memory,
  type Quality,
  type Score,
  type Sweep,
} from "../../../schema/bundle.ts";
import { centralValue, headlines, median, PREFERRED_DECODE_TOKENS } from "../../../schema/summary.ts";
import { DASH, formatBool, formatDate, formatNumber, type Maybe } from "./format.ts";

/** One line of a label/value list. */
export interface Fact {
  label: string;
  value: string;
  /** Where the value links to (a page of this site, or a vetted http(s) source). */
  href?: string;
  /** Said after the value, in a quieter voice: what the figure is, where it comes from. */
  note?: string;
  /** A short marker after the value, e.g. "GPU". */
  tag?: string;
}

/** Label/value pairs with absent values dropped, so an empty section can be left out. */
export function facts(entries: ReadonlyArray<readonly [string, Maybe<string>]>): Fact[] {
  return entries.flatMap(([label, value]) =>
    value === null || value === undefined || value === "" || value === DASH ? [] : [{ label, value }],
  );
}

export { amountPrecision, centralPrecision, peakMemoryPrecision } from "../../../schema/precision.ts";

/**
 * Peak host memory by the same rule as a leaderboard row (schema/summary.ts): the peak the tool
 * reported, else the process's RSS. VRAM is another memory, shown apart and never added to it.
 */
export function peakMemory(memory: Maybe<Memory>): number | null {
  return amountValue(memory?.peakReportedBytes) ?? amountValue(memory?.peakRssBytes) ?? null;
}

/** Peak GPU memory, apart from the host's. */
export function peakVram(memory: Maybe<Memory>): number | null {
  return amountValue(memory?.peakVramBytes) ?? null;
}

/**
 * The delivered decode rate (token arrival in the application) shown beside a headline decode: the
 * warm delivered measurement of the headline's size and depth, as schema/summary.ts picks it, else,
 * for a run with no engine-timed decode, the warm delivered one closest to 128 generated tokens.
 */
export function deliveredDecode(
  measurements: readonly Measurement[],
  headline: Measurement | undefined,
): Measurement | undefined {
  const delivered = measurements.filter(
    (m) => m.kind === "decode" && m.timing === "delivered" && !m.cold && centralValue(m) !== null,
  );
  if (headline) return delivered.find((m) => m.nGen === headline.nGen && (m.depth ?? 0) === (headline.depth ?? 0));
  const distance = (m: Measurement) => Math.abs((m.nGen ?? Number.MAX_SAFE_INTEGER) - PREFERRED_DECODE_TOKENS);
  return delivered
    .map((m, index) => ({ m, index }))
    .sort((a, b) => distance(a.m) - distance(b.m) || (a.m.depth ?? 0) - (b.m.depth ?? 0) || a.index - b.index)[0]?.m;
}

/**
 * A measurement's median, the figure that stands for it: as stated (median or p50), else the median
 * of its raw samples; undefined when it has neither (a source that reported only a mean or a range).
 */
export function measurementMedian(m: Measurement): { value: number; ofSamples: boolean } | undefined {
  const stated = m.median ?? m.p50;
  if (stated !== undefined) return { value: stated, ofSamples: false };
  if (m.samples?.length) return { value: median(m.samples), ofSamples: true };
  return undefined;
}

export interface PrimaryScore {
  suite: string;
  score: Score;
}

/** A quality block's headline score: the first primary score with a value, else the first score with one. */
export function primaryScore(quality: Maybe<Quality>): PrimaryScore | undefined {
  const all = (quality?.suites ?? []).flatMap((suite) =>
    (suite.scores ?? []).map((score) => ({ suite: suite.name, score })),
  );
  const withValue = all.filter((s) => s.score.value !== undefined);
  return withValue.find((s) => s.score.primary) ?? withValue[0];
}

/** Reads a config field by its sweep name: "batchSize", "sampling.temperature". */
export function configValue(config: Config, path: string): unknown {
  let current: unknown = config;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A config value as text, whatever its type. */
export function formatConfigValue(value: unknown): string {
  if (value === undefined || value === null) return DASH;
  if (typeof value === "number") return formatNumber(value, { exact: true });
  if (typeof value === "boolean") return formatBool(value);
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(formatConfigValue).join(", ");
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${formatConfigValue(v)}`)
      .join(", ");
  }
  return String(value);
}

/** The config fields of a point that are not among the swept parameters, as "name: value" text. */
export function otherConfig(config: Config, parameters: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (value: unknown, prefix: string) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, prefix ? `${prefix}.${key}` : key);
      return;
    }
    if (!parameters.includes(prefix) && value !== undefined) out.push(`${prefix}: ${formatConfigValue(value)}`);
  };
  walk(config, "");
  return out;
}

/** A measurement's size in tokens as llama-bench names it: "pp512", "tg128", "pp512+tg128". */
export function testName(m: Measurement): string | undefined {
  const parts: string[] = [];
  if (m.nPrompt !== undefined) parts.push(`pp${m.nPrompt}`);
  if (m.nGen !== undefined) parts.push(`tg${m.nGen}`);
  const name = parts.join("+");
  if (!name) return undefined;
  return m.depth ? `${name} @ d${m.depth}` : name;
}

export interface BoardGroup {
  key: string;
  title: string;
  href: string;
  rows: RunRow[];
}

/** Per model, the quantizations of its visible runs on any hardware, sorted. */
export function quantizationsByModel(
  cells: ReadonlyArray<{ modelSlug: string; quantizations: readonly string[] }>,
): Map<string, string[]> {
  const sets = new Map<string, Set<string>>();
  for (const cell of cells) {
    const set = sets.get(cell.modelSlug) ?? new Set<string>();
    for (const q of cell.quantizations) set.add(q);
    sets.set(cell.modelSlug, set);
  }
  return new Map([...sets].map(([slug, set]) => [slug, [...set].sort()]));
}

/** The leaderboard's own order: ranked runs before those ranked apart, faster decode first. */
export function leaderboardOrder(a: RunRow, b: RunRow): number {
  if (a.rankedApart !== b.rankedApart) return a.rankedApart ? 1 : -1;
  return (b.decodeTps ?? -1) - (a.decodeTps ?? -1);
}

/**
 * A model's rows grouped by hardware (the hardware with the fastest ranked run first), and within
 * one hardware, rows of the same quantization next to each other (the variant with the fastest run
 * first), ranked rows before rows ranked apart.
 */
export function groupByHardware(rows: readonly RunRow[]): BoardGroup[] {
  const groups = new Map<string, BoardGroup>();
  for (const row of rows) {
    let group = groups.get(row.hardwareSlug);
    if (!group) {
      group = {
        key: row.hardwareSlug,
        title: row.hardwareName,
        href: `/hardware/${row.hardwareSlug}/`,
        rows: [],
      };
      groups.set(row.hardwareSlug, group);
    }
    group.rows.push(row);
  }
  for (const group of groups.values()) group.rows = byQuantization(group.rows);
  return [...groups.values()];
}

/** Keeps leaderboard order, but pulls each quantization's rows together at its first (best) place. */
export function byQuantization(rows: readonly RunRow[]): RunRow[] {
  const order = new Map<string, number>();
  for (const row of rows) {
    const key = row.quantization ?? "";
    if (!order.has(key)) order.set(key, order.size);
  }
  return rows
    .map((row, index) => ({ row, index }))
    .sort(
      (a, b) =>
        (order.get(a.row.quantization ?? "") ?? 0) - (order.get(b.row.quantization ?? "") ?? 0) ||
        Number(a.row.rankedApart) - Number(b.row.rankedApart) ||
        a.index - b.index,
    )
    .map(({ row }) => row);
}

/** The quantizations a model was run in, in order of first appearance. */
export function quantizations(rows: readonly RunRow[]): string[] {
  return [...new Set(rows.map((r) => r.quantization ?? "unspecified"))];
}

/**
 * Samples as the page writes them, "a, b, c": runs of plain samples joined into one text, each
 * outlier a segment of its own (the page marks it), the ", " between them in the plain texts.
 */
export function sampleSegments(
  samples: ReadonlyArray<{ text: string; outlier: boolean }>,
): Array<{ text: string; outlier: boolean }> {
  const segments: Array<{ text: string; outlier: boolean }> = [];
  let plain = "";
  samples.forEach((sample, i) => {
    const separator = i > 0 ? ", " : "";
    if (!sample.outlier) {
      plain += separator + sample.text;
      return;
    }
    plain += separator;
    if (plain) segments.push({ text: plain, outlier: false });
    plain = "";
    segments.push({ text: sample.text, outlier: true });
  });
  if (plain) segments.push({ text: plain, outlier: false });
  return segments;
}

/** The first `limit` items, and how many were left out. */
export function capped<T>(items: readonly T[], limit: number): { shown: T[]; hidden: number } {
  return { shown: items.slice(0, limit), hidden: Math.max(0, items.length - limit) };
}

type SweepPoint = Sweep["points"][number];

/** What a sweep table shows of one point, and which columns any point fills. */
export interface SweepRow {
  point: SweepPoint;
  /** "name: value" for each swept parameter the point sets (used when parameters share one column). */
  sweptValues: string[];
  decode: Measurement | undefined;
  prefill: Measurement | undefined;
  ttft: Measurement | undefined;
  /** Peak host memory; VRAM apart. */
  peakMemory: number | null;
  peakVram: number | null;
  primary: PrimaryScore | undefined;
  otherConfig: string[];
  /** Anything recorded at the point beyond what its row shows. */
  hasMore: boolean;
}

export interface SweepView {
  rows: SweepRow[];
  /**
   * The swept parameters with a column each, or none when there are too many for columns: then one
   * column lists the values each point sets ("batchSize: 768; contextSize: 1,024").
   */
  parameterColumns: string[];
  columns: {
    other: boolean;
    decode: boolean;
    prefill: boolean;
    ttft: boolean;
    memory: boolean;
    vram: boolean;
    quality: boolean;
    failure: boolean;
  };
  /** How many columns the table has, for rows that span it. */
  columnCount: number;
  /** The suite every primary score comes from, when it is one suite. */
  suite: string | undefined;
}

function suiteHasMore(quality: Maybe<Quality>): boolean {
  if (!quality) return false;
  const suites = quality.suites ?? [];
  return (
    Boolean(quality.perplexity) ||
    suites.length > 1 ||
    suites.some(
      (s) =>
        (s.scores?.length ?? 0) > 1 ||
        s.items?.length ||
        s.categories?.length ||
        s.description ||
        s.notes ||
        s.tasks?.length ||
        s.version ||
        s.status,
    )
  );
}

const MAX_PARAMETER_COLUMNS = 4;

export function sweepView(sweep: Sweep): SweepView {
  const rows = sweep.points.map((point): SweepRow => {
    const measurements = point.measurements ?? [];
    return {
      point,
      sweptValues: sweep.parameters.flatMap((p) => {
        const value = configValue(point.config, p);
        return value === undefined ? [] : [`${p}: ${formatConfigValue(value)}`];
      }),
      ...headlines(measurements),
      peakMemory: peakMemory(point.memory),
      peakVram: peakVram(point.memory),
      primary: primaryScore(point.quality),
      otherConfig: otherConfig(point.config, sweep.parameters),
      hasMore: measurements.length > 0 || Boolean(point.memory) || suiteHasMore(point.quality),
    };
  });
  const suites = new Set(rows.flatMap((r) => (r.primary ? [r.primary.suite] : [])));
  const columns = {
    other: rows.some((r) => r.otherConfig.length > 0),
    decode: rows.some((r) => r.decode),
    prefill: rows.some((r) => r.prefill),
    ttft: rows.some((r) => r.ttft),
    memory: rows.some((r) => r.peakMemory !== null),
    vram: rows.some((r) => r.peakVram !== null),
    quality: rows.some((r) => r.primary || r.point.quality?.verdict || r.point.quality?.flags?.length),
    failure: rows.some((r) => r.point.failure),
  };
  const parameterColumns = sweep.parameters.length <= MAX_PARAMETER_COLUMNS ? sweep.parameters : [];
  return {
    rows,
    parameterColumns,
    columns,
    columnCount: 1 + (parameterColumns.length || 1) + Object.values(columns).filter(Boolean).length,
    suite: suites.size === 1 ? [...suites][0] : undefined,
  };
}

/** A hardware's best ranked run: the leaderboard's first row that is not ranked apart (it is ordered by decode). */
export function bestRanked(board: readonly RunRow[]): RunRow | undefined {
  return board.find((r) => !r.rankedApart);
}

/** The best of a set of figures, where "best" is the larger or the smaller by the metric's `better`. */
function best(values: ReadonlyArray<number | null>, better: "higher" | "lower"): number | null {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return null;
  return better === "higher" ? Math.max(...present) : Math.min(...present);
}

/**
 * The figures a comparison takes each side's best of, and which way is better: the one list both the
 * comparison and its page read, so a metric's direction is said once.
 */
export const COMPARE_METRICS = [
  { key: "decodeTps", label: "Decode (tok/s)", better: "higher" },
  { key: "prefillTps", label: "Prefill (tok/s)", better: "higher" },
  { key: "ttftMs", label: "TTFT (ms)", better: "lower" },
  { key: "qualityScore", label: "Quality", better: "higher" },
] as const satisfies ReadonlyArray<{
  key: keyof RunRow & keyof CompareSide;
  label: string;
  better: "higher" | "lower";
}>;

type CompareMetric = (typeof COMPARE_METRICS)[number];

/** One model on one side of a comparison: its best ranked figures, each from whichever ranked run holds it. */
export interface CompareSide {
  decodeTps: number | null;
  prefillTps: number | null;
  ttftMs: number | null;
  qualityScore: number | null;
  /** "pass" when a ranked run passed its quality gates; ranked runs that did not are "unknown" (never "fail"). */
  qualityStatus: "pass" | "unknown";
  /** Ranked runs behind the figures; 0 when the model only has runs ranked apart here. */
  rankedRuns: number;
  apartRuns: number;
}

export interface CompareRow {
  modelSlug: string;
  modelName: string;
  a: CompareSide;
  b: CompareSide;
}

export interface ComparePair {
  /** `<a>-vs-<b>`, the two hardware slugs in alphabetical order. */
  slug: string;
  a: { slug: string; name: string };
  b: { slug: string; name: string };
  rows: CompareRow[];
}

function side(rows: readonly RunRow[]): CompareSide {
  const ranked = rows.filter((r) => !r.rankedApart);
  // Every key of COMPARE_METRICS gets an entry, so the object is the full record the cast names.
  const figures = Object.fromEntries(
    COMPARE_METRICS.map((m) => [
      m.key,
      best(
        ranked.map((r) => r[m.key]),
        m.better,
      ),
    ]),
  ) as Record<CompareMetric["key"], number | null>;
  return {
    ...figures,
    qualityStatus: ranked.some((r) => r.qualityStatus === "pass") ? "pass" : "unknown",
    rankedRuns: ranked.length,
    apartRuns: rows.length - ranked.length,
  };
}

/** A pair of hardware with the models both ran, named: what the compare index lists. */
export interface CellPair {
  slug: string;
  a: { slug: string; name: string };
  b: { slug: string; name: string };
  models: { slug: string; name: string }[];
}

/** Every pair of hardware with a model in common, from the cells alone (A before B by slug). */
export function cellPairs(
  cells: ReadonlyArray<{ hardwareSlug: string; hardwareName: string; modelSlug: string; modelName: string }>,
): CellPair[] {
  const byHardware = new Map<string, { name: string; models: Map<string, string> }>();
  for (const cell of cells) {
    const entry = byHardware.get(cell.hardwareSlug) ?? { name: cell.hardwareName, models: new Map() };
    entry.models.set(cell.modelSlug, cell.modelName);
    byHardware.set(cell.hardwareSlug, entry);
  }
  const slugs = [...byHardware.keys()].sort();
  const pairs: CellPair[] = [];
  for (let i = 0; i < slugs.length; i++) {
    for (let j = i + 1; j < slugs.length; j++) {
      const a = byHardware.get(slugs[i] ?? "");
      const b = byHardware.get(slugs[j] ?? "");
      if (!a || !b) continue;
      const models = [...a.models]
        .filter(([slug]) => b.models.has(slug))
        .map(([slug, name]) => ({ slug, name }))
        .sort((x, y) => x.name.localeCompare(y.name, "en", { sensitivity: "base" }));
      if (models.length === 0) continue;
      pairs.push({
        slug: `${slugs[i]}-vs-${slugs[j]}`,
        a: { slug: slugs[i] ?? "", name: a.name },
        b: { slug: slugs[j] ?? "", name: b.name },
        models,
      });
    }
  }
  return pairs;
}

/**
 * Every pair of hardware that ran at least one model in common (A before B by slug), with the models
 * both ran. Runs ranked apart count for sharing a model but never give a figure: their speed is not a result.
 */
export function comparePairs(
  hardware: ReadonlyArray<{ slug: string; name: string }>,
  boards: ReadonlyMap<string, readonly RunRow[]>,
): ComparePair[] {
  const sorted = [...hardware].sort((x, y) => (x.slug < y.slug ? -1 : x.slug > y.slug ? 1 : 0));
  const byModel = new Map(
    sorted.map((h) => {
      const models = new Map<string, RunRow[]>();
      for (const row of boards.get(h.slug) ?? []) {
        const list = models.get(row.modelSlug) ?? [];
        list.push(row);
        models.set(row.modelSlug, list);
      }
      return [h.slug, models] as const;
    }),
  );
  const pairs: ComparePair[] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i];
      const b = sorted[j];
      if (!a || !b) continue;
      const modelsA = byModel.get(a.slug) ?? new Map<string, RunRow[]>();
      const modelsB = byModel.get(b.slug) ?? new Map<string, RunRow[]>();
      const rows: CompareRow[] = [];
      for (const [modelSlug, rowsA] of modelsA) {
        const rowsB = modelsB.get(modelSlug);
        if (!rowsB) continue;
        rows.push({ modelSlug, modelName: rowsA[0]?.modelName ?? modelSlug, a: side(rowsA), b: side(rowsB) });
      }
      if (rows.length === 0) continue;
      rows.sort((x, y) => x.modelName.localeCompare(y.modelName, "en", { sensitivity: "base" }));
      pairs.push({
        slug: `${a.slug}-vs-${b.slug}`,
        a: { slug: a.slug, name: a.name },
        b: { slug: b.slug, name: b.name },
        rows,
      });
    }
  }
  return pairs;
}

/** A over B, or null when either is missing or B is zero. */
export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || b === 0) return null;
  return a / b;
}

/**
 * When a run was measured, as a UTC timestamp, for ordering and for the history chart: its measuredAt
 * when that names a year (a datetime, or a day, month or year taken at its start), else when the
 * registry received it (`measured` false), so a date shown with it can say which one it is.
 */
export function runTime(row: Pick<RunRow, "measuredAt" | "receivedAt">): { time: number; measured: boolean } {
  const m = row.measuredAt;
  if (m && !m.startsWith("--")) {
    const partial = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(m);
    const time = partial
      ? Date.UTC(Number(partial[1]), Number(partial[2] ?? 1) - 1, Number(partial[3] ?? 1))
      : Date.parse(m);
    if (Number.isFinite(time)) return { time, measured: true };
  }
  return { time: Date.parse(row.receivedAt), measured: false };
}

/** A run's date cell: when it was measured, or when the registry received it, marked so, by runTime's rule. */
export function runDateCell(row: Pick<RunRow, "measuredAt" | "receivedAt">): string {
  return runTime(row).measured ? formatDate(row.measuredAt) : `${formatDate(row.receivedAt)} (received)`;
}

export interface HistoryEntry {
  row: RunRow;
  /** The earlier ranked run (same engine and quantization, another engine version) this run's decode is compared with. */
  baseline: RunRow | undefined;
  /** Relative change of decode against the baseline: 0.1 is 10 % faster. */
  change: number | null;
}

export interface History {
  /** `<hardware>/<model>`, the page's path under /history/. */
  key: string;
  hardwareSlug: string;
  hardwareName: string;
  modelSlug: string;
  modelName: string;
  /** Oldest first. */
  entries: HistoryEntry[];
}

function sameSetup(x: RunRow, y: RunRow): boolean {
  return x.engine === y.engine && (x.quantization ?? "") === (y.quantization ?? "");
}

/**
 * Every hardware + model with at least two runs that are not hidden, oldest run first. Each ranked run's
 * decode is compared with the latest earlier ranked run of the same engine and quantization on a different
 * engine version, so a row says what an upgrade did; runs ranked apart are listed but neither compared nor
 * a baseline.
 */
export function histories(runs: readonly RunRow[]): History[] {
  const groups = new Map<string, RunRow[]>();
  for (const row of runs) {
    // /v1/runs lists hidden runs too; like the leaderboards, a history leaves them out.
    if (row.status === "hidden") continue;
    const key = `${row.hardwareSlug}/${row.modelSlug}`;
    const list = groups.get(key) ?? [];
    list.push(row);
    groups.set(key, list);
  }
  const out: History[] = [];
  for (const [key, rows] of groups) {
    if (rows.length < 2) continue;
    const ordered = [...rows].sort(
      (x, y) => runTime(x).time - runTime(y).time || x.receivedAt.localeCompare(y.receivedAt),
    );
    const entries = ordered.map((row, index): HistoryEntry => {
      if (row.rankedApart || row.decodeTps === null) return { row, baseline: undefined, change: null };
      const baseline = ordered
        .slice(0, index)
        .reverse()
        .find(
          (earlier) =>
            !earlier.rankedApart &&
            earlier.decodeTps !== null &&
            sameSetup(earlier, row) &&
            (earlier.engineVersion ?? "") !== (row.engineVersion ?? ""),
        );
      const before = baseline?.decodeTps ?? null;
      return { row, baseline, change: before ? row.decodeTps / before - 1 : null };
    });
    const first = ordered[0];
    if (!first) continue;
    out.push({
      key,
      hardwareSlug: first.hardwareSlug,
      hardwareName: first.hardwareName,
      modelSlug: first.modelSlug,
      modelName: first.modelName,
      entries,
    });
  }
  return out.sort((x, y) => x.key.localeCompare(y.key));
}
