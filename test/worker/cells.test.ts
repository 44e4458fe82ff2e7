// A cell's figures as ingest keeps them in place (one run at a time, from the stored sums and the
// level's witness) against the same figures recomputed from all of the cell's runs.
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { REPRODUCTION_TOLERANCE } from "../../schema/api.ts";
import { Bundle } from "../../schema/bundle.ts";
import { deviceIdOf, generateKeyPair, type KeyPair } from "../../schema/signing.ts";
import { cellRunsQuery, reproductionOf } from "../../workers/db/runs.ts";
import { prepareRun, storeRun } from "../../workers/ingest.ts";
import { makeBundle } from "../support/bundles.ts";
import { signed } from "./helpers.ts";

type StoredCell = {
  cell: string;
  runs: number;
  lineages: number;
  decode_mean: number | null;
  decode_stddev: number | null;
  lineage_sums: string;
  agreeing_pair: string | null;
  level: string;
};

let keys: KeyPair[] = [];
beforeAll(async () => {
  keys = await Promise.all(Array.from({ length: 4 }, () => generateKeyPair()));
});

let board = 0;
async function submitAll(runs: ReadonlyArray<{ key: number; decodeTps: number }>): Promise<string> {
  const db = drizzle(env.DB);
  const name = `Cell Board ${++board}`;
  for (const [i, run] of runs.entries()) {
    const key = keys[run.key] as KeyPair;
    const envelope = await signed(makeBundle({ board: name, decodeTps: run.decodeTps, notes: `run ${i}` }), key);
    const now = new Date();
    const prepared = await prepareRun(
      db,
      { envelope, bundle: Bundle.parse(envelope.payload), deviceId: await deviceIdOf(envelope.publicKey) },
      now,
    );
    await storeRun(db, prepared, now);
  }
  const row = await env.DB.prepare("select cell from cells where hardware_slug like ?")
    .bind(`cell-board-${board}%`)
    .first<{ cell: string }>();
  if (!row) throw new Error(`no cell for ${name}`);
  return row.cell;
}

async function expectMatchesRecompute(cell: string): Promise<void> {
  const stored = await env.DB.prepare("select * from cells where cell = ?").bind(cell).first<StoredCell>();
  const runs = await cellRunsQuery(drizzle(env.DB), [cell]);
  const expected = reproductionOf(runs);
  expect(stored).toMatchObject({ runs: expected.runs, lineages: expected.lineages, level: expected.level });
  expect(stored?.decode_mean ?? 0).toBeCloseTo(expected.decodeMean ?? 0, 9);
  expect(stored?.decode_stddev ?? 0).toBeCloseTo(expected.decodeStddev ?? 0, 9);
  const sums = JSON.parse(stored?.lineage_sums ?? "{}") as Record<string, [number, number]>;
  expect(Object.keys(sums).sort()).toEqual(expected.lineageSums.map((l) => l.lineage).sort());
  for (const l of expected.lineageSums) {
    expect(sums[l.lineage]?.[0]).toBe(l.runs);
    expect(sums[l.lineage]?.[1]).toBeCloseTo(l.decodeSum, 9);
  }
  // The witness: present exactly when the level is reproduced, and two lineages that do agree now.
  if (expected.level !== "reproduced") {
    expect(stored?.agreeing_pair).toBeNull();
    return;
  }
  const [a, b] = JSON.parse(stored?.agreeing_pair ?? "[]") as string[];
  const meanOf = (lineage: string | undefined) => {
    const entries = runs.filter((r) => r.lineage === lineage).map((r) => r.decodeTps ?? Number.NaN);
    return entries.reduce((s, v) => s + v, 0) / entries.length;
  };
  const [ma, mb] = [meanOf(a), meanOf(b)];
  expect(a).not.toBe(b);
  expect(Math.abs(ma - mb)).toBeLessThanOrEqual(REPRODUCTION_TOLERANCE * Math.max(ma, mb));
}

describe("a cell kept in place by ingest", () => {
  it("holds the figures and level a recompute from its runs gives, after every run", async () => {
    // Speeds a few percent apart and far apart, so that lineages agree, disagree and move across.
    const run = fc.record({ key: fc.integer({ min: 0, max: 3 }), decodeTps: fc.constantFrom(5, 5.4, 6.5, 8, 9, 12) });
    await fc.assert(
      fc.asyncProperty(fc.array(run, { minLength: 1, maxLength: 8 }), async (runs) => {
        const cell = await submitAll(runs);
        await expectMatchesRecompute(cell);
      }),
      { numRuns: 40 },
    );
  });

  it("moves from disputed to reproduced and back as one lineage's mean moves", async () => {
    // Key 0 at 10, key 1 at 5 (apart: disputed); key 1 at 15 lifts its mean to 10 (reproduced, the
    // witness is keys 0 and 1); key 1 at 1 drops it to 7 (the witness breaks: disputed again).
    const steps = [
      { key: 0, decodeTps: 10 },
      { key: 1, decodeTps: 5 },
    ];
    const cell = await submitAll(steps);
    const level = async () =>
      (await env.DB.prepare("select level, agreeing_pair from cells where cell = ?").bind(cell).first()) as {
        level: string;
        agreeing_pair: string | null;
      };
    expect(await level()).toEqual({ level: "disputed", agreeing_pair: null });
    const more = async (decodeTps: number, notes: string) => {
      const envelope = await signed(makeBundle({ board: `Cell Board ${board}`, decodeTps, notes }), keys[1]);
      const db = drizzle(env.DB);
      const now = new Date();
      const submission = {
        envelope,
        bundle: Bundle.parse(envelope.payload),
        deviceId: await deviceIdOf(envelope.publicKey),
      };
      await storeRun(db, await prepareRun(db, submission, now), now);
    };
    await more(15, "up");
    const reproduced = await level();
    expect(reproduced.level).toBe("reproduced");
    const lineages = (await Promise.all(keys.slice(0, 2).map((k) => deviceIdOf(k.publicKey)))).sort();
    expect((JSON.parse(reproduced.agreeing_pair ?? "[]") as string[]).sort()).toEqual(lineages);
    await more(1, "down");
    expect(await level()).toEqual({ level: "disputed", agreeing_pair: null });
    await expectMatchesRecompute(cell);
  });
});
