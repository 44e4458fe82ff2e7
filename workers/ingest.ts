// Taking in one verified run: the key's standing, the replay rules, the server's own plausibility
// checks, and one D1 batch that writes the run with everything derived from it, or nothing.
import { and, eq } from "drizzle-orm";
import type { RunFlag } from "../schema/api.ts";
import type { Bundle } from "../schema/bundle.ts";
import { devices, hardware, models, runs } from "../schema/db.ts";
import { canonicalJson, type Envelope, runIdOf } from "../schema/signing.ts";
import { cellOf, type RunSummary, summarize } from "../schema/summary.ts";
import { versionKey } from "../schema/version-key.ts";
import type { Database } from "./db/database.ts";
import { annotationsQuery, cellRunsQuery, cellWrites, refreshCell, reproductionOf } from "./db/runs.ts";
import { apiError } from "./errors.ts";
import { plausibilityFlags } from "./plausibility.ts";
import { checkSignedAt, MAX_FUTURE_SKEW_MS, type Window } from "./signed-record.ts";

/** A run bundle may wait in a device's outbox for weeks, not forever. */
export const RUN_WINDOW: Window = {
  futureMs: MAX_FUTURE_SKEW_MS,
  maxAgeMs: 90 * 24 * 3_600_000,
  remedy: "measure again",
};

export interface Prepared {
  id: string;
  deviceId: string;
  /** The submitter: the first key of the device's rotation chain. */
  lineage: string;
  /** The cell's other ranked runs, as read before the decision. */
  cellRuns: Array<{ decodeTps: number | null; lineage: string }>;
  summary: RunSummary;
  flags: RunFlag[];
  rankGroup: 0 | 1;
  cell: string;
  /** True when the same bytes were stored before. */
  exists: boolean;
}

/**
 * Everything the server decides about a run, without writing: used by POST /v1/runs and by the
 * dry run. Throws the API error a refused run gets.
 */
export async function prepareRun(
  db: Database,
  envelope: Envelope,
  bundle: Bundle,
  deviceId: string,
  now: Date,
): Promise<Prepared> {
  checkSignedAt(bundle.provenance.createdAt, "payload.provenance.createdAt", now, RUN_WINDOW);
  const id = await runIdOf(envelope);
  const summary = summarize(bundle);
  const cell = cellOf(summary);
  const nonce = bundle.provenance.nonce;
  const key = summary.engineVersion ? versionKey(summary.engineVersion) : null;
  // Everything the decision needs, read in one round trip to D1.
  const [deviceRows, existing, reused, others, notes] = await db.batch([
    db.select().from(devices).where(eq(devices.id, deviceId)).limit(1),
    db.select({ id: runs.id }).from(runs).where(eq(runs.id, id)).limit(1),
    db
      .select({ id: runs.id })
      .from(runs)
      .where(and(eq(runs.deviceId, deviceId), eq(runs.nonce, nonce ?? "")))
      .limit(1),
    cellRunsQuery(db, cell),
    annotationsQuery(db, summary.engine, key),
  ]);
  const device = deviceRows[0];
  if (device?.status === "revoked") {
    throw apiError("key_revoked", `key ${deviceId} was revoked on ${device.statusAt}; runs it signs are refused`);
  }
  if (device?.status === "rotated") {
    throw apiError("key_rotated", `key ${deviceId} was replaced by ${device.replacedBy}; sign with the new key`);
  }
  const lineage = device?.lineage ?? deviceId;
  if (existing[0])
    return { id, deviceId, lineage, summary, flags: [], rankGroup: 0, cell, cellRuns: others, exists: true };
  if (nonce && reused[0]) throw nonceReused(nonce, reused[0].id);

  const flags = plausibilityFlags(bundle, summary, {
    others: others.flatMap((o) => (o.decodeTps === null ? [] : [o.decodeTps])),
  });
  for (const a of notes) {
    flags.push({ code: `annotation:${a.id}`, reason: a.note, rankApart: a.effect === "rank_apart" });
  }
  const rankGroup = summary.qualityStatus === "fail" || flags.some((f) => f.rankApart) ? 1 : 0;
  return { id, deviceId, lineage, summary, flags, rankGroup, cell, cellRuns: others, exists: false };
}

function nonceReused(nonce: string, by: string) {
  return apiError(
    "nonce_reused",
    `nonce ${JSON.stringify(nonce)} was already used by this key for run ${by}: a replay`,
  );
}

/**
 * Stores a prepared run in one D1 batch (one transaction): the device (trust on first use),
 * hardware and model if new, the run, and its cell recomputed with it. Returns false when the same
 * bytes were already stored.
 */
export async function storeRun(
  db: Database,
  prepared: Prepared,
  envelope: Envelope,
  bundle: Bundle,
  now: Date,
): Promise<{ created: boolean; rowsWritten: number }> {
  if (prepared.exists) return { created: false, rowsWritten: 0 };
  const at = now.toISOString();
  const s = prepared.summary;
  const lineage = prepared.lineage;
  const cellState = reproductionOf([
    ...prepared.cellRuns,
    ...(prepared.rankGroup === 0 && s.decodeTps !== null ? [{ decodeTps: s.decodeTps, lineage }] : []),
  ]);
  const results = await db.batch([
    db
      .insert(devices)
      .values({ id: prepared.deviceId, publicKey: envelope.publicKey, firstSeenAt: at, lineage })
      .onConflictDoNothing(),
    db.insert(hardware).values({ slug: s.hardwareSlug, name: s.hardwareName, firstSeenAt: at }).onConflictDoNothing(),
    db
      .insert(models)
      .values({
        slug: s.modelSlug,
        name: s.modelName,
        family: bundle.model.family ?? null,
        parameters: s.parameters,
        firstSeenAt: at,
      })
      .onConflictDoNothing(),
    db
      .insert(runs)
      .values({
        ...s,
        id: prepared.id,
        deviceId: prepared.deviceId,
        versionKey: s.engineVersion ? versionKey(s.engineVersion) : null,
        flags: JSON.stringify(prepared.flags),
        rankGroup: prepared.rankGroup,
        decodeSortKey: s.decodeTps ?? -1,
        prefillSortKey: s.prefillTps ?? -1,
        ttftSortKey: s.ttftMs ?? Number.MAX_VALUE,
        cell: prepared.cell,
        reproduction: cellState.level,
        nonce: bundle.provenance.nonce ?? null,
        receivedAt: at,
        envelope: canonicalJson(envelope),
      })
      .onConflictDoNothing(),
    ...cellWrites(db, prepared.cell, cellState, at),
  ]);
  const created = results[3].meta.changes > 0;
  if (!created) {
    // Either the same bytes arrived twice at once (fine), or another run took the nonce first.
    const [stored] = await db.select({ id: runs.id }).from(runs).where(eq(runs.id, prepared.id)).limit(1);
    if (!stored) {
      await refreshCell(db, prepared.cell, at);
      throw nonceReused(bundle.provenance.nonce ?? "", "another run");
    }
  }
  return { created, rowsWritten: results.reduce((sum, r) => sum + (r.meta.rows_written ?? 0), 0) };
}
