// The re-key of stored runs: when the rules that file a run under its hardware and model change
// (IDENTITY_VERSION in schema/summary.ts), every run summarized by older rules is summarized again
// from its stored envelope. Its row moves to its new hardware and model (and cell), its headline
// figures and physics flags are recomputed, and every slug left without runs becomes an alias of
// the slug its runs went to, so old URLs keep answering. Nothing is deleted but empty catalog rows
// and cells; each pass is one read and one batch of at most REKEY_BATCH runs, and is audit-logged.
import { and, eq, inArray, lt, notExists, or, sql } from "drizzle-orm";
import type { RunFlag } from "../../schema/api.ts";
import { Bundle } from "../../schema/bundle.ts";
import { aliases, auditLog, cells, hardware, models, runs } from "../../schema/db.ts";
import type { MergeRequest, MergeResponse, UnmergeRequest } from "../../schema/moderation.ts";
import { Envelope } from "../../schema/signing.ts";
import { cellOf, IDENTITY_VERSION, type RunSummary, summarize } from "../../schema/summary.ts";
import { apiError } from "../errors.ts";
import { EMPTY_CELL, plausibilityFlags } from "../plausibility.ts";
import type { Database } from "./database.ts";
import { adminAudit, firstAudit } from "./moderation.ts";
import { modelCatalogRow, parseFlags, refreshCells, sortKeys } from "./runs.ts";

/** Runs re-keyed per pass: one read and one write batch each. */
export const REKEY_BATCH = 50;

/** Flags the server derives from the bundle alone, recomputed by the re-key (the others are kept). */
const DERIVED_FLAGS = new Set(["implausible_speed", "inconsistent_timing"]);

export interface RekeyPass {
  /** Runs brought to the current rules in this pass. */
  rekeyed: number;
  /** Of those, runs whose hardware or model changed. */
  moved: number;
  /** Runs whose stored envelope no longer parses: left as they were, marked current so they are not retried. */
  unreadable: string[];
  /** Slugs left without runs, now aliases of where their runs went. */
  aliased: Array<{ kind: "hardware" | "model"; alias: string; slug: string }>;
  /** Whether the pass was full: more runs may be waiting. */
  more: boolean;
}

export type SlugKind = "hardware" | "model";

/** The aliases among some computed slugs: slugs moderators merged into others (or old slugs of emptied entries). */
export function mergeTargetsQuery(db: Database, wanted: { hardware: string[]; model: string[] }) {
  const conditions = (["hardware", "model"] as const)
    .filter((kind) => wanted[kind].length)
    .map((kind) => and(eq(aliases.kind, kind), inArray(aliases.alias, [...new Set(wanted[kind])])));
  return db
    .select({ kind: aliases.kind, alias: aliases.alias, slug: aliases.slug })
    .from(aliases)
    .where(conditions.length ? or(...conditions) : sql`0`);
}

/** A summary filed under the slugs that aliases send its own slugs to (a merge). */
export function applyMerges(summary: RunSummary, targets: ReadonlyMap<string, string>): RunSummary {
  return {
    ...summary,
    hardwareSlug: targets.get(`hardware:${summary.hardwareSlug}`) ?? summary.hardwareSlug,
    modelSlug: targets.get(`model:${summary.modelSlug}`) ?? summary.modelSlug,
  };
}

function flagsAfter(old: RunFlag[], recomputed: RunFlag[]): RunFlag[] {
  return [...old.filter((f) => !DERIVED_FLAGS.has(f.code)), ...recomputed.filter((f) => DERIVED_FLAGS.has(f.code))];
}

