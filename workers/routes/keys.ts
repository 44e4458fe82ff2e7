// Signed key records: rotation (the old key names the new one, which proves it is held) and
// revocation; and each key's public standing. Every accepted record changes the keys and writes its
// audit row in one D1 batch; a refused one writes nothing; the same bytes again change nothing.

import { Hono } from "hono";
import {
  checkRotationProof,
  DeviceId,
  KeyRevocation,
  type KeyRevocationResponse,
  KeyRotation,
  type KeyRotationResponse,
} from "../../schema/key-records.ts";
import { deviceIdOf } from "../../schema/signing.ts";
import type { Database } from "../db/database.ts";
import {
  keyAudit,
  keyQuery,
  nonceUse,
  nonceUsesQuery,
  revocationWrites,
  rotationWrites,
  runCountQuery,
  toKeyInfo,
} from "../db/keys.ts";
import type { AppEnv } from "../env.ts";
import { apiError } from "../errors.ts";
import { rateLimitedByAddress, rateLimitedByKey } from "../middleware/rate-limit.ts";
import { signedEnvelope } from "../middleware/signed-envelope.ts";
import { type SignedRecord, signedRecord } from "../signed-record.ts";

function nonceReused(nonce: string, action: string, target: string) {
  return apiError(
    "nonce_reused",
    `nonce ${JSON.stringify(nonce)} was already used by this key for another record (${action} ${target}): a replay`,
  );
}

/** D1 refuses the whole batch when a row it inserts appeared since it was read (a concurrent request). */
function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/UNIQUE constraint failed/i.test(e.message)) return true;
  }
  return false;
}

/**
 * Decision order: a resend of accepted bytes answers as before; then the signer's standing; then
 * whether the state was already acted on (409 conflict); then the nonce (409 nonce_reused).
 */
