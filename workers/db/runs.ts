// Queries over runs. Routes call these; no SQL lives in a route handler.
import {
  and,
  asc,
  type Column,
  desc,
  eq,
  gt,
  inArray,
  isNull,
  lt,
  ne,
  or,
  type Placeholder,
  type SQL,
  sql,
} from "drizzle-orm";
import { REPRODUCTION_TOLERANCE, type ReproductionLevel, RunFlag, type RunRow } from "../../schema/api.ts";
import type { Bundle } from "../../schema/bundle.ts";
import { annotations, cells, devices, hardware, models, type RunRecord, runs } from "../../schema/db.ts";
import { modelIdentityOf } from "../../schema/slug.ts";
import { cellParts, type RunSummary } from "../../schema/summary.ts";
import type { Database } from "./database.ts";

// Every column but the envelope, plus the cell's reproduction level: list queries never read the
// big text column.
export const rowColumns = {
  id: runs.id,
  deviceId: runs.deviceId,
  hardwareSlug: runs.hardwareSlug,
  hardwareName: runs.hardwareName,
  hardwareKind: runs.hardwareKind,
  sourceHardwareName: runs.sourceHardwareName,
  hostCpu: runs.hostCpu,
  hostRamBytes: runs.hostRamBytes,
  gpuLayers: runs.gpuLayers,
  modelLayers: runs.modelLayers,
  modelSlug: runs.modelSlug,
  modelName: runs.modelName,
  sourceModelName: runs.sourceModelName,
  quantization: runs.quantization,
  parameters: runs.parameters,
  engine: runs.engine,
  engineVersion: runs.engineVersion,
  backend: runs.backend,
  decodeTps: runs.decodeTps,
  decodeNGen: runs.decodeNGen,
  prefillTps: runs.prefillTps,
  prefillNPrompt: runs.prefillNPrompt,
  ttftMs: runs.ttftMs,
  loadMs: runs.loadMs,
  peakMemoryBytes: runs.peakMemoryBytes,
  peakVramBytes: runs.peakVramBytes,
  decodeDeliveredTps: runs.decodeDeliveredTps,
  qualityStatus: runs.qualityStatus,
  qualityReason: runs.qualityReason,
  qualityScore: runs.qualityScore,
  flags: runs.flags,
  rankGroup: runs.rankGroup,
  decodeSortKey: runs.decodeSortKey,
  prefillSortKey: runs.prefillSortKey,
  ttftSortKey: runs.ttftSortKey,
  method: runs.method,
  importFormat: runs.importFormat,
  createdAt: runs.createdAt,
  measuredAt: runs.measuredAt,
  receivedAt: runs.receivedAt,
  hiddenReason: runs.hiddenReason,
  retractedAt: runs.retractedAt,
  retractionReason: runs.retractionReason,
  reproduction: runs.reproduction,
};
export type RowRecord = Omit<RunRecord, "envelope" | "cell" | "nonce" | "versionKey" | "identityVersion">;

const RunFlags = RunFlag.array();

/** A flag exactly as ingest and moderation write it: its three fields, in the schema's order. */
function isWrittenFlag(value: unknown): value is RunFlag {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const flag = value as Record<string, unknown>;
  return (
    keys.length === 3 &&
    keys[0] === "code" &&
    keys[1] === "reason" &&
    keys[2] === "rankApart" &&
    typeof flag.code === "string" &&
    typeof flag.reason === "string" &&
    typeof flag.rankApart === "boolean"
  );
}

/**
 * A run's stored flags; anything unreadable reads as none. Read per row of every list, so the flags as
 * we write them are checked by hand (what zod would return, unchanged), and zod sees only the rest.
 */
export function parseFlags(text: string): RunFlag[] {
  if (text === "[]") return [];
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every(isWrittenFlag)) return value;
    return RunFlags.parse(value);
  } catch {
    return [];
  }
}

/** The columns of a row that a RunRow says otherwise (or not at all). */
const NOT_IN_RUN_ROW = new Set<string>([
  "rankGroup",
  "decodeSortKey",
  "prefillSortKey",
  "ttftSortKey",
  "flags",
  "hiddenReason",
  "retractedAt",
  "retractionReason",
]);

