// Device keys and the records they sign: rotation (with the new key's proof), revocation, retraction;
// that no key can act on another submitter's key or runs (BOLA); that every action has its audit row
// and every refusal writes nothing; and that resends change nothing.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ErrorBody, RunDetail, SubmitResponse } from "../../schema/api.ts";
import {
  KeyInfo,
  KeyRevocationResponse,
  KeyRotationResponse,
  keyRevocationRecord,
  keyRotationRecord,
  RetractionResponse,
  retractionRecord,
} from "../../schema/key-records.ts";
import { deviceIdOf, type Envelope, generateKeyPair, type KeyPair, signPayload } from "../../schema/signing.ts";
import { type BundleOptions, makeBundle } from "../support/bundles.ts";
import { call, keyTablesSnapshot } from "./helpers.ts";

function post(path: string, body: unknown): Promise<Response> {
  return call(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function expectError(res: Response, status: number, code: string): Promise<string> {
  const body = ErrorBody.parse(await res.json());
  expect({ status: res.status, code: body.error.code }, body.error.message).toEqual({ status, code });
  return body.error.message;
}

const sign = (payload: Record<string, unknown>, key: KeyPair) => signPayload(payload, key.privateKey);

async function submit(key: KeyPair, options: BundleOptions = {}): Promise<SubmitResponse> {
  const res = await post("/v1/runs", await sign(makeBundle(options), key));
  expect(res.status).toBe(201);
  return SubmitResponse.parse(await res.json());
}

async function rotationBy(oldKey: KeyPair, newKey: KeyPair): Promise<Envelope> {
  return sign(await keyRotationRecord(oldKey.publicKey, newKey.privateKey), oldKey);
}

async function runDetail(id: string): Promise<RunDetail> {
  const res = await call(`/v1/runs/${id}`);
  expect(res.status).toBe(200);
  return RunDetail.parse(await res.json());
}

async function keyInfo(key: KeyPair): Promise<KeyInfo> {
  const res = await call(`/v1/keys/${await deviceIdOf(key.publicKey)}`);
  expect(res.status).toBe(200);
  return KeyInfo.parse(await res.json());
}

const snapshot = keyTablesSnapshot;

interface AuditRow {
  actor: string;
  action: string;
  target: string;
  reason: string | null;
  details: string;
}
async function auditRows(): Promise<AuditRow[]> {
  return (
    await env.DB.prepare("select actor, action, target, reason, details from audit_log order by id").all<AuditRow>()
  ).results;
}

describe("rotation", () => {
  it("moves the submitter to the new key: the old key's new runs are refused, the new key's count as the same lineage", async () => {
    const [a, b, c] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    const aId = await deviceIdOf(a.publicKey);
    const bId = await deviceIdOf(b.publicKey);
    const first = await submit(a, { decodeTps: 10 });

    const res = await post("/v1/keys/rotate", await rotationBy(a, b));
    expect(res.status).toBe(200);
    const answer = KeyRotationResponse.parse(await res.json());
    expect(answer.applied).toBe(true);
    expect(answer.key).toMatchObject({ deviceId: aId, status: "rotated", replacedBy: bId, lineage: aId });
    expect(answer.newKey).toMatchObject({ deviceId: bId, status: "active", replacedBy: null, lineage: aId });
    expect(await keyInfo(a)).toEqual(answer.key);
    expect(await keyInfo(b)).toEqual(answer.newKey);

    const refused = await post("/v1/runs", await sign(makeBundle({ decodeTps: 10, notes: "old key" }), a));
    expect(await expectError(refused, 403, "key_rotated")).toContain(bId);

    // The new key's run in the same cell is the same submitter: no reproduction yet…
    const second = await submit(b, { decodeTps: 10.5 });
    expect((await runDetail(second.id)).run.reproduction).toBe("single");
    // …until an independent key agrees.
    const third = await submit(c, { decodeTps: 10.2 });
    expect((await runDetail(first.id)).run.reproduction).toBe("reproduced");
    expect((await runDetail(third.id)).run.reproduction).toBe("reproduced");

    const audit = await auditRows();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: aId, action: "key.rotate", target: `key:${aId}`, reason: null });
    expect(JSON.parse(audit[0]?.details ?? "{}")).toMatchObject({ record: answer.record, newDeviceId: bId });
  });

  it("registers a key it has never seen (trust on first use) and chains a second rotation in the same lineage", async () => {
    const [a, b, c] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    const aId = await deviceIdOf(a.publicKey);
    expect((await post("/v1/keys/rotate", await rotationBy(a, b))).status).toBe(200);
    expect((await post("/v1/keys/rotate", await rotationBy(b, c))).status).toBe(200);
    expect(await keyInfo(a)).toMatchObject({ status: "rotated", lineage: aId });
    expect(await keyInfo(b)).toMatchObject({
      status: "rotated",
      lineage: aId,
      replacedBy: await deviceIdOf(c.publicKey),
    });
    expect(await keyInfo(c)).toMatchObject({ status: "active", lineage: aId });
  });

  it("refuses a proof not made by the new key (403 forbidden) and writes nothing", async () => {
    const [a, b, mallory] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    await submit(a);
    const before = await snapshot();
    // A valid proof, but by another key than the one named.
    const stolen = { ...(await keyRotationRecord(a.publicKey, mallory.privateKey)), newPublicKey: b.publicKey };
    const message = await expectError(await post("/v1/keys/rotate", await sign(stolen, a)), 403, "forbidden");
    expect(message).toContain("proof");
    // A proof by the right key over another old key.
    const elsewhere = await keyRotationRecord(mallory.publicKey, b.privateKey);
    await expectError(await post("/v1/keys/rotate", await sign(elsewhere, a)), 403, "forbidden");
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a malformed or missing proof as an invalid request naming the field", async () => {
    const [a, b] = [await generateKeyPair(), await generateKeyPair()];
    const { proof: _, ...noProof } = await keyRotationRecord(a.publicKey, b.privateKey);
    const res = await post("/v1/keys/rotate", await sign(noProof, a));
    expect(res.status).toBe(400);
    const body = ErrorBody.parse(await res.json());
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.details?.map((d) => d.path)).toContain("payload.proof");
    const self = await keyRotationRecord(a.publicKey, a.privateKey);
    await expectError(await post("/v1/keys/rotate", await sign(self, a)), 400, "invalid_request");
    expect((await snapshot()).devices).toEqual([]);
  });

  it("answers a resend of the same bytes with 200 and no writes; another record for the rotated key is a 409 conflict", async () => {
    const [a, b, c] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    const envelope = await rotationBy(a, b);
    const first = KeyRotationResponse.parse(await (await post("/v1/keys/rotate", envelope)).json());
    const before = await snapshot();
    const again = await post("/v1/keys/rotate", envelope);
    expect(again.status).toBe(200);
    expect(KeyRotationResponse.parse(await again.json())).toEqual({ ...first, applied: false });
    expect(await snapshot()).toEqual(before);
    await expectError(await post("/v1/keys/rotate", await rotationBy(a, c)), 409, "conflict");
    expect(await snapshot()).toEqual(before);
  });

  it("refuses to rotate to a key that is already registered (409 conflict)", async () => {
    const [a, b] = [await generateKeyPair(), await generateKeyPair()];
    await submit(a);
    await submit(b, { notes: "b's own run" });
    const before = await snapshot();
    const message = await expectError(await post("/v1/keys/rotate", await rotationBy(a, b)), 409, "conflict");
    expect(message).toContain("already registered");
    expect(await snapshot()).toEqual(before);
  });
});

