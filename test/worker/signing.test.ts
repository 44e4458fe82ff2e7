import { describe, expect, it } from "vitest";
import { signPayload, verifyEnvelope } from "../../schema/signing.ts";
import { ED25519_VECTORS, signVectors } from "../support/rfc8032.ts";
import { nodeSigned } from "./helpers.ts";

describe("Ed25519 in workerd", () => {
  it("produces the RFC 8032 test-vector signatures", async () => {
    expect(await signVectors()).toEqual(ED25519_VECTORS.map((v) => v.signature));
  });

  it("verifies envelopes signed in Node", async () => {
    const { seeds, sample } = nodeSigned();
    for (const envelope of [sample, ...seeds.map((s) => s.envelope)]) {
      expect((await verifyEnvelope(envelope)).ok).toBe(true);
    }
  });

  it("signs a payload to the same bytes as Node does with the same key", async () => {
    const { privateKey, seeds, sample } = nodeSigned();
    for (const envelope of [sample, ...seeds.map((s) => s.envelope)]) {
      const here = await signPayload(envelope.payload, privateKey);
      expect(here).toEqual(envelope);
    }
  });
});