export function toRunRow(record: RowRecord, baseUrl: string): RunRow {
  // Every other column, in the record's order, then what the API derives. Copied key by key: an
  // object rest of drizzle's rows cost ~10 µs a row, most of a leaderboard page's rendering.
  const row: Record<string, unknown> = {};
  for (const key in record) if (!NOT_IN_RUN_ROW.has(key)) row[key] = record[key as keyof RowRecord];
  const { retractedAt, hiddenReason } = record;
  row.url = `${baseUrl}/runs/${record.id}/`;
  row.rankedApart = record.rankGroup === 1;
  row.flags = parseFlags(record.flags);
  row.status = retractedAt ? "retracted" : hiddenReason ? "hidden" : "visible";
  row.statusReason = retractedAt ? record.retractionReason : hiddenReason;
  return row as RunRow;
}

/** The leaderboard sort keys of a summary: -1 for "not measured" (+inf for TTFT), so keyset pages never compare NULLs. */
export function sortKeys(s: Pick<RunSummary, "decodeTps" | "prefillTps" | "ttftMs">) {
  return {
    decodeSortKey: s.decodeTps ?? -1,
    prefillSortKey: s.prefillTps ?? -1,
    ttftSortKey: s.ttftMs ?? Number.MAX_VALUE,
  };
}

/** A model's catalog row as its first run describes it: the canonical identity, its base for a fine-tune. */
export function modelCatalogRow(bundle: Bundle, summary: RunSummary, at: string) {
  const identity = modelIdentityOf(bundle);
  return {
    slug: summary.modelSlug,
    name: summary.modelName,
    family: identity.recognized ? identity.family : (bundle.model.family ?? null),
    parameters: summary.parameters,
    variant: identity.variant,
    baseSlug: identity.baseSlug,
    firstSeenAt: at,
  };
}

export async function getRun(db: Database, id: string): Promise<(RowRecord & { envelope: string }) | undefined> {
  const [row] = await db
    .select({ ...rowColumns, envelope: runs.envelope })
    .from(runs)
    .where(eq(runs.id, id))
    .limit(1);
  return row;
}

/** Several runs with their envelopes in one query (the ids are bound: at most MAX_PAGE_SIZE of them). */
export function getRuns(db: Database, ids: readonly string[]): Promise<Array<RowRecord & { envelope: string }>> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select({ ...rowColumns, envelope: runs.envelope })
    .from(runs)
    .where(inArray(runs.id, [...ids]));
}

export const LEADERBOARD_METRICS = ["decode_tps", "prefill_tps", "ttft_ms"] as const;
export type LeaderboardMetric = (typeof LEADERBOARD_METRICS)[number];

/** Per metric: the sort-key column and whether bigger is better. */
const METRIC_ORDER = {
  decode_tps: { column: runs.decodeSortKey, descending: true },
  prefill_tps: { column: runs.prefillSortKey, descending: true },
  ttft_ms: { column: runs.ttftSortKey, descending: false },
} as const;

/** Leaderboard position: ranked runs before runs ranked apart, best first by the metric, id breaks ties. */
export interface RankCursor {
  rankGroup: number;
  sortKey: number;
  id: string;
}

export interface LeaderboardQuery {
  hardware?: string | undefined;
  model?: string | undefined;
  quantization?: string | undefined;
  engine?: string | undefined;
  backend?: string | undefined;
  kind?: "gpu" | "system" | undefined;
  hostCpu?: string | undefined;
  quality?: "pass" | "fail" | "unknown" | undefined;
  reproduction?: ReproductionLevel | undefined;
  metric: LeaderboardMetric;
  after?: RankCursor | undefined;
  limit: number;
}

/**
 * The leaderboard query, built once for the route and for the read-cost benchmark. With a hardware
 * or model filter it walks one index in order and stops after limit + 1 rows.
 */
export function leaderboardQuery(db: Database, q: LeaderboardQuery) {
  return leaderboardSelect(db, q, q.limit + 1);
}

