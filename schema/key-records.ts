// Signed key records: a rotation (the old key names the new one), a revocation, and the retraction of a
// run. Each is the payload of an ordinary signed envelope (schema/signing.ts); the signing key is the
// actor. The Worker validates with these schemas, the CLI builds with them, the OpenAPI document is
// generated from them.
import * as z from "zod";
import type { KEY_STATUSES } from "./db.ts";
import { Envelope, fromBase64Url, type PrivateKeyJwk, toBase64Url } from "./signing.ts";

export const KEY_ROTATION_SCHEMA_V1 = "edgebench.key-rotation/v1";
export const KEY_REVOCATION_SCHEMA_V1 = "edgebench.key-revocation/v1";
export const RETRACTION_SCHEMA_V1 = "edgebench.retraction/v1";
/** Domain separation: a rotation proof can never be mistaken for (or replayed as) any other signature. */
export const ROTATION_PROOF_PREFIX = "edgebench.rotation-proof/v1:";

// The same wire formats as the envelope's own members.
const PublicKeyText = Envelope.shape.publicKey;
const SignatureText = Envelope.shape.signature;

/** A device id: the first 24 hex digits of the sha256 of the raw public key (deviceIdOf). */
export const DeviceId = z.string().regex(/^[0-9a-f]{24}$/, "must be a device id (24 lowercase hex digits)");
/** A run id: the first 24 hex digits of the sha256 of the run's canonical envelope (runIdOf). */
export const RunIdText = z.string().regex(/^[0-9a-f]{24}$/, "must be a run id (24 lowercase hex digits)");

/** When the record was signed; the registry refuses records too far ahead of its clock or too old. */
const CreatedAt = z.iso.datetime({ offset: true });
/** Unique per signing key: the same nonce with other bytes is a replay. Same alphabet as a bundle's nonce. */
const Nonce = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "must be 8 to 64 characters of [A-Za-z0-9_-]");
const Reason = z
  .string()
  .trim()
  .min(1, "must say why")
  .max(500, "must be at most 500 characters")
  .describe("Why, in a sentence; shown publicly with the key or run and in the audit log");

/**
 * Signed by the OLD key. `proof` is the NEW key's signature over `edgebench.rotation-proof/v1:<old
 * public key>`, so nobody can rotate to (and so take over the submitter identity of) a key whose
 * private half they do not hold. After it, the old key signs nothing more and the new key is the same
 * submitter (lineage). Rotating a key the registry has never seen registers it first (trust on first
 * use).
 */
export const KeyRotation = z
  .strictObject({
    schema: z.literal(KEY_ROTATION_SCHEMA_V1),
    newPublicKey: PublicKeyText,
    proof: SignatureText.describe(
      `the new key's Ed25519 signature (base64url) over the UTF-8 string "${ROTATION_PROOF_PREFIX}<old public key>"`,
    ),
    createdAt: CreatedAt,
    nonce: Nonce,
  })
  .meta({ id: "KeyRotation" });
export type KeyRotation = z.infer<typeof KeyRotation>;

/**
 * Signed either by the key being revoked, or by the active key of the same lineage (the key a device
 * rotated to can revoke an older key of its own, e.g. one left on a lost disk). `deviceId` names the
 * key to revoke; absent, it is the signing key. A rotated key may still revoke itself (its holder
 * reporting a leak), but nothing else. Revoking a key the registry has never seen registers it as
 * revoked, so a leaked key can be shut out before anyone submits with it. Runs the key signed before
 * are kept and flagged `key_revoked`; runs it signs afterwards are refused.
 */
export const KeyRevocation = z
  .strictObject({
    schema: z.literal(KEY_REVOCATION_SCHEMA_V1),
    deviceId: DeviceId.optional().describe("The key to revoke; defaults to the signing key"),
    reason: Reason,
    createdAt: CreatedAt,
    nonce: Nonce,
  })
  .meta({ id: "KeyRevocation" });
export type KeyRevocation = z.infer<typeof KeyRevocation>;

/**
 * Signed by the key that signed the run, or by another key of its lineage (the key it was rotated to).
 * The run stays readable, marked retracted with the reason, and is ranked apart and no longer counted
 * for reproduction.
 */
export const Retraction = z
  .strictObject({
    schema: z.literal(RETRACTION_SCHEMA_V1),
    runId: RunIdText,
    reason: Reason,
    createdAt: CreatedAt,
    nonce: Nonce,
  })
  .meta({ id: "Retraction" });
export type Retraction = z.infer<typeof Retraction>;

// ---------------------------------------------------------------------------------------------
// answers

export const KeyStatus = z
  .enum(["active", "rotated", "revoked"] as const satisfies typeof KEY_STATUSES)
  .meta({ id: "KeyStatus" });