describe("revocation", () => {
  it("flags the key's earlier runs, refuses its later ones, and writes its audit row", async () => {
    const a = await generateKeyPair();
    const aId = await deviceIdOf(a.publicKey);
    const one = await submit(a, { decodeTps: 10 });
    const two = await submit(a, { decodeTps: 12, model: "Other-Model-1B" });
    const res = await post("/v1/keys/revoke", await sign(keyRevocationRecord("laptop stolen"), a));
    expect(res.status).toBe(200);
    const answer = KeyRevocationResponse.parse(await res.json());
    expect(answer).toMatchObject({ applied: true, flaggedRuns: 2, key: { deviceId: aId, status: "revoked" } });
    expect(await keyInfo(a)).toEqual(answer.key);

    for (const id of [one.id, two.id]) {
      const { run } = await runDetail(id);
      const flag = run.flags.find((f) => f.code === "key_revoked");
      expect(flag?.reason).toMatch(/^signed by a key revoked on \d{4}-\d\d-\d\d: laptop stolen$/);
      expect(flag?.rankApart).toBe(false);
      expect(run.rankedApart).toBe(false);
    }
    const later = await post("/v1/runs", await sign(makeBundle({ notes: "after" }), a));
    await expectError(later, 403, "key_revoked");
    expect(await auditRows()).toMatchObject([
      { actor: aId, action: "key.revoke", target: `key:${aId}`, reason: "laptop stolen" },
    ]);
  });

  it("lets the key a device rotated to revoke its old key, and nobody else's", async () => {
    const [a, b, c] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    const aId = await deviceIdOf(a.publicKey);
    const bId = await deviceIdOf(b.publicKey);
    const run = await submit(a);
    await post("/v1/keys/rotate", await rotationBy(a, b));
    await submit(c, { notes: "c" });

    // The old, rotated key cannot revoke the key after it.
    const before = await snapshot();
    await expectError(await post("/v1/keys/revoke", await sign(keyRevocationRecord("x", bId), a)), 403, "key_rotated");
    // Another submitter cannot revoke either.
    await expectError(await post("/v1/keys/revoke", await sign(keyRevocationRecord("x", aId), c)), 403, "forbidden");
    await expectError(
      await post("/v1/keys/revoke", await sign(keyRevocationRecord("x", "0".repeat(24)), c)),
      404,
      "not_found",
    );
    expect(await snapshot()).toEqual(before);

    const res = await post("/v1/keys/revoke", await sign(keyRevocationRecord("old disk lost", aId), b));
    expect(res.status).toBe(200);
    expect((await keyInfo(a)).status).toBe("revoked");
    expect((await keyInfo(b)).status).toBe("active");
    expect((await runDetail(run.id)).run.flags.map((f) => f.code)).toContain("key_revoked");
    expect((await auditRows()).at(-1)).toMatchObject({ actor: bId, action: "key.revoke", target: `key:${aId}` });
  });

  it("answers a resend with 200 and no writes; a new record for the revoked key is refused", async () => {
    const [a, b] = [await generateKeyPair(), await generateKeyPair()];
    await submit(a);
    await post("/v1/keys/rotate", await rotationBy(a, b));
    const envelope = await sign(keyRevocationRecord("retired", await deviceIdOf(a.publicKey)), b);
    expect((await post("/v1/keys/revoke", envelope)).status).toBe(200);
    const before = await snapshot();
    const again = await post("/v1/keys/revoke", envelope);
    expect(again.status).toBe(200);
    expect(KeyRevocationResponse.parse(await again.json())).toMatchObject({ applied: false, flaggedRuns: 0 });
    const other = await sign(keyRevocationRecord("again", await deviceIdOf(a.publicKey)), b);
    await expectError(await post("/v1/keys/revoke", other), 409, "conflict");
    // The revoked key itself signs nothing more, not even its own revocation.
    await expectError(await post("/v1/keys/revoke", await sign(keyRevocationRecord("me"), a)), 403, "key_revoked");
    expect(await snapshot()).toEqual(before);
  });

  it("lets a rotated key revoke itself (its holder reporting a leak), flagging its runs", async () => {
    const [a, b] = [await generateKeyPair(), await generateKeyPair()];
    const run = await submit(a);
    await post("/v1/keys/rotate", await rotationBy(a, b));
    expect((await post("/v1/keys/revoke", await sign(keyRevocationRecord("old key leaked"), a))).status).toBe(200);
    expect(await keyInfo(a)).toMatchObject({ status: "revoked", replacedBy: await deviceIdOf(b.publicKey) });
    expect((await keyInfo(b)).status).toBe("active");
    expect((await runDetail(run.id)).run.flags.map((f) => f.code)).toContain("key_revoked");
  });

  it("registers a never-seen key as revoked, so it can be shut out before anyone submits with it", async () => {
    const a = await generateKeyPair();
    expect((await post("/v1/keys/revoke", await sign(keyRevocationRecord("leaked before first use"), a))).status).toBe(
      200,
    );
    await expectError(await post("/v1/runs", await sign(makeBundle(), a)), 403, "key_revoked");
  });
});

