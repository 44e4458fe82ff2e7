// Signing and verification of result bundles: RFC 8785 canonical JSON, Ed25519 through WebCrypto.
// One implementation for Node and workerd: only globalThis.crypto.subtle, TextEncoder, btoa and atob.
import canonicalize from "canonicalize";
import * as z from "zod";

export const ENVELOPE_SCHEMA_V1 = "edgebench.envelope/v1";

const ED25519 = { name: "Ed25519" } as const;
const encoder = new TextEncoder();

/** UTF-8 bytes on an ArrayBuffer of their own, as WebCrypto's types want. */
const utf8 = (text: string): Uint8Array<ArrayBuffer> => new Uint8Array(encoder.encode(text));

/** RFC 8785 (JCS) serialization: the exact bytes that are signed and hashed. */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError("value has no JSON representation");
  return out;
}

export function toBase64Url(data: Uint8Array): string {
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError("not base64url");
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

export function toHex(data: Uint8Array): string {
  let out = "";
  for (const b of data) out += HEX[b];
  return out;
}

export async function sha256Hex(data: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const input = typeof data === "string" ? utf8(data) : data;
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", input)));
}

// 32-byte raw Ed25519 public key and 64-byte signature, base64url without padding.
const PublicKeyText = z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be a 32-byte Ed25519 public key in base64url");
const SignatureText = z.string().regex(/^[A-Za-z0-9_-]{86}$/, "must be a 64-byte Ed25519 signature in base64url");

/** What travels over the wire: the payload, who signed it, and the signature over its canonical bytes. */
export const Envelope = z.strictObject({
  schema: z.literal(ENVELOPE_SCHEMA_V1),
  payload: z.record(z.string(), z.unknown()),
  publicKey: PublicKeyText,
  signature: SignatureText,
});
export type Envelope = z.infer<typeof Envelope>;

/**
 * A private key as stored on a device: a JWK of exactly these four members. Node adds `alg: "Ed25519"`
 * on export, which workerd refuses on import, so other members are dropped.
 */
export const PrivateKeyJwk = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  d: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  x: PublicKeyText,
});
export type PrivateKeyJwk = z.infer<typeof PrivateKeyJwk>;

export interface KeyPair {
  publicKey: string;
  privateKey: PrivateKeyJwk;
}

export async function generateKeyPair(): Promise<KeyPair> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return { publicKey: toBase64Url(raw), privateKey: PrivateKeyJwk.parse(jwk) };
}

/** The device id is derived from the public key, so nobody can claim another device's id. */
export async function deviceIdOf(publicKey: string): Promise<string> {
  return (await sha256Hex(fromBase64Url(publicKey))).slice(0, 24);
}

export async function signPayload(payload: Record<string, unknown>, privateKey: PrivateKeyJwk): Promise<Envelope> {
  const { kty, crv, d, x } = privateKey;
  const key = await crypto.subtle.importKey("jwk", { kty, crv, d, x }, ED25519, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign(ED25519, key, utf8(canonicalJson(payload))));
  return { schema: ENVELOPE_SCHEMA_V1, payload, publicKey: privateKey.x, signature: toBase64Url(signature) };
}

export type VerifyResult = { ok: true; deviceId: string } | { ok: false; reason: string };

/** Checks the signature over the payload's canonical bytes. Never throws on hostile input. */
export async function verifyEnvelope(envelope: Envelope): Promise<VerifyResult> {
  const verdict = await verifyCanonical(envelope);
  return verdict.ok ? { ok: true, deviceId: verdict.deviceId } : verdict;
}

/** verifyEnvelope, also answering the payload's canonical JSON it made (for the envelope's: canonicalEnvelopeJson). */
export async function verifyCanonical(
  envelope: Envelope,
): Promise<{ ok: true; deviceId: string; canonicalPayload: string } | { ok: false; reason: string }> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("raw", fromBase64Url(envelope.publicKey), ED25519, false, ["verify"]);
  } catch {
    return { ok: false, reason: "the public key is not a valid Ed25519 key" };
  }
  let canonicalPayload: string;
  try {
    canonicalPayload = canonicalJson(envelope.payload);
  } catch (error) {
    return { ok: false, reason: `the payload cannot be canonicalized: ${(error as Error).message}` };
  }
  const valid = await crypto.subtle.verify(ED25519, key, fromBase64Url(envelope.signature), utf8(canonicalPayload));
  if (!valid) return { ok: false, reason: "the signature does not match the payload and public key" };
  return { ok: true, deviceId: await deviceIdOf(envelope.publicKey), canonicalPayload };
}

/**
 * The envelope's canonical JSON from its payload's, which verification has already made: RFC 8785
 * sorts the four members as written here, and the other three are strings. Only for an envelope
 * that Envelope has checked (exactly these members).
 */
export function canonicalEnvelopeJson(envelope: Envelope, canonicalPayload: string): string {
  const text = JSON.stringify;
  return `{"payload":${canonicalPayload},"publicKey":${text(envelope.publicKey)},"schema":${text(envelope.schema)},"signature":${text(envelope.signature)}}`;
}

/** A run's id is the hash of its canonical envelope: the same bytes always get the same id. */
export async function runIdOf(envelope: Envelope): Promise<string> {
  return runIdOfCanonical(canonicalJson(envelope));
}

/** The same id from the canonical envelope text, for a caller that keeps the text (to store it). */
export async function runIdOfCanonical(canonicalEnvelope: string): Promise<string> {
  return (await sha256Hex(canonicalEnvelope)).slice(0, 24);
}