/** GET /v1/keys/:deviceId, and each key named in the answers below. */
export const KeyInfo = z
  .strictObject({
    deviceId: DeviceId,
    publicKey: PublicKeyText,
    status: KeyStatus,
    /** When the key was rotated or revoked; null while active. */
    statusAt: z.string().nullable(),
    /** The device id of the first key of the rotation chain: keys of one lineage are one submitter. */
    lineage: DeviceId,
    /** For a rotated key, the device id of the key that replaced it. */
    replacedBy: DeviceId.nullable(),
    firstSeenAt: z.string(),
  })
  .meta({ id: "KeyInfo" });
export type KeyInfo = z.infer<typeof KeyInfo>;

/** Common to every answer to a signed key record. */
const RecordAnswer = {
  /** The record's id: the first 24 hex digits of the sha256 of its canonical envelope (as for runs). */
  record: z.string(),
  /** False when these exact bytes were accepted before: a resend changes nothing. */
  applied: z.boolean(),
};

export const KeyRotationResponse = z
  .strictObject({
    ...RecordAnswer,
    /** The old key, now rotated. */
    key: KeyInfo,
    /** The new key, active, of the same lineage. */
    newKey: KeyInfo,
  })
  .meta({ id: "KeyRotationResponse" });
export type KeyRotationResponse = z.infer<typeof KeyRotationResponse>;

export const KeyRevocationResponse = z
  .strictObject({
    ...RecordAnswer,
    key: KeyInfo,
    /** Runs this request flagged `key_revoked` (0 on a resend). */
    flaggedRuns: z.number().int().nonnegative(),
  })
  .meta({ id: "KeyRevocationResponse" });
export type KeyRevocationResponse = z.infer<typeof KeyRevocationResponse>;

export const RetractionResponse = z
  .strictObject({
    ...RecordAnswer,
    runId: RunIdText,
    url: z.string(),
    retractedAt: z.string(),
    reason: z.string(),
  })
  .meta({ id: "RetractionResponse" });
export type RetractionResponse = z.infer<typeof RetractionResponse>;

// ---------------------------------------------------------------------------------------------
// the rotation proof

const ED25519 = { name: "Ed25519" } as const;
const proofMessage = (oldPublicKey: string) => new TextEncoder().encode(`${ROTATION_PROOF_PREFIX}${oldPublicKey}`);

/** The new key's signature over the old public key: made on the device that holds the new key. */
export async function createRotationProof(oldPublicKey: string, newPrivateKey: PrivateKeyJwk): Promise<string> {
  const { kty, crv, d, x } = newPrivateKey;
  const key = await crypto.subtle.importKey("jwk", { kty, crv, d, x }, ED25519, false, ["sign"]);
  return toBase64Url(new Uint8Array(await crypto.subtle.sign(ED25519, key, proofMessage(oldPublicKey))));
}

/** True only if `proof` is `newPublicKey`'s signature over the proof message for `oldPublicKey`. Never throws. */
export async function checkRotationProof(oldPublicKey: string, newPublicKey: string, proof: string): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey("raw", fromBase64Url(newPublicKey), ED25519, false, ["verify"]);
    return await crypto.subtle.verify(ED25519, key, fromBase64Url(proof), proofMessage(oldPublicKey));
  } catch {
    return false;
  }
}

/** A fresh nonce for a record: 16 random bytes, base64url (22 characters). */
export function newNonce(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
}

// ---------------------------------------------------------------------------------------------
// building records (the CLI, the tests)

/** A rotation payload, to be signed by the old key; the proof is made here with the new private key. */
export async function keyRotationRecord(
  oldPublicKey: string,
  newPrivateKey: PrivateKeyJwk,
  now = new Date(),
): Promise<KeyRotation> {
  return {
    schema: KEY_ROTATION_SCHEMA_V1,
    newPublicKey: newPrivateKey.x,
    proof: await createRotationProof(oldPublicKey, newPrivateKey),
    createdAt: now.toISOString(),
    nonce: newNonce(),
  };
}

/** A revocation payload; without `deviceId` it revokes the key that signs it. */
export function keyRevocationRecord(reason: string, deviceId?: string, now = new Date()): KeyRevocation {
  return {
    schema: KEY_REVOCATION_SCHEMA_V1,
    ...(deviceId === undefined ? {} : { deviceId }),
    reason,
    createdAt: now.toISOString(),
    nonce: newNonce(),
  };
}

export function retractionRecord(runId: string, reason: string, now = new Date()): Retraction {
  return { schema: RETRACTION_SCHEMA_V1, runId, reason, createdAt: now.toISOString(), nonce: newNonce() };
}