/** One pass: up to `limit` runs summarized by older rules (or the given runs, whatever their version). */
export async function rekeyPass(
  db: Database,
  now: Date,
  options: { limit?: number; ids?: string[] } = {},
): Promise<RekeyPass> {
  const at = now.toISOString();
  const limit = options.limit ?? REKEY_BATCH;
  const rows = await db
    .select({
      id: runs.id,
      envelope: runs.envelope,
      hardwareSlug: runs.hardwareSlug,
      modelSlug: runs.modelSlug,
      cell: runs.cell,
      flags: runs.flags,
      retractedAt: runs.retractedAt,
    })
    .from(runs)
    .where(options.ids ? inArray(runs.id, options.ids) : stale(db))
    .orderBy(runs.id)
    .limit(limit);
  const unreadable: string[] = [];
  const parsed = rows.flatMap((row) => {
    try {
      const envelope = Envelope.parse(JSON.parse(row.envelope));
      const bundle = Bundle.parse(envelope.payload);
      return [{ row, bundle, summary: summarize(bundle) }];
    } catch {
      unreadable.push(row.id);
      return [];
    }
  });
  const mergeRows = await mergeTargetsQuery(db, {
    hardware: parsed.map((p) => p.summary.hardwareSlug),
    model: parsed.map((p) => p.summary.modelSlug),
  });
  const targets = new Map(mergeRows.map((r) => [`${r.kind}:${r.alias}`, r.slug]));
  const updates = parsed.map(({ row, bundle, summary: own }) => {
    const summary = applyMerges(own, targets);
    const flags = flagsAfter(parseFlags(row.flags), plausibilityFlags(bundle, summary, EMPTY_CELL));
    const rankGroup =
      summary.qualityStatus === "fail" || row.retractedAt !== null || flags.some((f) => f.rankApart) ? 1 : 0;
    return { row, bundle, summary, flags, rankGroup, cell: cellOf(summary) };
  });

  const statements = [];
  for (const u of updates) {
    const s = u.summary;
    statements.push(
      db
        .insert(hardware)
        .values({ slug: s.hardwareSlug, name: s.hardwareName, kind: s.hardwareKind, firstSeenAt: at })
        .onConflictDoNothing(),
      db
        .insert(models)
        .values(modelCatalogRow(u.bundle, s, at))
        .onConflictDoNothing(),
      db
        .update(runs)
        .set({
          ...s,
          flags: JSON.stringify(u.flags),
          rankGroup: u.rankGroup,
          ...sortKeys(s),
          cell: u.cell,
          identityVersion: IDENTITY_VERSION,
        })
        .where(eq(runs.id, u.row.id)),
    );
  }
  if (unreadable.length) {
    statements.push(db.update(runs).set({ identityVersion: IDENTITY_VERSION }).where(inArray(runs.id, unreadable)));
  }
  const moved = updates.filter(
    (u) => u.row.hardwareSlug !== u.summary.hardwareSlug || u.row.modelSlug !== u.summary.modelSlug,
  );
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);

  // Cells the runs left and joined, recomputed from their runs (with the catalog summaries they feed).
  const touched = [...new Set(updates.flatMap((u) => [u.row.cell, u.cell]))];
  await refreshCells(db, touched, at);
  const aliased = await aliasEmptied(db, moved, at);
  if (updates.length || unreadable.length) {
    await db.insert(auditLog).values({
      at,
      actor: "system",
      action: "runs.rekey",
      target: "runs",
      reason: `identity rules version ${IDENTITY_VERSION}`,
      details: JSON.stringify({
        rekeyed: updates.length,
        moved: moved.map((u) => ({
          id: u.row.id,
          hardware: [u.row.hardwareSlug, u.summary.hardwareSlug],
          model: [u.row.modelSlug, u.summary.modelSlug],
        })),
        unreadable,
        aliased,
      }),
    });
  }
  return { rekeyed: updates.length, moved: moved.length, unreadable, aliased, more: rows.length === limit };
}

/**
 * Runs not filed as the current rules and merges would file them: summarized by older rules, or filed
 * under a slug that is now an alias (a merge whose re-key was cut short is finished by the next re-key).
 */
function stale(db: Database) {
  const aliasesOf = (kind: SlugKind) => db.select({ alias: aliases.alias }).from(aliases).where(eq(aliases.kind, kind));
  return or(
    lt(runs.identityVersion, IDENTITY_VERSION),
    inArray(runs.hardwareSlug, aliasesOf("hardware")),
    inArray(runs.modelSlug, aliasesOf("model")),
  );
}

