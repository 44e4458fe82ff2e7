// The rate limits as configured for this project (5 writes a minute per key, 10 per address).
import { describe, expect, it } from "vitest";
import { BatchResponse, ErrorBody } from "../../schema/api.ts";
import { generateKeyPair } from "../../schema/signing.ts";
import { makeBundle } from "../support/bundles.ts";
import { call, rowCounts, signed } from "../worker/helpers.ts";

const post = (body: unknown, address: string) =>
  call("/v1/runs", {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": address },
    body: JSON.stringify(body),
  });

describe("rate limits", () => {
  it("refuses a device key's sixth write in a minute with 429 and Retry-After, storing nothing", async () => {
    const key = await generateKeyPair();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await post(await signed(makeBundle({ decodeTps: i + 1 }), key), `10.0.0.${i}`)).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
    const refused = await post(await signed(makeBundle({ decodeTps: 99 }), key), "10.0.1.1");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(ErrorBody.parse(await refused.json()).error.code).toBe("rate_limited");
    expect((await rowCounts()).runs).toBe(5);
  });

  it("refuses an address's eleventh request in a minute before reading the body", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const key = await generateKeyPair();
      statuses.push((await post(await signed(makeBundle({ decodeTps: i + 1 }), key), "192.0.2.7")).status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 201)).toBe(true);
    expect(statuses[10]).toBe(429);
    // Garbage from a limited address is refused by the limit, not parsed.
    const garbage = await call("/v1/runs", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": "192.0.2.7" },
      body: "{not json",
    });
    expect(garbage.status).toBe(429);
  });

  it("counts a batch once per key and once per address; a limited key's envelopes are refused with 429 each", async () => {
    const [key, other] = [await generateKeyPair(), await generateKeyPair()];
    const batch = async (envelopes: unknown[], address: string) => {
      const res = await call("/v1/runs/batch", {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": address },
        body: JSON.stringify({ envelopes }),
      });
      expect(res.status).toBe(200);
      return BatchResponse.parse(await res.json());
    };
    const before = (await rowCounts()).runs;
    // Ten runs of one key in one request: one of its five writes a minute.
    const ten = await Promise.all(Array.from({ length: 10 }, (_, i) => signed(makeBundle({ decodeTps: 1 + i }), key)));
    expect((await batch(ten, "198.51.100.1")).created).toBe(10);
    for (let i = 0; i < 4; i++) {
      const one = await signed(makeBundle({ decodeTps: 20 + i }), key);
      expect((await batch([one], `198.51.100.${2 + i}`)).created).toBe(1);
    }
    // The key's sixth request: its envelope is refused; another key's in the same batch is stored.
    const mine = await signed(makeBundle({ decodeTps: 30 }), key);
    const theirs = await signed(makeBundle({ decodeTps: 31 }), other);
    const answer = await batch([mine, theirs], "198.51.100.9");
    expect(answer.items.map((i) => [i.status, "error" in i ? i.error.code : "stored"])).toEqual([
      [429, "rate_limited"],
      [201, "stored"],
    ]);
    expect((await rowCounts()).runs).toBe(before + 15);
  });
});
