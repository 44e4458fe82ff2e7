// Taking in verified runs, one or a batch: the keys' standing, the replay rules, the server's own
// plausibility checks, and one D1 batch that writes every accepted run with everything derived from
// it. Whatever the number of runs, the decision reads D1 once and the write is one batch (one
// transaction); a run refused for its own reasons writes nothing and does not stop the others. A
// single run usually needs no read at all: it is decided on assumptions that its write batch checks
// (submitRun).

import type { D1PreparedStatement } from "@cloudflare/workers-types";
import { and, eq, exists, getTableColumns, inArray, ne, or, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { HTTPException } from "hono/http-exception";
import { MAX_BATCH_RUNS, type RunFlag } from "../schema/api.ts";
import type { Bundle } from "../schema/bundle.ts";
import { cells, devices, hardware, ingestAssumptions, models, type RunRecord, runs } from "../schema/db.ts";
import { canonicalJson, type Envelope, runIdOfCanonical } from "../schema/signing.ts";
import { cellOf, cellParts, IDENTITY_VERSION, type RunSummary, summarize } from "../schema/summary.ts";
import { versionKey } from "../schema/version-key.ts";
import type { Database } from "./db/database.ts";
import { applyMerges, mergeTargetsQuery } from "./db/rekey.ts";
import {
  agreeingPairSql,
  agreeSql,
  annotationsQuery,
  levelCopies,
  modelCatalogRow,
  parameterChunks,
  sortKeys,
  summaryWrites,
} from "./db/runs.ts";
import { Slots, shapedReads, shapedStatements, slottedRows } from "./db/shaped.ts";
import { apiError } from "./errors.ts";
import { type CellStats, EMPTY_CELL, mayBeOutlierSql, plausibilityFlags, withRun } from "./plausibility.ts";
import { checkSignedAt, MAX_FUTURE_SKEW_MS, type Window } from "./signed-record.ts";

/** A run bundle may wait in a device's outbox for weeks, not forever. */
export const RUN_WINDOW: Window = {
  futureMs: MAX_FUTURE_SKEW_MS,
  maxAgeMs: 90 * 24 * 3_600_000,
  remedy: "measure again",
};

/** A verified envelope with its parsed bundle and the id of the key that signed it. */
export interface Submission {
  envelope: Envelope;
  bundle: Bundle;
  deviceId: string;
  /** The envelope's canonical JSON when verification has made it already. */
  canonical?: string;
}

export interface Prepared extends Submission {
  id: string;
  /** The envelope's canonical JSON: hashed for the id, stored as the run's envelope. */
  canonical: string;
  /** The engine version's sort key (annotations compare ranges with it). */
  versionKey: string | null;
  summary: RunSummary;
  flags: RunFlag[];
  rankGroup: 0 | 1;
  cell: string;
  /** True when the same bytes were stored before (or came earlier in the same batch). */
  exists: boolean;
}

/** What the registry decided about one submission: prepared to store, or refused with an API error. */
export type Decision = { ok: true; prepared: Prepared } | { ok: false; error: HTTPException };

function nonceReused(nonce: string, by: string) {
  return apiError(
    "nonce_reused",
    `nonce ${JSON.stringify(nonce)} was already used by this key for run ${by}: a replay`,
  );
}

const annotationTarget = (engine: RunSummary["engine"], key: string | null) => JSON.stringify([engine, key]);

const refusal = (error: unknown): Decision => {
  if (error instanceof HTTPException) return { ok: false, error };
  throw error;
};

/** What is known of a submission before D1 is asked anything. */
interface Grounds {
  id: string;
  canonical: string;
  summary: RunSummary;
  cell: string;
  versionKey: string | null;
}

/** A submission's own figures, its id and its cell; refused here if signed outside the run window. */
async function groundsOf(s: Submission, now: Date): Promise<Grounds> {
  checkSignedAt(s.bundle.provenance.createdAt, "payload.provenance.createdAt", now, RUN_WINDOW);
  const summary = summarize(s.bundle);
  const canonical = s.canonical ?? canonicalJson(s.envelope);
  return {
    id: await runIdOfCanonical(canonical),
    canonical,
    summary,
    cell: cellOf(summary),
    versionKey: summary.engineVersion ? versionKey(summary.engineVersion) : null,
  };
}

/** A run that failed its quality check, or has a flag that ranks it apart, is ranked apart. */
const rankGroupOf = (summary: RunSummary, flags: RunFlag[]): 0 | 1 =>
  summary.qualityStatus === "fail" || flags.some((f) => f.rankApart) ? 1 : 0;

/**
 * Everything the server decides about each submission, without writing: used by POST /v1/runs, its
 * batch form and the dry run. Submissions are decided in order, each seeing the ones before it (a
 * resend, a reused nonce, the cell it joins), as if they had arrived one after another.
 */
export async function prepareRuns(db: Database, submissions: Submission[], now: Date): Promise<Decision[]> {
  // Each statement below binds a few parameters per submission; D1 allows 100 a statement.
  if (submissions.length > MAX_BATCH_RUNS) throw new Error(`at most ${MAX_BATCH_RUNS} submissions at once`);
  const decisions: Array<Decision | undefined> = [];
  const pending: Array<{ index: number; s: Submission } & Grounds> = [];
  for (const [index, s] of submissions.entries()) {
    try {
      pending.push({ index, s, ...(await groundsOf(s, now)) });
      decisions.push(undefined);
    } catch (error) {
      decisions.push(refusal(error));
    }
  }
  if (pending.length === 0) return decisions as Decision[];

  const unique = <T>(values: T[]) => [...new Set(values)];
  const nonced = pending.filter((p) => p.s.bundle.provenance.nonce);
  // One annotation query per engine and version among the submissions.
  const annotationTargets = new Map(
    pending.map((p) => [
      annotationTarget(p.summary.engine, p.versionKey),
      { engine: p.summary.engine, key: p.versionKey },
    ]),
  );
  // Everything the decisions need, read in one round trip to D1 (each shape's SQL built once).
  const deviceIds = unique(pending.map((p) => p.s.deviceId));
  const runIds = unique(pending.map((p) => p.id));
  const hardwareSlugs = unique(pending.map((p) => p.summary.hardwareSlug));
  const modelSlugs = unique(pending.map((p) => p.summary.modelSlug));
  const cellIds = unique(pending.map((p) => p.cell));
  const targets = [...annotationTargets.values()];
  const slots = new Slots();
  const [deviceSlots, runSlots, hardwareSlots, modelSlots, cellSlots] = [
    slots.list(deviceIds),
    slots.list(runIds),
    slots.list(hardwareSlugs),
    slots.list(modelSlugs),
    slots.list(cellIds),
  ];
  const nonceSlots = nonced.map((p) => ({
    deviceId: slots.take(p.s.deviceId),
    nonce: slots.take(p.s.bundle.provenance.nonce ?? ""),
  }));
  const targetSlots = targets.map((t) => ({
    engine: slots.take<RunSummary["engine"]>(t.engine),
    key: t.key === null ? null : slots.take(t.key),
  }));
  const shape = [
    deviceIds.length,
    runIds.length,
    nonced.length,
    hardwareSlugs.length,
    modelSlugs.length,
    cellIds.length,
    targets.map((t) => (t.key === null ? "n" : "k")).join(""),
  ].join(" ");
  const [deviceRows, existingRows, nonceRows, mergeRows, firstCellRows, ...notes] = await shapedReads(
    db.$client,
    `decision reads ${shape}`,
    () =>
      [
        db.select().from(devices).where(inArray(devices.id, deviceSlots)),
        db.select({ id: runs.id }).from(runs).where(inArray(runs.id, runSlots)),
        db
          .select({ id: runs.id, deviceId: runs.deviceId, nonce: runs.nonce })
          .from(runs)
          .where(
            nonceSlots.length
              ? or(...nonceSlots.map((n) => and(eq(runs.deviceId, n.deviceId), eq(runs.nonce, n.nonce))))
              : sql`0`,
          ),
        mergeTargetsQuery(db, { hardware: hardwareSlots, model: modelSlots }),
        cellStatsQuery(db, cellSlots),
        ...targetSlots.map((t) => annotationsQuery(db, t.engine, t.key)),
      ] as const,
    slots,
  );
  // A hardware or model that moderators merged into another: its runs are filed there. Rare, so the
  // cells of merged runs cost a second read only when there is one.
  let cellRows = firstCellRows;
  if (mergeRows.length) {
    const targets = new Map(mergeRows.map((r) => [`${r.kind}:${r.alias}`, r.slug]));
    for (const p of pending) {
      p.summary = applyMerges(p.summary, targets);
      p.cell = cellOf(p.summary);
    }
    cellRows = await cellStatsQuery(db, unique(pending.map((p) => p.cell)));
  }
  const device = new Map(deviceRows.map((d) => [d.id, d]));
  const stored = new Set(existingRows.map((r) => r.id));
  const nonceOwner = new Map(nonceRows.map((r) => [`${r.deviceId}\n${r.nonce}`, r.id]));
  const cellStats = new Map<string, CellStats>(cellRows.map(({ cell, ...stats }) => [cell, stats]));
  const notesFor = new Map([...annotationTargets.keys()].map((k, i) => [k, notes[i] ?? []]));

  for (const { index, s, id, canonical, summary, cell, versionKey: key } of pending) {
    const known = device.get(s.deviceId);
    const others = cellStats.get(cell) ?? EMPTY_CELL;
    const base = { ...s, id, canonical, versionKey: key, summary, cell };
    if (known?.status === "revoked") {
      decisions[index] = refusal(
        apiError("key_revoked", `key ${s.deviceId} was revoked on ${known.statusAt}; runs it signs are refused`),
      );
      continue;
    }
    if (known?.status === "rotated") {
      decisions[index] = refusal(
        apiError("key_rotated", `key ${s.deviceId} was replaced by ${known.replacedBy}; sign with the new key`),
      );
      continue;
    }
    if (stored.has(id)) {
      decisions[index] = { ok: true, prepared: { ...base, flags: [], rankGroup: 0, exists: true } };
      continue;
    }
    const nonce = s.bundle.provenance.nonce;
    const owner = nonce ? nonceOwner.get(`${s.deviceId}\n${nonce}`) : undefined;
    if (nonce && owner) {
      decisions[index] = refusal(nonceReused(nonce, owner));
      continue;
    }
    const flags = plausibilityFlags(s.bundle, summary, others);
    for (const a of notesFor.get(annotationTarget(summary.engine, key)) ?? []) {
      flags.push({ code: `annotation:${a.id}`, reason: a.note, rankApart: a.effect === "rank_apart" });
    }
    const rankGroup = rankGroupOf(summary, flags);
    decisions[index] = { ok: true, prepared: { ...base, flags, rankGroup, exists: false } };
    // What the submissions after this one see: it is stored, its nonce is taken, its cell has it.
    stored.add(id);
    if (nonce) nonceOwner.set(`${s.deviceId}\n${nonce}`, id);
    if (rankGroup === 0 && summary.decodeTps !== null) cellStats.set(cell, withRun(others, summary.decodeTps));
  }
  return decisions as Decision[];
}

/** One submission, as POST /v1/runs and the dry run take it: the decision, or the error it throws. */
export async function prepareRun(db: Database, submission: Submission, now: Date): Promise<Prepared> {
  const [decision] = await prepareRuns(db, [submission], now);
  if (!decision) throw new Error("prepareRuns returned no decision");
  if (!decision.ok) throw decision.error;
  return decision.prepared;
}

export type Stored = { ok: true; created: boolean } | { ok: false; error: HTTPException };

/** The figures of cells that the decisions compare a run with: one row a cell, whatever it holds. */
function cellStatsQuery(db: Database, cellIds: string[]) {
  return db
    .select({ cell: cells.cell, runs: cells.runs, decodeSum: cells.decodeSum, decodeM2: cells.decodeM2 })
    .from(cells)
    .where(inArray(cells.cell, cellIds));
}

/**
 * Stores prepared runs in one D1 batch (one transaction): for each, the device (trust on first use),
 * hardware and model if new, its cell and submitter lineage updated in place from its own figures,
 * and the run; then the level onto the cell's runs that differ and the catalog summaries. Nothing
 * reads every run of a cell, so the cost does not grow with it. Each run's cell updates are guarded
 * by the conditions its insert needs (its id and its key's nonce unused), checked in the same
 * transaction: a run that another request stored first changes no figure. Runs stored before are
 * answered `created: false` and write nothing. `also` go last in the same batch (the data version),
 * `first` before everything (the checks of a decision made without reading).
 */
export async function storeRuns(
  db: Database,
  prepared: Prepared[],
  now: Date,
  also: readonly D1PreparedStatement[] = [],
  first: readonly D1PreparedStatement[] = [],
): Promise<{ results: Stored[]; rowsWritten: number }> {
  const at = now.toISOString();
  const fresh = prepared.filter((p) => !p.exists);
  if (fresh.length === 0) return { results: prepared.map(() => ({ ok: true, created: false })), rowsWritten: 0 };
  // Each device, hardware and model once however many runs of the batch share it (multi-row
  // inserts); each run with its cell; then the levels and catalog summaries, set-based.
  const statements: D1PreparedStatement[] = [];
  const d1 = db.$client;
  const shaped = (shape: string, slots: Slots, build: () => Array<{ toSQL(): { sql: string; params: unknown[] } }>) =>
    statements.push(...shapedStatements(d1, shape, build, slots));
  const firstOf = <K>(key: (p: Prepared) => K) => {
    const first = new Map<K, Prepared>();
    for (const p of fresh) if (!first.has(key(p))) first.set(key(p), p);
    return [...first.values()];
  };
  for (const part of parameterChunks(
    firstOf((p) => p.deviceId),
    7,
  )) {
    const slots = new Slots();
    const rows = slottedRows(
      // Only a key the registry has not seen is inserted, and it starts its own lineage (a rotation
      // registers its new key, with the old key's lineage, before the new key signs anything).
      part.map((p) => ({ id: p.deviceId, publicKey: p.envelope.publicKey, firstSeenAt: at, lineage: p.deviceId })),
      slots,
    );
    shaped(`devices ${rows.shape}`, slots, () => [db.insert(devices).values(rows.rows).onConflictDoNothing()]);
  }
  for (const part of parameterChunks(
    firstOf((p) => p.summary.hardwareSlug),
    7,
  )) {
    const slots = new Slots();
    const rows = slottedRows(
      part.map((p) => ({
        slug: p.summary.hardwareSlug,
        name: p.summary.hardwareName,
        kind: p.summary.hardwareKind,
        firstSeenAt: at,
      })),
      slots,
    );
    shaped(`hardware ${rows.shape}`, slots, () => [db.insert(hardware).values(rows.rows).onConflictDoNothing()]);
  }
  for (const part of parameterChunks(
    firstOf((p) => p.summary.modelSlug),
    9,
  )) {
    const slots = new Slots();
    const rows = slottedRows(
      part.map((p) => modelCatalogRow(p.bundle, p.summary, at)),
      slots,
    );
    shaped(`models ${rows.shape}`, slots, () => [db.insert(models).values(rows.rows).onConflictDoNothing()]);
  }
  // Cells with several ranked runs in this batch keep those runs' lineage entries apart while they go in.
  const rankedKeys = new Map<string, string[]>();
  for (const p of fresh.filter(addsToFigures)) rankedKeys.set(p.cell, [...(rankedKeys.get(p.cell) ?? []), p.deviceId]);
  const pendingCells = new Set([...rankedKeys].filter(([, keys]) => keys.length >= 2).map(([cell]) => cell));
  for (const cell of pendingCells) {
    const keys = [...new Set(rankedKeys.get(cell))];
    statements.push(d1.prepare(PENDING_ENTRIES(keys.length)).bind(...keys, cell));
  }
  const runInsertAt = new Map<string, number>();
  for (const p of fresh) {
    const nonce = p.bundle.provenance.nonce;
    const guard = nonce ? [p.id, p.deviceId, nonce] : [p.id];
    const guardSql = nonce ? GUARD_WITH_NONCE : GUARD;
    const { hardwareSlug, modelSlug } = cellParts(p.cell);
    if (addsToFigures(p)) {
      statements.push(
        d1
          .prepare(CELL_ADD_RANKED(guardSql, pendingCells.has(p.cell) ? "lineage_pending" : "lineage_sums"))
          .bind(p.cell, hardwareSlug, modelSlug, p.summary.decodeTps, p.summary.quantization, at, p.deviceId, ...guard),
      );
    } else {
      statements.push(
        d1
          .prepare(CELL_ADD_UNRANKED(guardSql))
          .bind(p.cell, hardwareSlug, modelSlug, p.summary.quantization, at, ...guard),
      );
    }
    runInsertAt.set(p.id, statements.length);
    statements.push(d1.prepare(RUN_INSERT).bind(...runValues(p, at)));
  }
  for (const cell of pendingCells) statements.push(d1.prepare(MERGE_PENDING).bind(cell));
  const touched = [...new Set(fresh.map((p) => p.cell))];
  const cellSlots = new Slots();
  const touchedSlots = cellSlots.list(touched);
  shaped(`level copies ${touched.length}`, cellSlots, () => levelCopies(db, touchedSlots));
  const slugs = (key: "hardwareSlug" | "modelSlug") => [...new Set(fresh.map((p) => p.summary[key]))];
  const summarySlots = new Slots();
  const [hardwareSlugs, modelSlugs] = [summarySlots.list(slugs("hardwareSlug")), summarySlots.list(slugs("modelSlug"))];
  shaped(`summaries ${hardwareSlugs.length} ${modelSlugs.length}`, summarySlots, () =>
    summaryWrites(db, hardwareSlugs, modelSlugs),
  );
  const ours = statements.length;
  const written = (await d1.batch([...first, ...statements, ...also])).slice(first.length);
  const created = new Map(fresh.map((p) => [p.id, (written[runInsertAt.get(p.id) ?? -1]?.meta.changes ?? 0) > 0]));

  // A run insert that changed nothing lost a race: the same bytes stored at the same moment by another
  // request (fine), or its nonce taken by another run first (a replay, refused). Its guards kept its
  // figures out of its cell either way.
  const lost = fresh.filter((p) => !created.get(p.id));
  const refused = new Map<string, HTTPException>();
  if (lost.length) {
    const found = new Set(
      (
        await db
          .select({ id: runs.id })
          .from(runs)
          .where(
            inArray(
              runs.id,
              lost.map((p) => p.id),
            ),
          )
      ).map((r) => r.id),
    );
    for (const p of lost.filter((l) => !found.has(l.id))) {
      refused.set(p.id, nonceReused(p.bundle.provenance.nonce ?? "", "another run"));
    }
  }
  return {
    results: prepared.map((p) => {
      const error = refused.get(p.id);
      if (error && !p.exists) return { ok: false, error };
      return { ok: true, created: !p.exists && created.get(p.id) === true };
    }),
    rowsWritten: written.slice(0, ours).reduce((sum, r) => sum + (r.meta.rows_written ?? 0), 0),
  };
}

/** A ranked run with a decode speed: it counts in its cell's figures, sums and level. */
const addsToFigures = (p: Prepared) => p.rankGroup === 0 && p.summary.decodeTps !== null;

// What a run's insert needs, checked again by the statements before it in the same transaction.
const GUARD = "not exists (select 1 from runs where id = ?)";
const GUARD_WITH_NONCE = `${GUARD} and not exists (select 1 from runs where device_id = ? and nonce = ?)`;

const CELL_COLUMNS =
  "cell, hardware_slug, model_slug, visible_runs, best_decode_tps, quantization, runs, lineages, decode_mean, decode_stddev, decode_sum, decode_m2, lineage_sums, lineage_pending, agreeing_pair, level, updated_at";

/**
 * A ranked run into its cell, in place from its own figures (?4: its decode speed x, ?7: its key, whose lineage it joins):
 * the count, sum, mean and Welford's M2 (the standard deviation needs no other run), its lineage's
 * runs and sum, the lineage count, and the level from the stored witness (two lineages that agree).
 * Only pairs with the run's lineage can change, so the level reads one other lineage, not every one:
 * with no witness, none agreed, and only the run's lineage can now agree with one (one pass, no
 * sort); a witness without the run's lineage still holds; one with it holds if its partner still
 * agrees. Only a witness broken by its own lineage's move makes a full pass over the lineages.
 * SQLite evaluates every SET expression on the row as it was, so the new values are spelled where read.
 *
 * `entries`: the column the run's lineage entry is read from and written to: lineage_sums itself, or
 * lineage_pending for a batch with several ranked runs of the cell: PENDING_ENTRIES filled it first
 * with those runs' lineages and the witness (a new lineage is absent from both), and MERGE_PENDING folds it
 * into lineage_sums at the end, so each run reads and writes a small object instead of one entry per
 * submitter (45 KB at 1,000), whose reading and rewriting grew with them. The sums as they stand are
 * lineage_sums patched with the pending entries; only a cell without a witness, or a witness broken by
 * its own lineage, reads them whole, as it always did.
 */
const CELL_ADD_RANKED = (guard: string, entries: "lineage_sums" | "lineage_pending") => {
  const x = "excluded.decode_sum";
  const inSums = entries === "lineage_sums";
  const store = `cells.${entries}`;
  // The whole sums, given the object the entries are kept in.
  const merged = (kept: string) => (inSums ? kept : `json_patch(cells.lineage_sums, ${kept})`);
  // The submitter as the devices table has it (the insert before this one adds a new key).
  const submitter = "(select lineage from devices where id = ?7)";
  const path = (lineage: string) => `('$."' || ${lineage} || '"')`;
  const oldRuns = `coalesce(json_extract(${store}, ${path(submitter)} || '[0]'), 0)`;
  const oldSum = `coalesce(json_extract(${store}, ${path(submitter)} || '[1]'), 0)`;
  const lineages = `(cells.lineages + (json_type(${store}, ${path(submitter)}) is null))`;
  const mean = `((${oldSum} + ${x}) / (${oldRuns} + 1))`;
  const stored = `json_set(${store}, ${path(submitter)}, json_array(${oldRuns} + 1, ${oldSum} + ${x}))`;
  const old = merged(store);
  const sums = merged(stored);
  const m2 = `(case when cells.runs = 0 then 0 else cells.decode_m2 + (${x} - cells.decode_sum / cells.runs) * (${x} - (cells.decode_sum + ${x}) / (cells.runs + 1)) end)`;
  const witness = "cells.agreeing_pair";
  const [first, second] = [`json_extract(${witness}, '$[0]')`, `json_extract(${witness}, '$[1]')`];
  const partner = `(case when ${first} = ${submitter} then ${second} else ${first} end)`;
  const meanIn = (object: string, lineage: string) =>
    `(json_extract(${object}, ${path(lineage)} || '[1]') / json_extract(${object}, ${path(lineage)} || '[0]'))`;
  // The partner's entry where the run's is kept (PENDING_ENTRIES put the witness there), else in the sums.
  const meanOf = (lineage: string) =>
    inSums ? meanIn(store, lineage) : `coalesce(${meanIn(store, lineage)}, ${meanIn("cells.lineage_sums", lineage)})`;
  const entryMean = "(json_extract(value, '$[1]') / json_extract(value, '$[0]'))";
  const pair = `(case
       when ${lineages} < 2 then null
       when ${witness} is null then (select json_array(${submitter}, key) from json_each(${old}) where key != ${submitter} and ${agreeSql(entryMean, mean)} limit 1)
       when ${submitter} not in (${first}, ${second}) then ${witness}
       when ${agreeSql(mean, meanOf(partner))} then ${witness}
       else ${agreeingPairSql(sums)} end)`;
  const firstEntry = `json_set('{}', ${path(submitter)}, json_array(1, ?4))`;
  const [newSums, newPending] = inSums ? [firstEntry, "'{}'"] : ["'{}'", firstEntry];
  return `insert into cells (${CELL_COLUMNS})
   select ?1, ?2, ?3, 1, ?4, ?5, 1, 1, ?4, null, ?4, 0, ${newSums}, ${newPending}, null, 'single', ?6 where ${guard}
   on conflict (cell) do update set
     visible_runs = cells.visible_runs + 1,
     best_decode_tps = max(coalesce(cells.best_decode_tps, ${x}), ${x}),
     quantization = coalesce(cells.quantization, excluded.quantization),
     runs = cells.runs + 1,
     decode_sum = cells.decode_sum + ${x},
     decode_mean = (cells.decode_sum + ${x}) / (cells.runs + 1),
     decode_m2 = ${m2},
     decode_stddev = case when cells.runs = 0 then null else sqrt(max(0, ${m2}) / cells.runs) end,
     ${entries} = ${stored},
     lineages = ${lineages},
     agreeing_pair = ${pair},
     level = case when ${lineages} < 2 then 'single' when ${pair} is null then 'disputed' else 'reproduced' end,
     updated_at = excluded.updated_at`;
};

/**
 * Before a batch's ranked runs of one cell (bound: the runs' `keys` device ids, then the cell): their
 * lineages' entries of the cell's sums, and the witness's, copied into lineage_pending (a new cell has none).
 */
const PENDING_ENTRIES = (keys: number) =>
  `update cells set lineage_pending = (
     select json_group_object(key, json(value)) from json_each(cells.lineage_sums)
     where key in (select lineage from devices where id in (${Array.from({ length: keys }, () => "?").join(", ")}))
        or key in (json_extract(cells.agreeing_pair, '$[0]'), json_extract(cells.agreeing_pair, '$[1]')))
   where cell = ?`;

/** After them: the entries folded into the sums (a new lineage appended, as json_set would), and cleared. */
const MERGE_PENDING = `update cells set lineage_sums = json_patch(lineage_sums, lineage_pending), lineage_pending = '{}'
   where cell = ? and lineage_pending != '{}'`;

/** A run ranked apart, or without a decode speed: it counts among the cell's visible runs only. */
const CELL_ADD_UNRANKED = (guard: string) =>
  `insert into cells (${CELL_COLUMNS})
   select ?, ?, ?, 1, null, ?, 0, 0, null, null, 0, 0, '{}', '{}', null, 'single', ? where ${guard}
   on conflict (cell) do update set
     visible_runs = cells.visible_runs + 1,
     quantization = coalesce(cells.quantization, excluded.quantization),
     updated_at = excluded.updated_at`;

// The run insert is the one statement a batch repeats for every run: its SQL is written once from
// the table's columns and bound for each run (the query builder's cost per call shows at batch sizes).
// Its reproduction level is its cell's, as the statements before it left it.
const RUN_COLUMNS = Object.entries(getTableColumns(runs)) as Array<[keyof RunRecord, { name: string }]>;
const RUN_INSERT = `insert into "runs" (${RUN_COLUMNS.map(([, c]) => `"${c.name}"`).join(", ")}) values (${RUN_COLUMNS.map(
  ([key]) => (key === "reproduction" ? "(select level from cells where cell = ?)" : "?"),
).join(", ")}) on conflict do nothing`;

function runValues(p: Prepared, at: string): unknown[] {
  const s = p.summary;
  const record: RunRecord = {
    ...s,
    id: p.id,
    deviceId: p.deviceId,
    versionKey: p.versionKey,
    flags: JSON.stringify(p.flags),
    rankGroup: p.rankGroup,
    ...sortKeys(s),
    cell: p.cell,
    identityVersion: IDENTITY_VERSION,
    reproduction: "single",
    nonce: p.bundle.provenance.nonce ?? null,
    receivedAt: at,
    hiddenReason: null,
    retractedAt: null,
    retractionReason: null,
    envelope: p.canonical,
  };
  return RUN_COLUMNS.map(([key]) => (key === "reproduction" ? p.cell : (record[key] ?? null)));
}

/** One prepared run stored, as POST /v1/runs does: whether it was new, or the error it throws. */
export async function storeRun(
  db: Database,
  prepared: Prepared,
  now: Date,
  also: readonly D1PreparedStatement[] = [],
  first: readonly D1PreparedStatement[] = [],
): Promise<{ created: boolean; rowsWritten: number }> {
  const { results, rowsWritten } = await storeRuns(db, [prepared], now, also, first);
  const [result] = results;
  if (!result) throw new Error("storeRuns returned no result");
  if (!result.ok) throw result.error;
  return { created: result.created, rowsWritten };
}

/**
 * POST /v1/runs in one round trip to D1 when it can be (the decision's read and the write are two
 * binding calls, each costing more than everything else a submission does). The run is decided on
 * what the Worker knows without reading: its key active or new, its run id and nonce unused, no merge
 * of its hardware or model, no annotation of its engine version, and no outlier in its cell. The
 * batch opens by checking exactly those in the same transaction (ingest_assumptions): where one is
 * false, the batch rolls back whole and the submission is decided again from a read, as a batch's
 * runs are. Either way the decision is the same as prepareRun's.
 */
export async function submitRun(
  db: Database,
  submission: Submission,
  now: Date,
  also: readonly D1PreparedStatement[] = [],
): Promise<{ prepared: Prepared; created: boolean }> {
  const grounds = await groundsOf(submission, now);
  // An empty cell raises no outlier; the cell's own figures are checked in SQL below.
  const flags = plausibilityFlags(submission.bundle, grounds.summary, EMPTY_CELL);
  const assumed: Prepared = {
    ...submission,
    ...grounds,
    flags,
    rankGroup: rankGroupOf(grounds.summary, flags),
    exists: false,
  };
  try {
    const { created } = await storeRun(db, assumed, now, also, assumptionsCheck(db, assumed));
    return { prepared: assumed, created };
  } catch (error) {
    if (!assumptionFailed(error)) throw error;
  }
  const prepared = await prepareRun(db, submission, now);
  const { created } = await storeRun(db, prepared, now, also);
  return { prepared, created };
}

const ASSUMPTIONS_HOLD = "ingest_assumptions_hold";

/** Whether a batch failed on the assumptions' check (D1 names the constraint in its message or cause). */
function assumptionFailed(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const cause = error.cause instanceof Error ? error.cause.message : String(error.cause ?? "");
  return `${error.message} ${cause}`.includes(ASSUMPTIONS_HOLD);
}

const dialect = new SQLiteAsyncDialect();

/**
 * The statement that fails (its row refused by the table's check) when anything submitRun assumed of
 * a run is not so: each assumption is the full decision's own read (prepareRuns), asked as "exists".
 */
function assumptionsCheck(db: Database, p: Prepared): D1PreparedStatement[] {
  const slots = new Slots();
  const id = slots.take(p.id);
  const device = slots.take(p.deviceId);
  const hardwareSlug = slots.take(p.summary.hardwareSlug);
  const modelSlug = slots.take(p.summary.modelSlug);
  const nonce = p.bundle.provenance.nonce ? slots.take(p.bundle.provenance.nonce) : null;
  const annotated = p.versionKey
    ? { engine: slots.take<RunSummary["engine"]>(p.summary.engine), key: slots.take(p.versionKey) }
    : null;
  const decode = p.summary.decodeTps === null ? null : { cell: slots.take(p.cell), x: slots.take(p.summary.decodeTps) };
  const shape = `assumptions ${nonce ? "n" : "-"}${annotated ? "a" : "-"}${decode ? "d" : "-"}`;
  return shapedStatements(
    db.$client,
    shape,
    () => {
      const unlike = [
        exists(db.select({ id: runs.id }).from(runs).where(eq(runs.id, id))),
        exists(
          db
            .select({ id: devices.id })
            .from(devices)
            .where(and(eq(devices.id, device), ne(devices.status, "active"))),
        ),
        exists(mergeTargetsQuery(db, { hardware: [hardwareSlug], model: [modelSlug] })),
        nonce
          ? exists(
              db
                .select({ id: runs.id })
                .from(runs)
                .where(and(eq(runs.deviceId, device), eq(runs.nonce, nonce))),
            )
          : undefined,
        annotated ? exists(annotationsQuery(db, annotated.engine, annotated.key)) : undefined,
        decode
          ? exists(
              db
                .select({ cell: cells.cell })
                .from(cells)
                .where(and(eq(cells.cell, decode.cell), mayBeOutlierSql(decode.x))),
            )
          : undefined,
      ];
      return [
        {
          toSQL: () => dialect.sqlToQuery(sql`insert into ${ingestAssumptions} (held) select 0 where ${or(...unlike)}`),
        },
      ];
    },
    slots,
  );
}
