// Taking in verified runs, one or a batch: the keys' standing, the replay rules, the server's own
// plausibility checks, and one D1 batch that writes every accepted run with everything derived from
// it. Whatever the number of runs, the decision reads D1 once and the write is one batch (one
// transaction); a run refused for its own reasons writes nothing and does not stop the others.

import type { D1Database } from "@cloudflare/workers-types";
import { and, eq, getTableColumns, inArray, or, sql } from "drizzle-orm";
import { HTTPException } from "hono/http-exception";
import { MAX_BATCH_RUNS, type ReproductionLevel, type RunFlag } from "../schema/api.ts";
import type { Bundle } from "../schema/bundle.ts";
import { devices, hardware, models, type RunRecord, runs } from "../schema/db.ts";
import { canonicalJson, type Envelope, runIdOfCanonical } from "../schema/signing.ts";
import { cellOf, IDENTITY_VERSION, type RunSummary, summarize } from "../schema/summary.ts";
import { versionKey } from "../schema/version-key.ts";
import type { Database } from "./db/database.ts";
import { applyMerges, mergeTargetsQuery } from "./db/rekey.ts";
import {
  annotationsQuery,
  type CellRun,
  cellRunsQuery,
  cellsWrites,
  modelCatalogRow,
  parameterChunks,
  refreshCells,
  refreshStaleCells,
  reproductionOf,
  sortKeys,
} from "./db/runs.ts";
import { apiError } from "./errors.ts";
import { plausibilityFlags } from "./plausibility.ts";
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
}

