import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { Bundle } from "../../schema/bundle.ts";
import { deviceIdOf } from "../../schema/signing.ts";
import { prepareRun, storeRun } from "../../workers/ingest.ts";
import { makeBundle } from "../support/bundles.ts";
import { rowCounts, signed } from "./helpers.ts";

async function storeRunOf(options: Parameters<typeof makeBundle>[0]) {
  const envelope = await signed(makeBundle(options));
  const bundle = Bundle.parse(envelope.payload);
  const db = drizzle(env.DB);
  const now = new Date();
  const prepared = await prepareRun(db, { envelope, bundle, deviceId: await deviceIdOf(envelope.publicKey) }, now);
  return storeRun(db, prepared, now);
}

describe("storing a run", () => {
  it("writes few rows: index entries included, at most 12 for a run on known hardware and model", async () => {
    const first = await storeRunOf({ decodeTps: 7 });
    expect(first.created).toBe(true);
    const second = await storeRunOf({ decodeTps: 8 });
    expect(second.created).toBe(true);
    console.info(`rows written: first run ${first.rowsWritten}, next run on known hardware ${second.rowsWritten}`);
    expect(second.rowsWritten).toBeLessThanOrEqual(12);
    expect(first.rowsWritten).toBeGreaterThan(second.rowsWritten);
  });

  it("writes nothing for a run already stored", async () => {
    await storeRunOf({ decodeTps: 7 });
    const again = await storeRunOf({ decodeTps: 7 });
    expect(again).toEqual({ created: false, rowsWritten: 0 });
    expect((await rowCounts()).runs).toBe(1);
  });
});
