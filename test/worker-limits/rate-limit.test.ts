// The rate limits as configured for this project (5 writes a minute per key, 10 per address).
import { describe, expect, it } from "vitest";
import { ErrorBody } from "../../schema/api.ts";
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
});
