// Moderation writes and the reads that show their effects (audit log, catalog entries with their
// aliases). Each action writes its change and its audit row in one D1 batch, which D1 runs as one
// transaction: an action is either done and logged, or neither. Bulk changes to runs are single
// set-based UPDATE statements (SQLite's JSON functions edit the flags column in place), so they bind
// a handful of parameters however many runs they touch (D1 allows 100 per statement).
import { and, asc, desc, eq, isNull, lt, sql } from "drizzle-orm";
import type { HardwareEntry, ModelEntry } from "../../schema/api.ts";
import { aliases, annotations, auditLog, hardware, models, runs } from "../../schema/db.ts";
import { KNOWN_HARDWARE } from "../../schema/hardware-catalog.ts";
import type {
  Alias,
  AliasKind,
  AliasRequest,
  Annotation,
  AnnotationRequest,
  AuditEntry,
} from "../../schema/moderation.ts";
import { versionKey } from "../../schema/version-key.ts";
import { apiError } from "../errors.ts";
import { type AuditValues, auditInsert } from "./audit.ts";
import type { Database } from "./database.ts";
import {
  cellRunsQuery,
  cellWrites,
  listHardware,
  listModels,
  type RowRecord,
  refreshCells,
  refreshStaleCells,
  reproductionOf,
  rowColumns,
} from "./runs.ts";

/** Moderation through the ADMIN_TOKEN has one actor; key actions name the device that signed them. */
export const ADMIN_ACTOR = "admin";

type AuditRecord = typeof auditLog.$inferSelect;

export function toAuditEntry(record: AuditRecord): AuditEntry {
  let details: Record<string, unknown> | null = null;
  if (record.details !== null) {
    try {
      const parsed: unknown = JSON.parse(record.details);
      // Details are written as JSON objects; anything else is shown under one key rather than dropped.
      details =
        typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>)
          : { value: parsed };
    } catch {
      details = { text: record.details };
    }
  }
  return { ...record, details };
}

/** An audit row by the moderator, returned so the answer can show it. */
export function adminAudit(db: Database, entry: Omit<AuditValues, "at" | "actor">, at: string) {
  return auditInsert(db, { ...entry, at, actor: ADMIN_ACTOR }).returning();
}

export function firstAudit(rows: AuditRecord[]): AuditEntry {
  const [row] = rows;
  // The insert is in the same batch as the change; a batch that returned cannot have skipped it.
  if (!row) throw new Error("the audit insert returned no row");
  return toAuditEntry(row);
}

export const runTarget = (id: string) => `run:${id}`;
export const annotationTarget = (id: number) => `annotation:${id}`;
export const aliasTarget = (kind: AliasKind, alias: string) => `alias:${kind}:${alias}`;

async function readRun(db: Database, id: string): Promise<RowRecord & { cell: string }> {
  const [row] = await db
    .select({ ...rowColumns, cell: runs.cell })
    .from(runs)
    .where(eq(runs.id, id))
    .limit(1);
  if (!row) throw apiError("not_found", `no run with id ${JSON.stringify(id.slice(0, 64))}`);
  return row;
}

/**
 * The reproduction state of a cell once `runId` is hidden (include false) or visible again (include
 * true), read before the write so the cell's new state goes into the same batch.
 */
async function cellStateWith(db: Database, cell: string, runId: string, include: boolean) {
  const entries = await cellRunsQuery(db, [cell], { alsoHidden: runId });
  return reproductionOf(entries.filter((e) => include || e.id !== runId));
}

/** Hides a run from leaderboards (it stays readable, with status "hidden"), or shows it again. */
export async function setRunHidden(
  db: Database,
  id: string,
  hide: boolean,
  reason: string,
  now: Date,
): Promise<{ run: RowRecord; audit: AuditEntry }> {
  const at = now.toISOString();
  const run = await readRun(db, id);
  if (hide && run.hiddenReason !== null) {
    throw apiError("conflict", `run ${id} is already hidden: ${run.hiddenReason}`);
  }
  if (!hide && run.hiddenReason === null) throw apiError("conflict", `run ${id} is not hidden`);
  const state = await cellStateWith(db, run.cell, id, !hide);
  const written = await db.batch([
    db
      .update(runs)
      .set({ hiddenReason: hide ? reason : null })
      .where(eq(runs.id, id)),
    adminAudit(
      db,
      {
        action: hide ? "run.hide" : "run.unhide",
        target: runTarget(id),
        reason,
        ...(hide ? {} : { details: { wasHiddenBecause: run.hiddenReason } }),
      },
      at,
    ),
    ...cellWrites(db, run.cell, state, at),
  ]);
  await refreshStaleCells(db, new Map([[run.cell, state]]), written.at(-1), at);
  const { cell: _cell, ...after } = await readRun(db, id);
  return { run: after, audit: firstAudit(written[1]) };
}

type AnnotationRecord = typeof annotations.$inferSelect;