describe("retraction", () => {
  it("retracts the signer's own run: status retracted, ranked apart, no longer counted for reproduction", async () => {
    const [a, c] = [await generateKeyPair(), await generateKeyPair()];
    const aId = await deviceIdOf(a.publicKey);
    const mine = await submit(a, { decodeTps: 10 });
    const theirs = await submit(c, { decodeTps: 10.1 });
    expect((await runDetail(theirs.id)).run.reproduction).toBe("reproduced");

    const res = await post("/v1/retractions", await sign(retractionRecord(mine.id, "wrong thread count"), a));
    expect(res.status).toBe(200);
    const answer = RetractionResponse.parse(await res.json());
    expect(answer).toMatchObject({ applied: true, runId: mine.id, reason: "wrong thread count" });
    const { run } = await runDetail(mine.id);
    expect(run).toMatchObject({ status: "retracted", statusReason: "wrong thread count", rankedApart: true });
    expect((await runDetail(theirs.id)).run.reproduction).toBe("single");
    expect(await auditRows()).toMatchObject([
      { actor: aId, action: "run.retract", target: `run:${mine.id}`, reason: "wrong thread count" },
    ]);
  });

  it("refuses another key's run with 403 forbidden and writes nothing", async () => {
    const [a, b] = [await generateKeyPair(), await generateKeyPair()];
    const victim = await submit(b);
    await submit(a, { notes: "a's own" });
    const before = await snapshot();
    const message = await expectError(
      await post("/v1/retractions", await sign(retractionRecord(victim.id, "mine now"), a)),
      403,
      "forbidden",
    );
    expect(message).toContain("lineage");
    expect(await snapshot()).toEqual(before);
    expect((await runDetail(victim.id)).run.status).toBe("visible");
  });

  it("lets the key a device rotated to retract the old key's run; the rotated key itself may not", async () => {
    const [a, b] = [await generateKeyPair(), await generateKeyPair()];
    const run = await submit(a);
    await post("/v1/keys/rotate", await rotationBy(a, b));
    await expectError(await post("/v1/retractions", await sign(retractionRecord(run.id, "x"), a)), 403, "key_rotated");
    expect((await post("/v1/retractions", await sign(retractionRecord(run.id, "superseded"), b))).status).toBe(200);
    expect((await runDetail(run.id)).run.status).toBe("retracted");
  });

  it("404 for an unknown run; 200 and no writes for a resend; 409 for a second retraction or a reused nonce", async () => {
    const a = await generateKeyPair();
    const one = await submit(a);
    const two = await submit(a, { notes: "two" });
    await expectError(
      await post("/v1/retractions", await sign(retractionRecord("f".repeat(24), "x"), a)),
      404,
      "not_found",
    );
    const envelope = await sign(retractionRecord(one.id, "mistake"), a);
    expect((await post("/v1/retractions", envelope)).status).toBe(200);
    const before = await snapshot();
    const again = await post("/v1/retractions", envelope);
    expect(again.status).toBe(200);
    expect(RetractionResponse.parse(await again.json()).applied).toBe(false);
    await expectError(await post("/v1/retractions", await sign(retractionRecord(one.id, "again"), a)), 409, "conflict");
    const reused = { ...retractionRecord(two.id, "other run, same nonce"), nonce: envelope.payload.nonce };
    await expectError(await post("/v1/retractions", await sign(reused, a)), 409, "nonce_reused");
    expect(await snapshot()).toEqual(before);
  });
});