function leaderboardSelect(db: Database, q: LeaderboardQuery, limit: number | Placeholder) {
  const { column, descending } = METRIC_ORDER[q.metric];
  const conditions: (SQL | undefined)[] = [
    isNull(runs.hiddenReason),
    q.hardware ? eq(runs.hardwareSlug, q.hardware) : undefined,
    q.model ? eq(runs.modelSlug, q.model) : undefined,
    q.quantization ? eq(runs.quantization, q.quantization) : undefined,
    q.engine ? eq(runs.engine, q.engine as RunRecord["engine"]) : undefined,
    q.backend ? eq(runs.backend, q.backend as NonNullable<RunRecord["backend"]>) : undefined,
    q.kind ? eq(runs.hardwareKind, q.kind) : undefined,
    q.hostCpu ? sql`${runs.hostCpu} = ${q.hostCpu} collate nocase` : undefined,
    q.quality ? eq(runs.qualityStatus, q.quality) : undefined,
    q.reproduction ? eq(runs.reproduction, q.reproduction) : undefined,
  ];
  if (q.after) {
    const a = q.after;
    const better = descending ? lt(column, a.sortKey) : gt(column, a.sortKey);
    conditions.push(
      or(
        gt(runs.rankGroup, a.rankGroup),
        and(eq(runs.rankGroup, a.rankGroup), better),
        and(eq(runs.rankGroup, a.rankGroup), eq(column, a.sortKey), gt(runs.id, a.id)),
      ),
    );
  }
  return db
    .select(rowColumns)
    .from(runs)
    .where(and(...conditions))
    .orderBy(asc(runs.rankGroup), descending ? desc(column) : asc(column), asc(runs.id))
    .limit(limit);
}

const ROW_KEYS = Object.keys(rowColumns) as (keyof typeof rowColumns)[];
const ROW_DECODERS = ROW_KEYS.map((key) => rowColumns[key]);

/** Rows of rowColumns from D1's arrays, each value decoded by its column as drizzle's own mapping does. */
function rowRecords(raw: unknown[][]): RowRecord[] {
  return raw.map((values) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < ROW_KEYS.length; i++) {
      const value = values[i];
      row[ROW_KEYS[i] as string] = value === null ? null : (ROW_DECODERS[i] as Column).mapFromDriverValue(value);
    }
    return row as RowRecord;
  });
}

/** The filters a leaderboard query may have: which of them it has (and the metric, and a cursor) is its shape. */
const LEADERBOARD_FILTERS = [
  "hardware",
  "model",
  "quantization",
  "engine",
  "backend",
  "kind",
  "hostCpu",
  "quality",
  "reproduction",
] as const;

type PreparedLeaderboard = ReturnType<ReturnType<typeof leaderboardSelect>["prepare"]>;

/**
 * The leaderboard statement of each shape, built by drizzle once with placeholders and prepared for the
 * D1 binding it was built for (by binding: a request's binding may be another object than the last's).
 */
const preparedLeaderboards = new WeakMap<object, Map<string, PreparedLeaderboard>>();

function preparedLeaderboard(db: Database, q: LeaderboardQuery): PreparedLeaderboard {
  let shape = `${q.metric}${q.after ? " after" : ""}`;
  for (const name of LEADERBOARD_FILTERS) if (q[name]) shape += ` ${name}`;
  let byShape = preparedLeaderboards.get(db.$client);
  if (!byShape) {
    byShape = new Map();
    preparedLeaderboards.set(db.$client, byShape);
  }
  let statement = byShape.get(shape);
  if (!statement) {
    // Placeholders where the values go: drizzle binds them as given, as it binds these columns' values.
    const slot = (name: string) => sql.placeholder(name) as unknown as string;
    const shaped: Record<string, unknown> = { metric: q.metric, limit: 0 };
    for (const name of LEADERBOARD_FILTERS) if (q[name]) shaped[name] = slot(name);
    if (q.after)
      shaped.after = { rankGroup: slot("afterRankGroup"), sortKey: slot("afterSortKey"), id: slot("afterId") };
    statement = leaderboardSelect(db, shaped as unknown as LeaderboardQuery, sql.placeholder("limit")).prepare();
    byShape.set(shape, statement);
  }
  return statement;
}