function toAnnotation(record: AnnotationRecord): Annotation {
  const { fromKey: _f, toKey: _t, ...rest } = record;
  return rest;
}

/** Runs of the annotation's engine whose version lies in its range (inclusive, by version key). */
function inRange(a: Pick<AnnotationRecord, "engine" | "fromKey" | "toKey">) {
  return and(eq(runs.engine, a.engine), sql`${runs.versionKey} between ${a.fromKey} and ${a.toKey}`);
}

/** Ranked-apart annotations move runs in or out of their cells' ranked set: recompute those cells. */
async function refreshCellsInRange(
  db: Database,
  a: Pick<AnnotationRecord, "engine" | "fromKey" | "toKey">,
  at: string,
) {
  const found = await db.selectDistinct({ cell: runs.cell }).from(runs).where(inRange(a));
  await refreshCells(
    db,
    found.map((f) => f.cell),
    at,
  );
}

/**
 * Stores an annotation and flags every existing run in its range; runs submitted later get the flag
 * at ingest (annotationsQuery).
 */
export async function addAnnotation(
  db: Database,
  input: AnnotationRequest,
  now: Date,
): Promise<{ annotation: Annotation; runsAffected: number; audit: AuditEntry }> {
  const at = now.toISOString();
  const fromKey = versionKey(input.fromVersion);
  const toKey = versionKey(input.toVersion);
  // The request schema already refused versions without a number; this keeps the types honest.
  if (fromKey === null || toKey === null) throw apiError("invalid_request", "the versions must contain a number");
  const rankApart = input.effect === "rank_apart";
  // The new row's id is only known inside the transaction. AUTOINCREMENT ids only grow and the batch
  // is one transaction, so right after the insert the largest id is the new annotation's.
  const newId = sql`(select max(${annotations.id}) from ${annotations})`;
  const code = sql`'annotation:' || ${newId}`;
  const range = { engine: input.engine, fromKey, toKey };
  const [inserted, audit, updated] = await db.batch([
    db
      .insert(annotations)
      .values({ ...input, fromKey, toKey, createdAt: at })
      .returning(),
    adminAudit(
      db,
      {
        action: "annotation.add",
        target: code,
        reason: input.note,
        details: {
          engine: input.engine,
          fromVersion: input.fromVersion,
          toVersion: input.toVersion,
          effect: input.effect,
        },
      },
      at,
    ),
    db
      .update(runs)
      .set({
        // Appends {code, reason, rankApart} to the JSON array in place ('$[#]' is one past the end).
        flags: sql`json_insert(${runs.flags}, '$[#]', json_object('code', ${code}, 'reason', ${input.note}, 'rankApart', json(${rankApart ? "true" : "false"})))`,
        ...(rankApart ? { rankGroup: 1 } : {}),
      })
      .where(inRange(range)),
  ]);
  const [row] = inserted;
  if (!row) throw new Error("the annotation insert returned no row");
  if (rankApart) await refreshCellsInRange(db, range, at);
  return { annotation: toAnnotation(row), runsAffected: updated.meta.changes, audit: firstAudit(audit) };
}

/**
 * Withdraws an annotation: it stops applying at ingest, and its flag leaves every run. A run stays
 * ranked apart only for reasons that remain: failed quality gates, another ranked-apart flag, or a
 * retraction.
 */
export async function removeAnnotation(
  db: Database,
  id: number,
  reason: string,
  now: Date,
): Promise<{ annotation: Annotation; runsAffected: number; audit: AuditEntry }> {
  const at = now.toISOString();
  const [found] = await db.select().from(annotations).where(eq(annotations.id, id)).limit(1);
  if (!found) throw apiError("not_found", `no annotation with id ${id}`);
  if (found.removedAt !== null)
    throw apiError("conflict", `annotation ${id} was already removed on ${found.removedAt}`);
  const code = annotationTarget(id);
  const hasFlag = sql`exists (select 1 from json_each(${runs.flags}) where json_extract(value, '$.code') = ${code})`;
  // SET expressions read the row as it was, so both see the flags before this update.
  const otherRankApart = sql`exists (select 1 from json_each(${runs.flags}) where json_extract(value, '$.code') <> ${code} and json_extract(value, '$.rankApart') = 1)`;
  const [removed, audit, updated] = await db.batch([
    db
      .update(annotations)
      .set({ removedAt: at })
      .where(and(eq(annotations.id, id), isNull(annotations.removedAt)))
      .returning(),
    adminAudit(
      db,
      { action: "annotation.remove", target: code, reason, details: { note: found.note, effect: found.effect } },
      at,
    ),
    db
      .update(runs)
      .set({
        flags: sql`(select coalesce(json_group_array(json(value)), '[]') from json_each(${runs.flags}) where json_extract(value, '$.code') <> ${code})`,
        rankGroup: sql`case when ${runs.qualityStatus} = 'fail' or ${runs.retractedAt} is not null or ${otherRankApart} then 1 else 0 end`,
      })
      .where(and(eq(runs.engine, found.engine), hasFlag)),
  ]);
  const [row] = removed;
  if (!row) throw new Error("the annotation update returned no row");
  if (found.effect === "rank_apart") await refreshCellsInRange(db, found, at);
  return { annotation: toAnnotation(row), runsAffected: updated.meta.changes, audit: firstAudit(audit) };
}