describe("BOLA: key A cannot act on key B or B's runs", () => {
  it("cannot retract, rotate into, or revoke B's, and nothing is written", async () => {
    const [a, b] = [await generateKeyPair(), await generateKeyPair()];
    const bId = await deviceIdOf(b.publicKey);
    const bRun = await submit(b);
    await submit(a, { notes: "a" });
    const before = await snapshot();
    await expectError(await post("/v1/retractions", await sign(retractionRecord(bRun.id, "x"), a)), 403, "forbidden");
    await expectError(await post("/v1/keys/revoke", await sign(keyRevocationRecord("x", bId), a)), 403, "forbidden");
    // Naming B's key as A's successor needs B's proof; without it, refused…
    const forged = { ...(await keyRotationRecord(a.publicKey, a.privateKey)), newPublicKey: b.publicKey };
    await expectError(await post("/v1/keys/rotate", await sign(forged, a)), 403, "forbidden");
    // …and even with it (B cooperating), B stays its own submitter.
    await expectError(await post("/v1/keys/rotate", await rotationBy(a, b)), 409, "conflict");
    expect(await snapshot()).toEqual(before);
    expect(await keyInfo(b)).toMatchObject({ status: "active", lineage: bId });
  });
});

describe("the creation window of key records", () => {
  const hour = 3_600_000;
  for (const [when, offset] of [
    ["an hour ahead", hour],
    ["two days old", -48 * hour],
  ] as const) {
    it(`refuses records created ${when} with 422 on every route`, async () => {
      const [a, b] = [await generateKeyPair(), await generateKeyPair()];
      const run = await submit(a);
      const at = new Date(Date.now() + offset);
      const before = await snapshot();
      const records = [
        ["/v1/keys/rotate", await keyRotationRecord(a.publicKey, b.privateKey, at)],
        ["/v1/keys/revoke", keyRevocationRecord("x", undefined, at)],
        ["/v1/retractions", retractionRecord(run.id, "x", at)],
      ] as const;
      for (const [path, record] of records) {
        const res = await post(path, await sign(record, a));
        expect(res.status, path).toBe(422);
        const body = ErrorBody.parse(await res.json());
        expect(body.error.code).toBe("created_out_of_window");
        expect(body.error.details?.[0]?.path).toBe("payload.createdAt");
      }
      expect(await snapshot()).toEqual(before);
    });
  }
});

describe("GET /v1/keys/:deviceId", () => {
  it("404 for an unknown or malformed device id", async () => {
    await expectError(await call(`/v1/keys/${"a".repeat(24)}`), 404, "not_found");
    await expectError(await call("/v1/keys/not-an-id"), 404, "not_found");
  });
});