export async function leaderboard(
  db: Database,
  q: LeaderboardQuery,
): Promise<{ rows: RowRecord[]; next: RankCursor | null }> {
  const values: Record<string, unknown> = { limit: q.limit + 1 };
  for (const name of LEADERBOARD_FILTERS) if (q[name]) values[name] = q[name];
  if (q.after) {
    values.afterRankGroup = q.after.rankGroup;
    values.afterSortKey = q.after.sortKey;
    values.afterId = q.after.id;
  }
  const found = rowRecords((await preparedLeaderboard(db, q).values(values)) as unknown[][]);
  const rows = found.slice(0, q.limit);
  const last = rows.at(-1);
  const key = { decode_tps: "decodeSortKey", prefill_tps: "prefillSortKey", ttft_ms: "ttftSortKey" } as const;
  const next =
    found.length > q.limit && last ? { rankGroup: last.rankGroup, sortKey: last[key[q.metric]], id: last.id } : null;
  return { rows, next };
}

export interface ReceivedCursor {
  receivedAt: string;
  id: string;
}

/** Every run, newest first, hidden ones included (the export and the audit trail want them). */
export async function listRuns(
  db: Database,
  q: { after?: ReceivedCursor | undefined; limit: number },
): Promise<{ rows: RowRecord[]; next: ReceivedCursor | null }> {
  const a = q.after;
  const found = await db
    .select(rowColumns)
    .from(runs)
    .where(
      a ? or(lt(runs.receivedAt, a.receivedAt), and(eq(runs.receivedAt, a.receivedAt), lt(runs.id, a.id))) : undefined,
    )
    .orderBy(desc(runs.receivedAt), desc(runs.id))
    .limit(q.limit + 1);
  const rows = found.slice(0, q.limit);
  const last = rows.at(-1);
  return { rows, next: found.length > q.limit && last ? { receivedAt: last.receivedAt, id: last.id } : null };
}

/** The hardware catalog with each entry's run count, model count and best ranked decode; or one entry. */
export async function listHardware(db: Database, slug?: string) {
  return hardwareCatalogQuery(db, slug);
}

/** The query behind listHardware, for the read-cost benchmark: one summary row per entry. */
export function hardwareCatalogQuery(db: Database, slug?: string) {
  return db
    .select({
      slug: hardware.slug,
      name: hardware.name,
      kind: hardware.kind,
      runs: hardware.runCount,
      models: hardware.modelCount,
      bestDecodeTps: hardware.bestDecodeTps,
    })
    .from(hardware)
    .where(slug === undefined ? undefined : eq(hardware.slug, slug))
    .orderBy(asc(hardware.name));
}

/** The model catalog with each entry's run and hardware counts; or one entry. */
export async function listModels(db: Database, slug?: string) {
  return modelCatalogQuery(db, slug);
}

/** The query behind listModels, for the read-cost benchmark: one summary row per entry. */
export function modelCatalogQuery(db: Database, slug?: string) {
  return db
    .select({
      slug: models.slug,
      name: models.name,
      family: models.family,
      parameters: models.parameters,
      variant: models.variant,
      baseSlug: models.baseSlug,
      runs: models.runCount,
      hardware: models.hardwareCount,
    })
    .from(models)
    .where(slug === undefined ? undefined : eq(models.slug, slug))
    .orderBy(asc(models.name));
}

export async function getDevice(db: Database, id: string) {
  const [row] = await db.select().from(devices).where(eq(devices.id, id)).limit(1);
  return row;
}

/** What makes a run count in its cell: ranked, visible, with a decode speed. */
function countsInCell(cellIds: string[], alsoHidden?: string) {
  return and(
    inArray(runs.cell, cellIds),
    eq(runs.rankGroup, 0),
    alsoHidden ? or(isNull(runs.hiddenReason), eq(runs.id, alsoHidden)) : isNull(runs.hiddenReason),
    sql`${runs.decodeTps} is not null`,
  );
}

/**
 * The decode speeds and submitter lineages of the runs that count in some cells: `except` leaves one
 * run out (it is being retracted), `alsoHidden` counts one hidden run in (it is being shown again).
 */
export function cellRunsQuery(db: Database, cellIds: string[], options: { except?: string; alsoHidden?: string } = {}) {
  return db
    .select({ cell: runs.cell, id: runs.id, decodeTps: runs.decodeTps, lineage: devices.lineage })
    .from(runs)
    .innerJoin(devices, eq(devices.id, runs.deviceId))
    .where(and(countsInCell(cellIds, options.alsoHidden), options.except ? ne(runs.id, options.except) : undefined));
}