type Moved = { row: { hardwareSlug: string; modelSlug: string }; summary: RunSummary };

/**
 * Every old slug that no run is filed under any more becomes an alias of the slug most of its runs
 * went to (an old URL answers with their new page); its empty catalog row and cells go.
 */
async function aliasEmptied(db: Database, moved: Moved[], at: string) {
  const destinations = new Map<string, Map<string, number>>();
  const note = (kind: SlugKind, from: string, to: string) => {
    if (from === to) return;
    const key = `${kind}:${from}`;
    const counts = destinations.get(key) ?? new Map<string, number>();
    counts.set(to, (counts.get(to) ?? 0) + 1);
    destinations.set(key, counts);
  };
  for (const m of moved) {
    note("hardware", m.row.hardwareSlug, m.summary.hardwareSlug);
    note("model", m.row.modelSlug, m.summary.modelSlug);
  }
  if (!destinations.size) return [];
  const olds = (kind: SlugKind) =>
    [...destinations.keys()].filter((k) => k.startsWith(`${kind}:`)).map((k) => k.slice(kind.length + 1));
  const [stillHardware, stillModels] = await db.batch([
    db
      .selectDistinct({ slug: runs.hardwareSlug })
      .from(runs)
      .where(inArray(runs.hardwareSlug, olds("hardware").length ? olds("hardware") : [""])),
    db
      .selectDistinct({ slug: runs.modelSlug })
      .from(runs)
      .where(inArray(runs.modelSlug, olds("model").length ? olds("model") : [""])),
  ]);
  const inUse = new Set([
    ...stillHardware.map((r) => `hardware:${r.slug}`),
    ...stillModels.map((r) => `model:${r.slug}`),
  ]);
  const aliased: Array<{ kind: SlugKind; alias: string; slug: string }> = [];
  for (const [key, counts] of destinations) {
    if (inUse.has(key)) continue;
    const kind = key.startsWith("hardware:") ? "hardware" : "model";
    const alias = key.slice(kind.length + 1);
    const [slug] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
    if (slug) aliased.push({ kind, alias, slug });
  }
  if (!aliased.length) return aliased;
  const emptyCells = (kind: SlugKind, slugs: string[]) =>
    db
      .delete(cells)
      .where(
        and(
          inArray(kind === "hardware" ? cells.hardwareSlug : cells.modelSlug, slugs),
          notExists(db.select({ one: sql`1` }).from(runs).where(eq(runs.cell, cells.cell))),
        ),
      );
  const statements = [];
  for (const kind of ["hardware", "model"] as const) {
    const slugs = aliased.filter((a) => a.kind === kind).map((a) => a.alias);
    if (!slugs.length) continue;
    const table = kind === "hardware" ? hardware : models;
    statements.push(emptyCells(kind, slugs), db.delete(table).where(inArray(table.slug, slugs)));
  }
  for (const a of aliased) {
    // An alias that pointed at a slug now emptied follows it too.
    statements.push(
      db
        .update(aliases)
        .set({ slug: a.slug })
        .where(and(eq(aliases.kind, a.kind), eq(aliases.slug, a.alias))),
      db
        .insert(aliases)
        .values({ ...a, createdAt: at })
        .onConflictDoNothing(),
    );
  }
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
  return aliased;
}

/** Passes until no run is summarized by older rules, or `maxPasses` (a request's time is bounded). */
export async function rekeyAll(db: Database, now: Date, maxPasses = 20) {
  const total = { rekeyed: 0, moved: 0, unreadable: [] as string[], aliased: [] as RekeyPass["aliased"], remaining: 0 };
  for (let pass = 0; pass < maxPasses; pass++) {
    const result = await rekeyPass(db, now);
    total.rekeyed += result.rekeyed;
    total.moved += result.moved;
    total.unreadable.push(...result.unreadable);
    total.aliased.push(...result.aliased);
    // A pass that was not full found every stale run: no count (a scan of every run) is needed.
    if (!result.more) return total;
  }
  const [{ remaining } = { remaining: 0 }] = await db
    .select({ remaining: sql<number>`count(*)` })
    .from(runs)
    .where(stale(db));
  total.remaining = Number(remaining);
  return total;
}

