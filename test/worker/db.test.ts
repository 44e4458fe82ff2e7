import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { Bundle } from "../../schema/bundle.ts";
import { canonicalJson, runIdOf } from "../../schema/signing.ts";
import { summarize } from "../../schema/summary.ts";
import { insertRun } from "../../workers/db/runs.ts";
import { makeBundle } from "../support/bundles.ts";
import { rowCounts, signed } from "./helpers.ts";

async function storeRun(options: Parameters<typeof makeBundle>[0]) {
  const envelope = await signed(makeBundle(options));
  const bundle = Bundle.parse(envelope.payload);
  return insertRun(drizzle(env.DB), {
    id: await runIdOf(envelope),
    deviceId: "d".repeat(24),
    publicKey: envelope.publicKey,
    summary: summarize(bundle),
    model: bundle.model,
    envelopeJson: canonicalJson(envelope),
    receivedAt: new Date().toISOString(),
  });
}

describe("insertRun", () => {
  it("writes few rows: index entries included, at most 10 for a run on known hardware and model", async () => {
    const first = await storeRun({ decodeTps: 7 });
    expect(first.created).toBe(true);
    const second = await storeRun({ decodeTps: 8 });
    expect(second.created).toBe(true);
    // The run row, its primary-key index and its four leaderboard/list indexes; the first run of a
    // new device, hardware and model adds those three rows and their primary-key indexes.
    expect(second.rowsWritten).toBe(6);
    expect(first.rowsWritten).toBe(12);
    console.info(`rows written: first run ${first.rowsWritten}, next run on known hardware ${second.rowsWritten}`);
  });

  it("writes nothing for a run already stored", async () => {
    await storeRun({ decodeTps: 7 });
    const again = await storeRun({ decodeTps: 7 });
    expect(again).toEqual({ created: false, rowsWritten: 0 });
    expect((await rowCounts()).runs).toBe(1);
  });
});
