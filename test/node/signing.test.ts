import { createHash } from "node:crypto";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalEnvelopeJson,
  canonicalJson,
  deviceIdOf,
  type Envelope,
  fromBase64Url,
  generateKeyPair,
  runIdOf,
  signPayload,
  toBase64Url,
  toHex,
  verifyCanonical,
  verifyEnvelope,
} from "../../schema/signing.ts";
import { originOf } from "../../workers/origin.ts";
import { makeBundle } from "../support/bundles.ts";
import { ED25519_VECTORS, signVectors } from "../support/rfc8032.ts";

describe("canonical JSON (RFC 8785)", () => {
  it("serializes the RFC's own example exactly", () => {
    // RFC 8785 §3.2.2: input and its canonical form.
    const input =
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
      '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}';
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
  });

  it("sorts keys by UTF-16 code units (RFC 8785 §3.2.3)", () => {
    const keys = ["\u20ac", "\r", "\ufb33", "1", "\ud83d\ude00", "\u0080", "\u00f6"];
    const object = Object.fromEntries(keys.map((k, i) => [k, i]));
    const order = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33"];
    const expected = `{${order.map((k) => `${JSON.stringify(k)}:${object[k]}`).join(",")}}`;
    expect(canonicalJson(object)).toBe(expected);
  });

  it("refuses what JSON cannot say exactly", () => {
    expect(() => canonicalJson({ x: Number.NaN })).toThrow();
    expect(() => canonicalJson({ x: "\ud800" })).toThrow(/surrogate/i);
  });
});

describe("Ed25519 in Node", () => {
  it("produces the RFC 8032 test-vector signatures", async () => {
    expect(await signVectors()).toEqual(ED25519_VECTORS.map((v) => v.signature));
  });

  it("round-trips: a signed bundle verifies, and its device id is the key's sha256 prefix", async () => {
    const key = await generateKeyPair();
    const envelope = await signPayload(makeBundle(), key.privateKey);
    const verdict = await verifyEnvelope(envelope);
    const expectedId = createHash("sha256").update(fromBase64Url(key.publicKey)).digest("hex").slice(0, 24);
    expect(verdict).toEqual({ ok: true, deviceId: expectedId });
    expect(await deviceIdOf(key.publicKey)).toBe(expectedId);
  });

  it("signs the canonical bytes: key order does not change the signature or the run id", async () => {
    const key = await generateKeyPair();
    const bundle = makeBundle();
    const reversed = Object.fromEntries(Object.entries(bundle).reverse());
    const a = await signPayload(bundle, key.privateKey);
    const b = await signPayload(reversed, key.privateKey);
    expect(b.signature).toBe(a.signature);
    expect(await runIdOf(b)).toBe(await runIdOf(a));
    const expectedRunId = createHash("sha256").update(canonicalJson(a)).digest("hex").slice(0, 24);
    expect(await runIdOf(a)).toBe(expectedRunId);
  });

  it("rejects a tampered payload, a foreign key and a corrupted signature, without throwing", async () => {
    const key = await generateKeyPair();
    const other = await generateKeyPair();
    const envelope = await signPayload(makeBundle({ decodeTps: 10 }), key.privateKey);
    const tampered: Envelope = { ...envelope, payload: { ...envelope.payload, notes: "faster, honest" } };
    const foreign: Envelope = { ...envelope, publicKey: other.publicKey };
    const bytes = fromBase64Url(envelope.signature);
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    const corrupted: Envelope = { ...envelope, signature: toBase64Url(bytes) };
    const notAPoint: Envelope = { ...envelope, publicKey: toBase64Url(new Uint8Array(32).fill(0xff)) };
    const loneSurrogate: Envelope = { ...envelope, payload: { ...envelope.payload, notes: "\ud800" } };
    for (const bad of [tampered, foreign, corrupted, notAPoint, loneSurrogate]) {
      const verdict = await verifyEnvelope(bad);
      expect(verdict.ok).toBe(false);
    }
  });
});

describe("canonicalEnvelopeJson", () => {
  it("is the RFC 8785 form of the whole envelope, made from the payload's that verification returns", async () => {
    const key = await generateKeyPair();
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue()), async (extra) => {
        const envelope = await signPayload({ ...makeBundle(), notes: JSON.stringify(extra), extra }, key.privateKey);
        const verdict = await verifyCanonical(envelope);
        if (!verdict.ok) throw new Error(verdict.reason);
        expect(canonicalEnvelopeJson(envelope, verdict.canonicalPayload)).toBe(canonicalJson(envelope));
      }),
      { numRuns: 50 },
    );
  });
});

describe("encodings the ids and links are made of", () => {
  it("toHex writes every byte as Node's hex encoding does", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(toHex(bytes)).toBe(Buffer.from(bytes).toString("hex"));
      }),
    );
  });

  it("originOf gives the origin of a URL as the runtime hands it over, as the URL parser does", () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (raw) => {
        const url = new URL(raw).href;
        expect(originOf(url)).toBe(new URL(url).origin);
      }),
    );
  });
});