async function catalogHas(db: Database, kind: SlugKind, slug: string): Promise<boolean> {
  const table = kind === "hardware" ? hardware : models;
  const [row] = await db.select({ slug: table.slug }).from(table).where(eq(table.slug, slug)).limit(1);
  return row !== undefined;
}

/** Re-keys every run filed under a slug, a pass at a time; returns how many moved. */
async function rekeySlug(db: Database, kind: SlugKind, slug: string, now: Date): Promise<number> {
  const column = kind === "hardware" ? runs.hardwareSlug : runs.modelSlug;
  const ids = (await db.select({ id: runs.id }).from(runs).where(eq(column, slug))).map((r) => r.id);
  let moved = 0;
  for (let start = 0; start < ids.length; start += REKEY_BATCH) {
    moved += (await rekeyPass(db, now, { ids: ids.slice(start, start + REKEY_BATCH), limit: REKEY_BATCH })).moved;
  }
  return moved;
}

/**
 * Merges one hardware or model entry into another: `from` becomes an alias of `into` (so its URLs
 * and later runs go there) and its stored runs move. Audit-logged; undone by unmergeEntries.
 */
export async function mergeEntries(db: Database, input: MergeRequest, now: Date): Promise<MergeResponse> {
  const at = now.toISOString();
  const [existing] = await db
    .select()
    .from(aliases)
    .where(and(eq(aliases.kind, input.kind), eq(aliases.alias, input.from)))
    .limit(1);
  if (existing) {
    // A merge whose re-key was cut short left its alias: POST /v1/admin/rekey moves the runs still under it.
    throw apiError(
      "conflict",
      `${JSON.stringify(input.from)} is already an alias of ${existing.slug}; if runs remain under it, POST /v1/admin/rekey moves them`,
    );
  }
  if (!(await catalogHas(db, input.kind, input.into))) {
    throw apiError("not_found", `no ${input.kind} with slug ${JSON.stringify(input.into)}`);
  }
  if (!(await catalogHas(db, input.kind, input.from))) {
    throw apiError("not_found", `no ${input.kind} with slug ${JSON.stringify(input.from)}`);
  }
  const [, , audit] = await db.batch([
    db.insert(aliases).values({ kind: input.kind, alias: input.from, slug: input.into, createdAt: at }),
    // Spellings of the merged entry follow it.
    db
      .update(aliases)
      .set({ slug: input.into })
      .where(and(eq(aliases.kind, input.kind), eq(aliases.slug, input.from))),
    adminAudit(
      db,
      {
        action: `${input.kind}.merge`,
        target: `${input.kind}:${input.from}`,
        reason: input.reason,
        details: { into: input.into },
      },
      at,
    ),
  ]);
  const runsMoved = await rekeySlug(db, input.kind, input.from, now);
  return { kind: input.kind, from: input.from, into: input.into, runsMoved, audit: firstAudit(audit) };
}

/** Undoes a merge: the alias goes, and the runs the identity rules file under `from` move back. */
export async function unmergeEntries(db: Database, input: UnmergeRequest, now: Date): Promise<MergeResponse> {
  const at = now.toISOString();
  const [existing] = await db
    .select()
    .from(aliases)
    .where(and(eq(aliases.kind, input.kind), eq(aliases.alias, input.from)))
    .limit(1);
  if (!existing) throw apiError("not_found", `${JSON.stringify(input.from)} is not merged into any ${input.kind}`);
  const [, audit] = await db.batch([
    db.delete(aliases).where(and(eq(aliases.kind, input.kind), eq(aliases.alias, input.from))),
    adminAudit(
      db,
      {
        action: `${input.kind}.unmerge`,
        target: `${input.kind}:${input.from}`,
        reason: input.reason,
        details: { from: existing.slug },
      },
      at,
    ),
  ]);
  const runsMoved = await rekeySlug(db, input.kind, existing.slug, now);
  return { kind: input.kind, from: input.from, into: existing.slug, runsMoved, audit: firstAudit(audit) };
}
