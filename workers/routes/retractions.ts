// A signed retraction: the submitter withdraws one of their runs. Only a key of the run's lineage
// (the key that signed it, or the key it was rotated to) may; the run stays readable, marked
// retracted with the reason, ranked apart and no longer counted for reproduction.
import { Hono } from "hono";
import { Retraction, type RetractionResponse } from "../../schema/key-records.ts";
import type { Database } from "../db/database.ts";
import { keyAudit, keyQuery, nonceUse, nonceUsesQuery, retractableRunQuery, retractionWrite } from "../db/keys.ts";
import { cellRunsQuery, cellWrites, refreshStaleCells, reproductionOf } from "../db/runs.ts";
import type { AppEnv } from "../env.ts";
import { apiError } from "../errors.ts";
import { rateLimitedByAddress, rateLimitedByKey } from "../middleware/rate-limit.ts";
import { signedEnvelope } from "../middleware/signed-envelope.ts";
import { publicBase } from "../public-url.ts";
import { type SignedRecord, signedRecord } from "../signed-record.ts";

async function retract(db: Database, r: SignedRecord<Retraction>, base: string): Promise<RetractionResponse> {
  const { runId, reason, nonce } = r.payload;
  const [signerRows, runRows, uses] = await db.batch([
    keyQuery(db, r.signer),
    retractableRunQuery(db, runId),
    nonceUsesQuery(db, r.signer, nonce),
  ]);
  const signer = signerRows[0];
  const run = runRows[0];
  if (!run) throw apiError("not_found", `no run with id ${runId}`);
  const url = `${base}/runs/${run.id}/`;
  const use = nonceUse(uses, r.id);
  if (use.kind === "same" && run.retractedAt) {
    return {
      record: r.id,
      applied: false,
      runId,
      url,
      retractedAt: run.retractedAt,
      reason: run.retractionReason ?? "",
    };
  }
  if (signer?.status === "revoked") {
    throw apiError("key_revoked", `key ${r.signer} was revoked on ${signer.statusAt}; it cannot retract runs`);
  }
  if (signer?.status === "rotated") {
    throw apiError("key_rotated", `key ${r.signer} was replaced by ${signer.replacedBy}; sign with the new key`);
  }
  // BOLA: the check is on the lineage stored with the run's key, never on anything the request says.
  if ((signer?.lineage ?? r.signer) !== run.lineage) {
    throw apiError(
      "forbidden",
      `run ${runId} was submitted by another key (${run.deviceId}); only a key of its own lineage can retract it`,
    );
  }
  if (run.retractedAt) throw apiError("conflict", `run ${runId} was already retracted on ${run.retractedAt}`);
  if (use.kind === "other") {
    throw apiError(
      "nonce_reused",
      `nonce ${JSON.stringify(nonce)} was already used by this key for another record (${use.action} ${use.target}): a replay`,
    );
  }

  const at = r.now.toISOString();
  // The cell without this run, written in the same batch: the reproduction level stops counting it
  // in the same transaction that retracts it.
  const cellState = reproductionOf(await cellRunsQuery(db, [run.cell], { except: run.id }));
  const written = await db.batch([
    retractionWrite(db, run.id, at, reason),
    keyAudit(db, {
      at,
      actor: r.signer,
      action: "run.retract",
      target: `run:${run.id}`,
      reason,
      details: { record: r.id, nonce, envelope: r.envelope, runDeviceId: run.deviceId },
    }),
    ...cellWrites(db, run.cell, cellState, at),
  ]);
  await refreshStaleCells(db, new Map([[run.cell, cellState]]), written.at(-1), at);
  return { record: r.id, applied: true, runId, url, retractedAt: at, reason };
}

export const retractionsRoute = new Hono<AppEnv>().post(
  "/",
  rateLimitedByAddress,
  ...signedEnvelope,
  rateLimitedByKey,
  async (c) => {
    const record = await signedRecord(c.get("envelope"), c.get("deviceId"), Retraction, "retraction");
    return c.json(await retract(c.var.db, record, publicBase(c)));
  },
);
