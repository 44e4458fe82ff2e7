// A batch with several ranked runs of one cell keeps their lineages' entries apart while they go in
// (lineage_pending) and folds them into the cell's sums at its end (workers/ingest.ts storeRuns). The
// cell must come out exactly as the same runs submitted one by one leave it, the sums' text included,
// on random runs, keys and batch splits, and after a recompute has rewritten the sums from the runs.
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Bundle } from "../../schema/bundle.ts";
import { deviceIdOf, generateKeyPair, type KeyPair } from "../../schema/signing.ts";
import { refreshCells } from "../../workers/db/runs.ts";
import { prepareRuns, type Submission, storeRuns, submitRun } from "../../workers/ingest.ts";
import { makeBundle } from "../support/bundles.ts";
import { signed } from "./helpers.ts";

let keys: KeyPair[] = [];
let deviceIds: string[] = [];
beforeAll(async () => {
  keys = await Promise.all(Array.from({ length: 5 }, () => generateKeyPair()));
  deviceIds = await Promise.all(keys.map((k) => deviceIdOf(k.publicKey)));
});

type Run = { key: number; decodeTps: number };

let board = 0;
let note = 0;

async function submission(name: string, run: Run): Promise<Submission> {
  const envelope = await signed(
    makeBundle({ board: name, decodeTps: run.decodeTps, notes: `run ${++note}` }),
    keys[run.key],
  );
  return { envelope, bundle: Bundle.parse(envelope.payload), deviceId: deviceIds[run.key] as string };
}

/** The runs one by one, as POST /v1/runs stores them; the cell's id. */
async function oneByOne(name: string, runs: readonly Run[]): Promise<string> {
  const db = drizzle(env.DB);
  let cell = "";
  for (const run of runs) cell = (await submitRun(db, await submission(name, run), new Date())).prepared.cell;
  return cell;
}

/** The same runs in the given batches, as POST /v1/runs/batch stores them. */
async function inBatches(name: string, batches: ReadonlyArray<readonly Run[]>): Promise<string> {
  const db = drizzle(env.DB);
  let cell = "";
  for (const batch of batches) {
    const now = new Date();
    const decisions = await prepareRuns(db, await Promise.all(batch.map((r) => submission(name, r))), now);
    const prepared = decisions.map((d) => {
      if (!d.ok) throw d.error;
      return d.prepared;
    });
    await storeRuns(db, prepared, now);
    cell = prepared.at(-1)?.cell ?? cell;
  }
  return cell;
}

/** The cell's figures, sums and witness: everything but its name and time. */
const FIGURES =
  "visible_runs, best_decode_tps, runs, lineages, decode_mean, decode_stddev, decode_sum, decode_m2, lineage_sums, lineage_pending, agreeing_pair, level";
const figures = (cell: string) => env.DB.prepare(`select ${FIGURES} from cells where cell = ?`).bind(cell).first();

const run = fc.record({
  key: fc.integer({ min: 0, max: 4 }),
  // Speeds that agree, disagree and move lineages across; some whose sums need all 17 digits.
  decodeTps: fc.constantFrom(0.1, 0.2, 5, 5.4, 6.5, 8, 9, 12),
});
const batches = fc.array(fc.array(run, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 });

describe("a batch's runs of one cell", () => {
  it("leave the cell as the same runs one by one do, its sums' text included", async () => {
    await fc.assert(
      fc.asyncProperty(batches, async (split) => {
        const n = ++board;
        const single = await oneByOne(`Pending One ${n}`, split.flat());
        const batched = await inBatches(`Pending Many ${n}`, split);
        const expected = await figures(single);
        expect(expected?.lineage_pending).toBe("{}");
        expect(await figures(batched)).toEqual(expected);
      }),
      { numRuns: 30 },
    );
  });

  it("do so on sums a recompute rewrote from the runs", async () => {
    await fc.assert(
      fc.asyncProperty(batches, batches, async (before, after) => {
        const n = ++board;
        const [one, many] = [`Pending One ${n}`, `Pending Many ${n}`];
        const [single, batched] = [await oneByOne(one, before.flat()), await inBatches(many, before)];
        // The sums as a recompute writes them (JavaScript's numbers), the same in both cells to start from.
        await refreshCells(drizzle(env.DB), [single], new Date().toISOString());
        await env.DB.prepare(
          `update cells set (${FIGURES}) = (select ${FIGURES} from cells where cell = ?1) where cell = ?2`,
        )
          .bind(single, batched)
          .run();
        await oneByOne(one, after.flat());
        await inBatches(many, after);
        expect(await figures(batched)).toEqual(await figures(single));
      }),
      { numRuns: 15 },
    );
  });
});