/** The reproduction level of a cell from its runs' decode speeds per submitter lineage. */
export function reproductionOf(entries: ReadonlyArray<{ decodeTps: number | null; lineage: string }>) {
  const byLineage = new Map<string, number[]>();
  for (const { decodeTps, lineage } of entries) {
    if (decodeTps === null) continue;
    byLineage.set(lineage, [...(byLineage.get(lineage) ?? []), decodeTps]);
  }
  const lineageSums = [...byLineage].map(([lineage, v]) => ({
    lineage,
    runs: v.length,
    decodeSum: v.reduce((a, b) => a + b, 0),
  }));
  const all = entries.flatMap((e) => (e.decodeTps === null ? [] : [e.decodeTps]));
  const decodeSum = all.reduce((a, b) => a + b, 0);
  const mean = all.length ? decodeSum / all.length : null;
  const decodeM2 = mean === null ? 0 : all.reduce((s, v) => s + (v - mean) ** 2, 0);
  const sd = all.length > 1 ? Math.sqrt(decodeM2 / (all.length - 1)) : null;
  return {
    runs: all.length,
    lineages: byLineage.size,
    decodeMean: mean,
    decodeStddev: sd,
    ...levelOf(lineageSums),
    decodeSum,
    decodeM2,
    lineageSums,
  };
}

/**
 * Reproduced when two submitters' mean decode speeds agree within the tolerance, disputed when none
 * do; with the pair that agrees (the level's witness, JSON as stored). In ascending order of the means,
 * two neighbours agree whenever any two do (for a ≤ b ≤ c, c − b ≤ c − a), so only neighbours are compared.
 */
function levelOf(sums: ReadonlyArray<{ lineage: string; runs: number; decodeSum: number }>): {
  level: ReproductionLevel;
  agreeingPair: string | null;
} {
  const byMean = sums.map((l) => ({ lineage: l.lineage, mean: l.decodeSum / l.runs })).sort((a, b) => a.mean - b.mean);
  for (let i = 1; i < byMean.length; i++) {
    const [low, high] = [byMean[i - 1], byMean[i]] as [(typeof byMean)[number], (typeof byMean)[number]];
    if (high.mean - low.mean <= REPRODUCTION_TOLERANCE * high.mean) {
      return { level: "reproduced", agreeingPair: JSON.stringify([high.lineage, low.lineage]) };
    }
  }
  return { level: sums.length < 2 ? "single" : "disputed", agreeingPair: null };
}

/** SQL: whether two means agree within the tolerance, as levelOf has it. */
export const agreeSql = (a: string, b: string) => `(abs(${a} - ${b}) <= ${REPRODUCTION_TOLERANCE} * max(${a}, ${b}))`;

/**
 * The same witness in SQL, from a cell's lineage sums (`sums`: SQL text of the JSON object
 * {"<lineage>": [runs, sum]}): the first neighbours in order of their means that agree, as
 * JSON [higher, lower], or null. Reads one entry per lineage, none per run.
 */
export function agreeingPairSql(sums: string): string {
  const mean = "json_extract(value, '$[1]') / json_extract(value, '$[0]')";
  return `(select json_array(k, pk) from (
      select key as k, m, lag(key) over w as pk, lag(m) over w as p
      from (select key, ${mean} as m from json_each(${sums})) window w as (order by m, key))
    where p is not null and ${agreeSql("m", "p")} limit 1)`;
}

/** A cell's lineage sums as stored: {"<lineage>": [runs, sum]}. */
export function lineageSumsJson(sums: CellState["lineageSums"]): string {
  return JSON.stringify(Object.fromEntries(sums.map((l) => [l.lineage, [l.runs, l.decodeSum]])));
}

/**
 * Statements that copy each cell's stored level onto its runs that differ, by range on
 * runs_cell_reproduction: they read only the runs they change, however many the cell holds.
 */
export function levelCopies(db: Database, cellIds: readonly string[]) {
  return cellIds.flatMap((cell) => {
    const level = sql`(select ${cells.level} from ${cells} where ${cells.cell} = ${cell})`;
    return [lt(runs.reproduction, level), gt(runs.reproduction, level)].map((differs) =>
      db
        .update(runs)
        .set({ reproduction: level })
        .where(and(eq(runs.cell, cell), differs)),
    );
  });
}