function catalogTable(kind: AliasKind) {
  return kind === "hardware" ? hardware : models;
}

/** The built-in hardware aliases of the catalog (schema/hardware-catalog.ts) that point at `slug`. */
export function builtinAliasesOf(kind: AliasKind, slug: string): string[] {
  if (kind !== "hardware") return [];
  return KNOWN_HARDWARE.find((k) => k.slug === slug)?.aliases ?? [];
}

function builtinTargetOf(kind: AliasKind, alias: string): string | undefined {
  if (kind !== "hardware") return undefined;
  return KNOWN_HARDWARE.find((k) => k.aliases.includes(alias))?.slug;
}

/**
 * Adds another spelling of a hardware or model slug. Refused when the slug is unknown (404), when
 * the alias is itself a catalog slug or a built-in alias (an alias would hide that page), or when
 * the alias already means another slug (409). The same alias again writes nothing.
 */
export async function addAlias(
  db: Database,
  input: AliasRequest,
  now: Date,
): Promise<{ alias: Alias; created: boolean; audit: AuditEntry | null }> {
  const at = now.toISOString();
  const table = catalogTable(input.kind);
  const [[target], [shadowed], [existing]] = await db.batch([
    db.select({ slug: table.slug }).from(table).where(eq(table.slug, input.slug)).limit(1),
    db.select({ slug: table.slug }).from(table).where(eq(table.slug, input.alias)).limit(1),
    db
      .select()
      .from(aliases)
      .where(and(eq(aliases.kind, input.kind), eq(aliases.alias, input.alias)))
      .limit(1),
  ]);
  if (!target) throw apiError("not_found", `no ${input.kind} with slug ${JSON.stringify(input.slug)}`);
  if (shadowed) {
    throw apiError(
      "conflict",
      `${JSON.stringify(input.alias)} is itself a ${input.kind} slug; an alias would hide its page`,
    );
  }
  const builtin = builtinTargetOf(input.kind, input.alias);
  if (builtin !== undefined) {
    throw apiError("conflict", `${JSON.stringify(input.alias)} is a built-in alias of ${builtin}`);
  }
  if (existing) {
    if (existing.slug !== input.slug) {
      throw apiError("conflict", `${JSON.stringify(input.alias)} is already an alias of ${existing.slug}`);
    }
    return { alias: existing, created: false, audit: null };
  }
  const [inserted, audit] = await db.batch([
    db
      .insert(aliases)
      .values({ ...input, createdAt: at })
      .returning(),
    adminAudit(
      db,
      {
        action: "alias.add",
        target: aliasTarget(input.kind, input.alias),
        reason: null,
        details: { slug: input.slug },
      },
      at,
    ),
  ]);
  const [row] = inserted;
  if (!row) throw new Error("the alias insert returned no row");
  return { alias: row, created: true, audit: firstAudit(audit) };
}

export interface AuditCursor {
  id: number;
}

/** The audit log newest first (ids only grow), optionally for one target. */
export async function listAudit(
  db: Database,
  q: { target?: string | undefined; after?: AuditCursor | undefined; limit: number },
): Promise<{ rows: AuditEntry[]; next: AuditCursor | null }> {
  const found = await db
    .select()
    .from(auditLog)
    .where(and(q.target ? eq(auditLog.target, q.target) : undefined, q.after ? lt(auditLog.id, q.after.id) : undefined))
    .orderBy(desc(auditLog.id))
    .limit(q.limit + 1);
  const rows = found.slice(0, q.limit);
  const last = rows.at(-1);
  return { rows: rows.map(toAuditEntry), next: found.length > q.limit && last ? { id: last.id } : null };
}

/** Every alias of a canonical slug: the catalog's built-in ones, then those moderators added. */
export async function aliasesOf(db: Database, kind: AliasKind, slug: string): Promise<string[]> {
  const stored = await db
    .select({ alias: aliases.alias })
    .from(aliases)
    .where(and(eq(aliases.kind, kind), eq(aliases.slug, slug)))
    .orderBy(asc(aliases.alias));
  return [...builtinAliasesOf(kind, slug), ...stored.map((a) => a.alias)];
}

export async function hardwareEntry(db: Database, slug: string): Promise<HardwareEntry | undefined> {
  return (await listHardware(db, slug))[0];
}

export async function modelEntry(db: Database, slug: string): Promise<ModelEntry | undefined> {
  return (await listModels(db, slug))[0];
}
