// Queries over runs. Routes call these; no SQL lives in a route handler.
import { and, asc, count, countDistinct, desc, eq, gt, lt, or, type SQL, sql } from "drizzle-orm";
import type { RunRow } from "../../schema/api.ts";
import type { Model } from "../../schema/bundle.ts";
import { devices, hardware, models, type RunRecord, runs } from "../../schema/db.ts";
import type { RunSummary } from "../../schema/summary.ts";
import type { Database } from "../env.ts";

export interface NewRun {
  id: string;
  deviceId: string;
  publicKey: string;
  summary: RunSummary;
  model: Model;
  envelopeJson: string;
  receivedAt: string;
}

export interface InsertResult {
  /** False when the run was already stored (same bytes, same id). */
  created: boolean;
  /** What D1 reports it wrote for the whole batch, index entries included. */
  rowsWritten: number;
}

/**
 * Stores a verified run in one D1 batch (one transaction): device, hardware and model rows if new,
 * then the run.
 */
export async function insertRun(db: Database, run: NewRun): Promise<InsertResult> {
  const { summary: s, receivedAt } = run;
  const rankGroup = s.qualityStatus === "fail" ? 1 : 0;
  const results = await db.batch([
    db
      .insert(devices)
      .values({ id: run.deviceId, publicKey: run.publicKey, firstSeenAt: receivedAt })
      .onConflictDoNothing(),
    db
      .insert(hardware)
      .values({ slug: s.hardwareSlug, name: s.hardwareName, firstSeenAt: receivedAt })
      .onConflictDoNothing(),
    db
      .insert(models)
      .values({
        slug: s.modelSlug,
        name: s.modelName,
        family: run.model.family ?? null,
        parameters: s.parameters,
        firstSeenAt: receivedAt,
      })
      .onConflictDoNothing(),
    db
      .insert(runs)
      .values({
        ...s,
        id: run.id,
        deviceId: run.deviceId,
        rankGroup,
        decodeSortKey: s.decodeTps ?? -1,
        receivedAt,
        envelope: run.envelopeJson,
      })
      .onConflictDoNothing(),
  ]);
  return {
    created: results[3].meta.changes > 0,
    rowsWritten: results.reduce((sum, r) => sum + (r.meta.rows_written ?? 0), 0),
  };
}

// Every column but the envelope: list queries never read the big text column.
const rowColumns = {
  id: runs.id,
  deviceId: runs.deviceId,
  hardwareSlug: runs.hardwareSlug,
  hardwareName: runs.hardwareName,
  modelSlug: runs.modelSlug,
  modelName: runs.modelName,
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
  qualityStatus: runs.qualityStatus,
  qualityReason: runs.qualityReason,
  qualityScore: runs.qualityScore,
  rankGroup: runs.rankGroup,
  decodeSortKey: runs.decodeSortKey,
  method: runs.method,
  importFormat: runs.importFormat,
  createdAt: runs.createdAt,
  measuredAt: runs.measuredAt,
  receivedAt: runs.receivedAt,
};
type RowRecord = Omit<RunRecord, "envelope">;

export function toRunRow(record: RowRecord, baseUrl: string): RunRow {
  const { rankGroup, decodeSortKey: _sortKey, ...rest } = record;
  return { ...rest, url: `${baseUrl}/runs/${record.id}/`, rankedApart: rankGroup === 1 };
}

export async function getRun(db: Database, id: string): Promise<RunRecord | undefined> {
  const [row] = await db.select().from(runs).where(eq(runs.id, id)).limit(1);
  return row;
}

/** Leaderboard position: ranked runs before runs ranked apart, fastest decode first, id breaks ties. */
export interface RankCursor {
  rankGroup: number;
  decodeSortKey: number;
  id: string;
}

export interface LeaderboardQuery {
  hardware?: string | undefined;
  model?: string | undefined;
  after?: RankCursor | undefined;
  limit: number;
}

export async function leaderboard(
  db: Database,
  q: LeaderboardQuery,
): Promise<{ rows: RowRecord[]; next: RankCursor | null }> {
  const conditions: (SQL | undefined)[] = [
    q.hardware ? eq(runs.hardwareSlug, q.hardware) : undefined,
    q.model ? eq(runs.modelSlug, q.model) : undefined,
  ];
  if (q.after) {
    const a = q.after;
    conditions.push(
      or(
        gt(runs.rankGroup, a.rankGroup),
        and(eq(runs.rankGroup, a.rankGroup), lt(runs.decodeSortKey, a.decodeSortKey)),
        and(eq(runs.rankGroup, a.rankGroup), eq(runs.decodeSortKey, a.decodeSortKey), gt(runs.id, a.id)),
      ),
    );
  }
  const found = await db
    .select(rowColumns)
    .from(runs)
    .where(and(...conditions))
    .orderBy(asc(runs.rankGroup), desc(runs.decodeSortKey), asc(runs.id))
    .limit(q.limit + 1);
  const rows = found.slice(0, q.limit);
  const last = rows.at(-1);
  const next =
    found.length > q.limit && last
      ? { rankGroup: last.rankGroup, decodeSortKey: last.decodeSortKey, id: last.id }
      : null;
  return { rows, next };
}

export interface ReceivedCursor {
  receivedAt: string;
  id: string;
}

/** Every run, newest first. */
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

export async function listHardware(db: Database) {
  return db
    .select({
      slug: hardware.slug,
      name: hardware.name,
      runs: count(runs.id),
      models: countDistinct(runs.modelSlug),
      bestDecodeTps: sql<number | null>`max(case when ${runs.rankGroup} = 0 then ${runs.decodeTps} end)`,
    })
    .from(hardware)
    .leftJoin(runs, eq(runs.hardwareSlug, hardware.slug))
    .groupBy(hardware.slug)
    .orderBy(asc(hardware.name));
}

export async function listModels(db: Database) {
  return db
    .select({
      slug: models.slug,
      name: models.name,
      family: models.family,
      parameters: models.parameters,
      runs: count(runs.id),
      hardware: countDistinct(runs.hardwareSlug),
    })
    .from(models)
    .leftJoin(runs, eq(runs.modelSlug, models.slug))
    .groupBy(models.slug)
    .orderBy(asc(models.name));
}