export type CellState = ReturnType<typeof reproductionOf>;
/** A run as its cell's reproduction and outlier checks see it. */
export type CellRun = { decodeTps: number | null; lineage: string };

/** D1 binds at most 100 parameters a statement: multi-row inserts are cut to fit. */
const MAX_PARAMETERS = 100;

/** Rows cut into groups that bind at most MAX_PARAMETERS parameters at `perRow` each. */
export function parameterChunks<T>(rows: T[], perRow: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_PARAMETERS / perRow));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** The writes that store one cell's state (then its check), as moderation and retraction change one run at a time. */
export function cellWrites(db: Database, cell: string, state: CellState, now: string) {
  return cellsWrites(db, new Map([[cell, state]]), now);
}

/**
 * The writes that store cells' states and everything derived from them, set-based so that their
 * number does not grow with the cells': the states (multi-row upserts), each cell's visible-run count
 * and best ranked decode, the level copied onto its runs (only those that differ), then the catalog
 * summaries of their hardware and models. They go last in a batch, after the change to the runs, so
 * the subqueries see it; each reads one cell's runs, or one hardware's or model's cells. The last
 * statement counts each cell's ranked runs inside the same transaction: the caller hands its result
 * to refreshStaleCells, which recomputes a cell whose state was decided from a read that another
 * request's write overtook.
 */
export function cellsWrites(db: Database, states: ReadonlyMap<string, CellState>, now: string) {
  const rows = [...states].map(([cell, { lineageSums, ...state }]) => {
    const visible = and(eq(runs.cell, cell), isNull(runs.hiddenReason));
    return {
      cell,
      ...cellParts(cell),
      ...state,
      lineageSums: lineageSumsJson(lineageSums),
      visibleRuns: sql<number>`(select count(*) from ${runs} where ${visible})`,
      bestDecodeTps: sql<
        number | null
      >`(select max(${runs.decodeTps}) from ${runs} where ${visible} and ${runs.rankGroup} = 0)`,
      // The quantization as its runs spell it (the cell's key has it lowercased): one run's, by the cell index.
      quantization: sql<string | null>`(select ${runs.quantization} from ${runs} where ${eq(runs.cell, cell)} limit 1)`,
      updatedAt: now,
    };
  });
  const fromNew = (column: string) => sql.raw(`excluded.${column}`);
  const upserts = parameterChunks(rows, 20).map((part) =>
    db
      .insert(cells)
      .values(part)
      .onConflictDoUpdate({
        target: cells.cell,
        set: {
          visibleRuns: fromNew("visible_runs"),
          bestDecodeTps: fromNew("best_decode_tps"),
          quantization: fromNew("quantization"),
          runs: fromNew("runs"),
          lineages: fromNew("lineages"),
          decodeMean: fromNew("decode_mean"),
          decodeStddev: fromNew("decode_stddev"),
          decodeSum: fromNew("decode_sum"),
          decodeM2: fromNew("decode_m2"),
          lineageSums: fromNew("lineage_sums"),
          agreeingPair: fromNew("agreeing_pair"),
          level: fromNew("level"),
          updatedAt: fromNew("updated_at"),
        },
      }),
  );
  const cellIds = [...states.keys()];
  const slugs = (key: "hardwareSlug" | "modelSlug") => [...new Set(rows.map((r) => r[key]))];
  return [
    ...upserts,
    ...levelCopies(db, cellIds),
    ...summaryWrites(db, slugs("hardwareSlug"), slugs("modelSlug")),
    rankedCountsQuery(db, [...states.keys()]),
  ];
}

/**
 * The catalog figures of some hardware and models, rewritten from their cells (each reads one
 * hardware's or model's cells, not its runs); after the cells' own writes in the same batch.
 */