async function rotate(db: Database, r: SignedRecord<KeyRotation>): Promise<KeyRotationResponse> {
  const oldPublicKey = r.envelope.publicKey;
  const { newPublicKey, proof, nonce } = r.payload;
  if (newPublicKey === oldPublicKey) {
    throw apiError("invalid_request", "a key cannot be rotated to itself", [
      { path: "payload.newPublicKey", message: "must differ from the signing key" },
    ]);
  }
  // Without this anyone could name somebody else's public key as their successor and so make two
  // submitters one (their runs would stop counting as independent reproductions).
  if (!(await checkRotationProof(oldPublicKey, newPublicKey, proof))) {
    throw apiError(
      "forbidden",
      "payload.proof is not the new key's signature over edgebench.rotation-proof/v1:<old public key>; a key can only be rotated to a key its holder controls",
      [{ path: "payload.proof", message: "does not verify with payload.newPublicKey" }],
    );
  }
  const newId = await deviceIdOf(newPublicKey);
  const [oldRows, newRows, uses] = await db.batch([
    keyQuery(db, r.signer),
    keyQuery(db, newId),
    nonceUsesQuery(db, r.signer, nonce),
  ]);
  const old = oldRows[0];
  const current = newRows[0];
  const use = nonceUse(uses, r.id);
  if (use.kind === "same" && old && current) {
    return { record: r.id, applied: false, key: toKeyInfo(old), newKey: toKeyInfo(current) };
  }
  if (old?.status === "revoked") {
    throw apiError("key_revoked", `key ${r.signer} was revoked on ${old.statusAt}; it cannot name a successor`);
  }
  if (old?.status === "rotated") {
    throw apiError(
      "conflict",
      `key ${r.signer} was already rotated to ${old.replacedBy} on ${old.statusAt}; a key is rotated once`,
    );
  }
  if (current) {
    throw apiError(
      "conflict",
      `the new key ${newId} is already registered (lineage ${current.lineage}); rotate to a freshly made key`,
    );
  }
  if (use.kind === "other") throw nonceReused(nonce, use.action, use.target);

  const at = r.now.toISOString();
  const lineage = old?.lineage ?? r.signer;
  try {
    await db.batch([
      ...rotationWrites(db, {
        at,
        oldKey: { id: r.signer, publicKey: oldPublicKey, known: old !== undefined },
        newKey: { id: newId, publicKey: newPublicKey },
        lineage,
      }),
      keyAudit(db, {
        at,
        actor: r.signer,
        action: "key.rotate",
        target: `key:${r.signer}`,
        reason: null,
        details: { record: r.id, nonce, envelope: r.envelope, newDeviceId: newId, lineage },
      }),
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw apiError("conflict", `key ${r.signer} or ${newId} changed while this rotation was handled; try again`);
    }
    throw error;
  }
  const firstSeenAt = old?.firstSeenAt ?? at;
  return {
    record: r.id,
    applied: true,
    key: {
      deviceId: r.signer,
      publicKey: oldPublicKey,
      status: "rotated",
      statusAt: at,
      lineage,
      replacedBy: newId,
      firstSeenAt,
    },
    newKey: {
      deviceId: newId,
      publicKey: newPublicKey,
      status: "active",
      statusAt: null,
      lineage,
      replacedBy: null,
      firstSeenAt: at,
    },
  };
}

async function revoke(db: Database, r: SignedRecord<KeyRevocation>): Promise<KeyRevocationResponse> {
  const { reason, nonce } = r.payload;
  const targetId = r.payload.deviceId ?? r.signer;
  const self = targetId === r.signer;
  const [signerRows, targetRows, uses, runCount] = await db.batch([
    keyQuery(db, r.signer),
    keyQuery(db, targetId),
    nonceUsesQuery(db, r.signer, nonce),
    runCountQuery(db, targetId),
  ]);
  const signer = signerRows[0];
  const target = targetRows[0];
  const use = nonceUse(uses, r.id);
  if (use.kind === "same" && target?.status === "revoked") {
    return { record: r.id, applied: false, key: toKeyInfo(target), flaggedRuns: 0 };
  }
  // A revoked key signs nothing more, not even a second revocation of itself.
  if (signer?.status === "revoked") {
    throw apiError("key_revoked", `key ${r.signer} was revoked on ${signer.statusAt}; it signs nothing more`);
  }
  if (!self) {
    // A rotated key may still revoke itself (its holder reporting a leak), never the key after it.
    if (signer?.status === "rotated") {
      throw apiError(
        "key_rotated",
        `key ${r.signer} was replaced by ${signer.replacedBy}; sign with the new key to revoke another key`,
      );
    }
    if (!target) throw apiError("not_found", `no key with device id ${targetId}`);
    if ((signer?.lineage ?? r.signer) !== target.lineage) {
      throw apiError(
        "forbidden",
        `key ${targetId} belongs to another submitter; a key can revoke only itself or an older key of its own lineage`,
      );
    }
  }
  if (target?.status === "revoked") {
    throw apiError("conflict", `key ${targetId} was already revoked on ${target.statusAt}`);
  }
  if (use.kind === "other") throw nonceReused(nonce, use.action, use.target);

  const at = r.now.toISOString();
  const flagged = runCount[0]?.n ?? 0;
  await db.batch([
    ...revocationWrites(db, {
      at,
      // An unknown target is always the signer itself (another key's target was checked above).
      key: { id: targetId, publicKey: target?.publicKey ?? r.envelope.publicKey, known: target !== undefined },
      reason,
    }),
    keyAudit(db, {
      at,
      actor: r.signer,
      action: "key.revoke",
      target: `key:${targetId}`,
      reason,
      details: { record: r.id, nonce, envelope: r.envelope, flaggedRuns: flagged },
    }),
  ]);
  return {
    record: r.id,
    applied: true,
    key: {
      deviceId: targetId,
      publicKey: target?.publicKey ?? r.envelope.publicKey,
      status: "revoked",
      statusAt: at,
      lineage: target?.lineage ?? targetId,
      replacedBy: target?.replacedBy ?? null,
      firstSeenAt: target?.firstSeenAt ?? at,
    },
    flaggedRuns: flagged,
  };
}

export const keysRoute = new Hono<AppEnv>()
  .post("/rotate", rateLimitedByAddress, ...signedEnvelope, rateLimitedByKey, async (c) => {
    const record = await signedRecord(c.get("envelope"), c.get("deviceId"), KeyRotation, "key rotation");
    return c.json(await rotate(c.var.db, record));
  })
  .post("/revoke", rateLimitedByAddress, ...signedEnvelope, rateLimitedByKey, async (c) => {
    const record = await signedRecord(c.get("envelope"), c.get("deviceId"), KeyRevocation, "key revocation");
    return c.json(await revoke(c.var.db, record));
  })
  .get("/:deviceId", async (c) => {
    const id = c.req.param("deviceId");
    const [row] = DeviceId.safeParse(id).success ? await keyQuery(c.var.db, id) : [];
    if (!row) throw apiError("not_found", `no key with device id ${JSON.stringify(id.slice(0, 64))}`);
    return c.json(toKeyInfo(row));
  });
