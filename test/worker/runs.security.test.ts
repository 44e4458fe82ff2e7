// The shared signature-failure cases: every signed route must refuse each one and write nothing.
import { describe, expect, it } from "vitest";
import { ErrorBody } from "../../schema/api.ts";
import { type Envelope, generateKeyPair, toBase64Url } from "../../schema/signing.ts";
import { makeBundle } from "../support/bundles.ts";
import { postJson, rowCounts, signed } from "./helpers.ts";

type Case = [name: string, make: () => Promise<unknown>, status: number, code: string];

const signatureCases: Case[] = [
  [
    "a missing signature",
    async () => {
      const { signature: _, ...rest } = await signed(makeBundle());
      return rest;
    },
    401,
    "bad_signature",
  ],
  [
    "a malformed signature",
    async () => ({ ...(await signed(makeBundle())), signature: "not-a-signature" }),
    401,
    "bad_signature",
  ],
  [
    "a base64url signature of the wrong length",
    async () => ({ ...(await signed(makeBundle())), signature: toBase64Url(new Uint8Array(63)) }),
    401,
    "bad_signature",
  ],
  [
    "a missing public key",
    async () => {
      const { publicKey: _, ...rest } = await signed(makeBundle());
      return rest;
    },
    401,
    "bad_signature",
  ],
  [
    "a signature by another key than the one named",
    async () => {
      const other = await generateKeyPair();
      const envelope = await signed(makeBundle(), other);
      return { ...envelope, publicKey: (await signed(makeBundle())).publicKey };
    },
    401,
    "bad_signature",
  ],
  [
    "a tampered payload",
    async () => {
      const envelope: Envelope = await signed(makeBundle({ decodeTps: 10 }));
      const payload = JSON.parse(JSON.stringify(envelope.payload));
      payload.measurements[2].mean = 100;
      return { ...envelope, payload };
    },
    401,
    "bad_signature",
  ],
  [
    "a zeroed signature",
    async () => ({ ...(await signed(makeBundle())), signature: toBase64Url(new Uint8Array(64)) }),
    401,
    "bad_signature",
  ],
  [
    "a public key that is not a curve point",
    async () => ({ ...(await signed(makeBundle())), publicKey: toBase64Url(new Uint8Array(32).fill(0xff)) }),
    401,
    "bad_signature",
  ],
];

describe("signed routes refuse bad signatures", () => {
  for (const [name, make, status, code] of signatureCases) {
    it(`${status} ${code} for ${name}, nothing written`, async () => {
      const res = await postJson(await make());
      expect(res.status).toBe(status);
      expect(ErrorBody.parse(await res.json()).error.code).toBe(code);
      expect((await rowCounts()).runs).toBe(0);
      expect((await rowCounts()).devices).toBe(0);
    });
  }

  it("a replay of the same bytes stores one run", async () => {
    const envelope = await signed(makeBundle());
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await postJson(envelope)).status);
    expect(statuses).toEqual([201, 200, 200]);
    expect((await rowCounts()).runs).toBe(1);
  });
});
