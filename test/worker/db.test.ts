import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { Bundle } from "../../schema/bundle.ts";
import { deviceIdOf } from "../../schema/signing.ts";
import { cellRunsQuery, cellWrites, refreshStaleCells, reproductionOf } from "../../workers/db/runs.ts";
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

describe("a cell state written from a stale read", () => {
  it("is recomputed from the runs by refreshStaleCells, and a correct one is left alone", async () => {
    const db = drizzle(env.DB);
    await storeRunOf({ decodeTps: 7 });
    await storeRunOf({ decodeTps: 7.2 });
    const { cell } = (await env.DB.prepare("select cell from cells").first<{ cell: string }>()) ?? { cell: "" };
    const stateOf = () =>
      env.DB.prepare("select runs, decode_mean, updated_at from cells where cell = ?").bind(cell).first();
    const fresh = await stateOf();
    expect(fresh).toMatchObject({ runs: 2, decode_mean: 7.1 });

    // What a request that decided before the second run was stored would have written; the batch's
    // last statement counts the cell's ranked runs as they are.
    const writeState = async (state: ReturnType<typeof reproductionOf>, at: string) => {
      const [first, ...rest] = cellWrites(db, cell, state, at);
      if (!first) throw new Error("no cell writes");
      return (await db.batch([first, ...rest])).at(-1);
    };
    const stale = reproductionOf([{ decodeTps: 7, lineage: "a" }]);
    const counted = await writeState(stale, "2000-01-01T00:00:00.000Z");
    expect(await stateOf()).toMatchObject({ runs: 1, decode_mean: 7 });
    await refreshStaleCells(db, new Map([[cell, stale]]), counted, "2000-01-02T00:00:00.000Z");
    expect(await stateOf()).toMatchObject({ runs: 2, decode_mean: 7.1, updated_at: "2000-01-02T00:00:00.000Z" });

    // A state that matches its runs: nothing rewritten after its own write.
    const current = reproductionOf(await cellRunsQuery(db, [cell]));
    const countedNow = await writeState(current, "2000-01-03T00:00:00.000Z");
    await refreshStaleCells(db, new Map([[cell, current]]), countedNow, "2000-01-04T00:00:00.000Z");
    expect(await stateOf()).toMatchObject({ updated_at: "2000-01-03T00:00:00.000Z" });
  });
});