export interface Prepared extends Submission {
  id: string;
  /** The envelope's canonical JSON: hashed for the id, stored as the run's envelope. */
  canonical: string;
  /** The engine version's sort key (annotations compare ranges with it). */
  versionKey: string | null;
  /** The submitter: the first key of the device's rotation chain. */
  lineage: string;
  /** The cell's ranked runs the decision compared this one with (stored ones, then earlier ones of the batch). */
  cellRuns: CellRun[];
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

/**
 * Everything the server decides about each submission, without writing: used by POST /v1/runs, its
 * batch form and the dry run. Submissions are decided in order, each seeing the ones before it (a
 * resend, a reused nonce, the cell it joins), as if they had arrived one after another.
 */
export async function prepareRuns(db: Database, submissions: Submission[], now: Date): Promise<Decision[]> {
  // Each statement below binds a few parameters per submission; D1 allows 100 a statement.
  if (submissions.length > MAX_BATCH_RUNS) throw new Error(`at most ${MAX_BATCH_RUNS} submissions at once`);
  const decisions: Array<Decision | undefined> = [];
  const pending: Array<{
    index: number;
    s: Submission;
    id: string;
    canonical: string;
    summary: RunSummary;
    cell: string;
    versionKey: string | null;
  }> = [];
  for (const [index, s] of submissions.entries()) {
    try {
      checkSignedAt(s.bundle.provenance.createdAt, "payload.provenance.createdAt", now, RUN_WINDOW);
      const summary = summarize(s.bundle);
      const canonical = canonicalJson(s.envelope);
      pending.push({
        index,
        s,
        id: await runIdOfCanonical(canonical),
        canonical,
        summary,
        cell: cellOf(summary),
        versionKey: summary.engineVersion ? versionKey(summary.engineVersion) : null,
      });
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
  // Everything the decisions need, read in one round trip to D1.
  const [deviceRows, existingRows, nonceRows, mergeRows, firstCellRows, ...notes] = await db.batch([
    db
      .select()
      .from(devices)
      .where(inArray(devices.id, unique(pending.map((p) => p.s.deviceId)))),
    db
      .select({ id: runs.id })
      .from(runs)
      .where(inArray(runs.id, unique(pending.map((p) => p.id)))),
    db
      .select({ id: runs.id, deviceId: runs.deviceId, nonce: runs.nonce })
      .from(runs)
      .where(
        nonced.length
          ? or(
              ...nonced.map((p) =>
                and(eq(runs.deviceId, p.s.deviceId), eq(runs.nonce, p.s.bundle.provenance.nonce ?? "")),
              ),
            )
          : sql`0`,
      ),
    mergeTargetsQuery(db, {
      hardware: unique(pending.map((p) => p.summary.hardwareSlug)),
      model: unique(pending.map((p) => p.summary.modelSlug)),
    }),
    cellRunsQuery(db, unique(pending.map((p) => p.cell))),
    ...[...annotationTargets.values()].map((t) => annotationsQuery(db, t.engine, t.key)),
  ]);
  // A hardware or model that moderators merged into another: its runs are filed there. Rare, so the
  // cells of merged runs cost a second read only when there is one.
  let cellRows = firstCellRows;
  if (mergeRows.length) {
    const targets = new Map(mergeRows.map((r) => [`${r.kind}:${r.alias}`, r.slug]));
    for (const p of pending) {
      p.summary = applyMerges(p.summary, targets);
      p.cell = cellOf(p.summary);
    }
    cellRows = await cellRunsQuery(db, unique(pending.map((p) => p.cell)));
  }
  const device = new Map(deviceRows.map((d) => [d.id, d]));
  const stored = new Set(existingRows.map((r) => r.id));
  const nonceOwner = new Map(nonceRows.map((r) => [`${r.deviceId}\n${r.nonce}`, r.id]));
  const cellRuns = new Map<string, CellRun[]>();
  for (const { cell, decodeTps, lineage } of cellRows) {
    cellRuns.set(cell, [...(cellRuns.get(cell) ?? []), { decodeTps, lineage }]);
  }
  const notesFor = new Map([...annotationTargets.keys()].map((k, i) => [k, notes[i] ?? []]));

  for (const { index, s, id, canonical, summary, cell, versionKey: key } of pending) {
    const known = device.get(s.deviceId);
    const lineage = known?.lineage ?? s.deviceId;
    const others = [...(cellRuns.get(cell) ?? [])];
    const base = { ...s, id, canonical, versionKey: key, lineage, summary, cell, cellRuns: others };
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
    const flags = plausibilityFlags(s.bundle, summary, {
      others: others.flatMap((o) => (o.decodeTps === null ? [] : [o.decodeTps])),
    });
    for (const a of notesFor.get(annotationTarget(summary.engine, key)) ?? []) {
      flags.push({ code: `annotation:${a.id}`, reason: a.note, rankApart: a.effect === "rank_apart" });
    }
    const rankGroup = summary.qualityStatus === "fail" || flags.some((f) => f.rankApart) ? 1 : 0;
    decisions[index] = { ok: true, prepared: { ...base, flags, rankGroup, exists: false } };
    // What the submissions after this one see: it is stored, its nonce is taken, its cell has it.
    stored.add(id);
    if (nonce) nonceOwner.set(`${s.deviceId}\n${nonce}`, id);
    if (rankGroup === 0 && summary.decodeTps !== null) {
      cellRuns.set(cell, [...others, { decodeTps: summary.decodeTps, lineage }]);
    }
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

/**
 * Stores prepared runs in one D1 batch (one transaction): for each, the device (trust on first use),
 * hardware and model if new, and the run; then each cell they touched, recomputed with them. Runs
 * stored before are answered `created: false` and write nothing.
 */
export async function storeRuns(
  db: Database,
  prepared: Prepared[],
  now: Date,
): Promise<{ results: Stored[]; rowsWritten: number }> {
  const at = now.toISOString();
  const fresh = prepared.filter((p) => !p.exists);
  if (fresh.length === 0) return { results: prepared.map(() => ({ ok: true, created: false })), rowsWritten: 0 };
  // Each cell's state once the batch is in: the runs its last run of the batch saw, plus that run if ranked.
  const lastOfCell = new Map(fresh.map((p) => [p.cell, p]));
  const cellStates = new Map(
    [...lastOfCell].map(([cell, p]) => [
      cell,
      reproductionOf([
        ...p.cellRuns,
        ...(p.rankGroup === 0 && p.summary.decodeTps !== null
          ? [{ decodeTps: p.summary.decodeTps, lineage: p.lineage }]
          : []),
      ]),
    ]),
  );
  // Each device, hardware and model once however many runs of the batch share it (multi-row
  // inserts); each run; then the cells and catalog summaries, set-based: the number of statements
  // grows with the runs, not with everything they touch.
  const statements: ReturnType<D1Database["prepare"]>[] = [];
  const d1 = db.$client;
  const push = (q: { toSQL(): { sql: string; params: unknown[] } }) => {
    const { sql: text, params } = q.toSQL();
    statements.push(d1.prepare(text).bind(...params));
  };
  const firstOf = <K>(key: (p: Prepared) => K) => {
    const first = new Map<K, Prepared>();
    for (const p of fresh) if (!first.has(key(p))) first.set(key(p), p);
    return [...first.values()];
  };
  for (const part of parameterChunks(
    firstOf((p) => p.deviceId),
    7,
  )) {
    push(
      db
        .insert(devices)
        .values(
          part.map((p) => ({ id: p.deviceId, publicKey: p.envelope.publicKey, firstSeenAt: at, lineage: p.lineage })),
        )
        .onConflictDoNothing(),
    );
  }
  for (const part of parameterChunks(
    firstOf((p) => p.summary.hardwareSlug),
    7,
  )) {
    push(
      db
        .insert(hardware)
        .values(
          part.map((p) => ({
            slug: p.summary.hardwareSlug,
            name: p.summary.hardwareName,
            kind: p.summary.hardwareKind,
            firstSeenAt: at,
          })),
        )
        .onConflictDoNothing(),
    );
  }
  for (const part of parameterChunks(
    firstOf((p) => p.summary.modelSlug),
    9,
  )) {
    push(
      db
        .insert(models)
        .values(part.map((p) => modelCatalogRow(p.bundle, p.summary, at)))
        .onConflictDoNothing(),
    );
  }
  const runInsertAt = new Map<string, number>();
  for (const p of fresh) {
    runInsertAt.set(p.id, statements.length);
    statements.push(d1.prepare(RUN_INSERT).bind(...runValues(p, cellStates.get(p.cell)?.level ?? "single", at)));
  }
  for (const q of cellsWrites(db, cellStates, at)) push(q);
  const written = await d1.batch(statements);
  await refreshStaleCells(db, cellStates, written.at(-1), at);
  const created = new Map(fresh.map((p) => [p.id, (written[runInsertAt.get(p.id) ?? -1]?.meta.changes ?? 0) > 0]));

  // A run insert that changed nothing lost a race: the same bytes stored at the same moment by another
  // request (fine), or its nonce taken by another run first (a replay, refused; its cell recomputed).
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
    const replays = lost.filter((l) => !found.has(l.id));
    for (const p of replays) refused.set(p.id, nonceReused(p.bundle.provenance.nonce ?? "", "another run"));
    // Their cells were written as if they were in.
    await refreshCells(db, [...new Set(replays.map((p) => p.cell))], at);
  }
  return {
    results: prepared.map((p) => {
      const error = refused.get(p.id);
      if (error && !p.exists) return { ok: false, error };
      return { ok: true, created: !p.exists && created.get(p.id) === true };
    }),
    rowsWritten: written.reduce((sum, r) => sum + (r.meta.rows_written ?? 0), 0),
  };
}

// The run insert is the one statement a batch repeats for every run: its SQL is written once from
// the table's columns and bound for each run (the query builder's cost per call shows at batch sizes).
const RUN_COLUMNS = Object.entries(getTableColumns(runs)) as Array<[keyof RunRecord, { name: string }]>;
const RUN_INSERT = `insert into "runs" (${RUN_COLUMNS.map(([, c]) => `"${c.name}"`).join(", ")}) values (${RUN_COLUMNS.map(() => "?").join(", ")}) on conflict do nothing`;

function runValues(p: Prepared, reproduction: ReproductionLevel, at: string): unknown[] {
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
    reproduction,
    nonce: p.bundle.provenance.nonce ?? null,
    receivedAt: at,
    hiddenReason: null,
    retractedAt: null,
    retractionReason: null,
    envelope: p.canonical,
  };
  return RUN_COLUMNS.map(([key]) => record[key] ?? null);
}

/** One prepared run stored, as POST /v1/runs does: whether it was new, or the error it throws. */
export async function storeRun(
  db: Database,
  prepared: Prepared,
  now: Date,
): Promise<{ created: boolean; rowsWritten: number }> {
  const { results, rowsWritten } = await storeRuns(db, [prepared], now);
  const [result] = results;
  if (!result) throw new Error("storeRuns returned no result");
  if (!result.ok) throw result.error;
  return { created: result.created, rowsWritten };
}