export function summaryWrites(db: Database, hardwareSlugs: string[], modelSlugs: string[]) {
  const ofHardware = sql`${cells.hardwareSlug} = ${hardware.slug}`;
  const ofModel = sql`${cells.modelSlug} = ${models.slug}`;
  return [
    ...parameterChunks(hardwareSlugs, 1).map((slugs) =>
      db
        .update(hardware)
        .set({
          runCount: sql`(select coalesce(sum(${cells.visibleRuns}), 0) from ${cells} where ${ofHardware})`,
          modelCount: sql`(select count(distinct ${cells.modelSlug}) from ${cells} where ${ofHardware} and ${cells.visibleRuns} > 0)`,
          bestDecodeTps: sql`(select max(${cells.bestDecodeTps}) from ${cells} where ${ofHardware})`,
        })
        .where(inArray(hardware.slug, slugs)),
    ),
    ...parameterChunks(modelSlugs, 1).map((slugs) =>
      db
        .update(models)
        .set({
          runCount: sql`(select coalesce(sum(${cells.visibleRuns}), 0) from ${cells} where ${ofModel})`,
          hardwareCount: sql`(select count(distinct ${cells.hardwareSlug}) from ${cells} where ${ofModel} and ${cells.visibleRuns} > 0)`,
        })
        .where(inArray(models.slug, slugs)),
    ),
  ];
}

/** Each cell's ranked runs as stored: what a written state's `runs` must equal. */
function rankedCountsQuery(db: Database, cellIds: string[]) {
  return db
    .select({ cell: runs.cell, ranked: sql<number>`count(*)`.as("ranked") })
    .from(runs)
    .where(countsInCell(cellIds))
    .groupBy(runs.cell);
}

/** The cells whose written state does not match the ranked runs counted in the same transaction. */
function staleCells(states: ReadonlyMap<string, CellState>, counted: unknown): string[] {
  const rows = (Array.isArray(counted) ? counted : ((counted as { results?: unknown[] })?.results ?? [])) as Array<{
    cell: string;
    ranked: number;
  }>;
  const ranked = new Map(rows.map((r) => [r.cell, Number(r.ranked)]));
  return [...states].filter(([cell, state]) => (ranked.get(cell) ?? 0) !== state.runs).map(([cell]) => cell);
}

/**
 * Recomputes the cells whose written state missed runs written at the same time (the last writer
 * sees them all). `counted` is the result of the batch's last statement (cellsWrites puts the count
 * there), as drizzle returns it (rows) or as D1 does ({ results }).
 */
export async function refreshStaleCells(
  db: Database,
  states: ReadonlyMap<string, CellState>,
  counted: unknown,
  now: string,
) {
  const stale = staleCells(states, counted);
  if (stale.length) await refreshCells(db, stale, now);
}

/** Cells recomputed together, a read and a batch per group: each statement binds one parameter a cell and a few more. */
const CELLS_PER_REFRESH = 50;

/**
 * Recomputes cells from their runs; after runs are hidden, retracted or re-flagged. Each write counts
 * the cells' ranked runs in its own transaction; a cell another request changed between this read
 * and this write is read and written again (a few times at most: each retry sees the other's runs).
 */
export async function refreshCells(db: Database, cellIds: readonly string[], now: string, attempts = 3) {
  for (let start = 0; start < cellIds.length; start += CELLS_PER_REFRESH) {
    let pending = cellIds.slice(start, start + CELLS_PER_REFRESH);
    for (let attempt = 1; attempt <= attempts && pending.length > 0; attempt++) {
      const entries = new Map<string, CellRun[]>(pending.map((cell) => [cell, []]));
      for (const run of await cellRunsQuery(db, pending)) entries.get(run.cell)?.push(run);
      const states = new Map([...entries].map(([cell, runsOfCell]) => [cell, reproductionOf(runsOfCell)]));
      const [first, ...rest] = cellsWrites(db, states, now);
      if (!first) return;
      pending = staleCells(states, (await db.batch([first, ...rest])).at(-1));
    }
  }
}

/** Active moderator annotations for an engine version (compared by zero-padded version key). */
export function annotationsQuery(db: Database, engine: RunRecord["engine"], versionKey: string | null) {
  return db
    .select()
    .from(annotations)
    .where(
      and(
        eq(annotations.engine, engine),
        isNull(annotations.removedAt),
        // No version, no range can contain it.
        sql`${versionKey ?? ""} between ${annotations.fromKey} and ${annotations.toKey}`,
        versionKey ? undefined : sql`0`,
      ),
    );
}

export { cells, runs };
