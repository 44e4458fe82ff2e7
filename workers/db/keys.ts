// Queries for device keys and the signed records about them (rotation, revocation, retraction). The
// routes decide; these read in one round trip and build the writes that go into one D1 batch with
// their audit row.
import { and, count, eq, isNull, sql } from "drizzle-orm";
import * as z from "zod";
import type { RunFlag } from "../../schema/api.ts";
import { auditLog, type DeviceRecord, devices, runs } from "../../schema/db.ts";
import type { KeyInfo } from "../../schema/key-records.ts";
import { type AuditValues, auditInsert } from "./audit.ts";
import type { Database } from "./database.ts";

export function keyQuery(db: Database, id: string) {
  return db.select().from(devices).where(eq(devices.id, id)).limit(1);
}

export async function getKey(db: Database, id: string): Promise<DeviceRecord | undefined> {
  const [row] = await keyQuery(db, id);
  return row;
}

export function toKeyInfo(row: DeviceRecord): KeyInfo {
  return {
    deviceId: row.id,
    publicKey: row.publicKey,
    status: row.status,
    statusAt: row.statusAt,
    lineage: row.lineage,
    replacedBy: row.replacedBy,
    firstSeenAt: row.firstSeenAt,
  };
}

/**
 * What the audit row of a signed record keeps in `details`: the record's id and nonce, by which a
 * resend and a replay are told apart, and the envelope itself, so anyone can re-verify the action.
 */
export const RecordDetails = z.object({ record: z.string(), nonce: z.string() });

/**
 * The audit rows of records this key signed with this nonce. Key records are rare and the audit log
 * holds only moderation and key actions, so a scan of one actor's rows is cheap; `details` is
 * checked to be JSON first because moderators' rows need not be.
 */
export function nonceUsesQuery(db: Database, actor: string, nonce: string) {
  return db
    .select({ action: auditLog.action, target: auditLog.target, details: auditLog.details })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.actor, actor),
        sql`(case when json_valid(${auditLog.details}) then json_extract(${auditLog.details}, '$.nonce') end) = ${nonce}`,
      ),
    );
}

export type NonceUse =
  | { kind: "none" }
  | { kind: "same"; action: string; target: string }
  | { kind: "other"; action: string; target: string };

/** Whether the nonce was used before, by these very bytes (a resend) or by other bytes (a replay). */
export function nonceUse(
  rows: ReadonlyArray<{ action: string; target: string; details: string | null }>,
  recordId: string,
): NonceUse {
  let other: NonceUse = { kind: "none" };
  for (const row of rows) {
    const details = RecordDetails.safeParse(parseJson(row.details));
    if (!details.success) continue;
    if (details.data.record === recordId) return { kind: "same", action: row.action, target: row.target };
    other = { kind: "other", action: row.action, target: row.target };
  }
  return other;
}

function parseJson(text: string | null): unknown {
  try {
    return JSON.parse(text ?? "null");
  } catch {
    return null;
  }
}

/** A key record's audit row: who signed it and the record itself, so anyone can re-verify the action. */
export interface KeyAuditValues extends AuditValues {
  action: "key.rotate" | "key.revoke" | "run.retract";
  target: string;
  details: { record: string; nonce: string; envelope: unknown } & Record<string, unknown>;
}

export function keyAudit(db: Database, values: KeyAuditValues) {
  return auditInsert(db, values);
}

// --- rotation

export interface RotationWrite {
  at: string;
  oldKey: { id: string; publicKey: string; known: boolean };
  newKey: { id: string; publicKey: string };
  lineage: string;
}

/**
 * The old key rotated (registered first if the registry has never seen it: trust on first use) and
 * the new key added to its lineage. The new key's insert has no conflict clause on purpose: if the key
 * appeared since it was read, the insert fails and D1 rolls the whole batch back.
 */
export function rotationWrites(db: Database, w: RotationWrite) {
  const rotated = { status: "rotated" as const, statusAt: w.at, replacedBy: w.newKey.id };
  return [
    w.oldKey.known
      ? db
          .update(devices)
          .set(rotated)
          .where(and(eq(devices.id, w.oldKey.id), eq(devices.status, "active")))
      : db.insert(devices).values({
          id: w.oldKey.id,
          publicKey: w.oldKey.publicKey,
          firstSeenAt: w.at,
          lineage: w.lineage,
          ...rotated,
        }),
    db
      .insert(devices)
      .values({ id: w.newKey.id, publicKey: w.newKey.publicKey, firstSeenAt: w.at, lineage: w.lineage }),
  ] as const;
}

// --- revocation

/** How many runs a key signed: the runs a revocation flags. */
export function runCountQuery(db: Database, deviceId: string) {
  return db.select({ n: count() }).from(runs).where(eq(runs.deviceId, deviceId));
}

export function revokedFlag(at: string, reason: string): RunFlag {
  // Not ranked apart: a revocation says the key is not to be trusted from now on, not that what it
  // signed before was false (a lost laptop, a retired board). Ranking the runs apart would also let
  // whoever stole a key push its owner's results down by revoking it. A run its owner does not stand
  // by any more is retracted, one by one.
  return { code: "key_revoked", reason: `signed by a key revoked on ${at.slice(0, 10)}: ${reason}`, rankApart: false };
}

export interface RevocationWrite {
  at: string;
  key: { id: string; publicKey: string; known: boolean };
  reason: string;
}

/** The key revoked (registered as revoked if never seen), and every run it signed flagged. */
export function revocationWrites(db: Database, w: RevocationWrite) {
  const revoked = { status: "revoked" as const, statusAt: w.at };
  const flag = JSON.stringify(revokedFlag(w.at, w.reason));
  return [
    w.key.known
      ? db
          .update(devices)
          .set(revoked)
          .where(and(eq(devices.id, w.key.id), sql`${devices.status} <> 'revoked'`))
      : db
          .insert(devices)
          .values({ id: w.key.id, publicKey: w.key.publicKey, firstSeenAt: w.at, lineage: w.key.id, ...revoked }),
    // Appended in SQL, so flags a moderator or the plausibility checks set stay as they are.
    db
      .update(runs)
      .set({ flags: sql`json_insert(${runs.flags}, '$[#]', json(${flag}))` })
      .where(eq(runs.deviceId, w.key.id)),
  ] as const;
}

// --- retraction

/** A run with its signer's lineage and standing: what a retraction is decided on. */
export function retractableRunQuery(db: Database, id: string) {
  return db
    .select({
      id: runs.id,
      deviceId: runs.deviceId,
      cell: runs.cell,
      retractedAt: runs.retractedAt,
      retractionReason: runs.retractionReason,
      lineage: devices.lineage,
    })
    .from(runs)
    .innerJoin(devices, eq(devices.id, runs.deviceId))
    .where(eq(runs.id, id))
    .limit(1);
}

export function retractionWrite(db: Database, id: string, at: string, reason: string) {
  return db
    .update(runs)
    .set({ retractedAt: at, retractionReason: reason, rankGroup: 1 })
    .where(and(eq(runs.id, id), isNull(runs.retractedAt)));
}
