// Not part of `npm test`: the ingest benchmark's in-runtime figures (scripts/bench-api.ts runs this
// with EDGEBENCH_BENCH=1). The same POST /v1/runs handler inside workerd against the local D1, called
// without an HTTP server in front: what the Worker itself costs per bundle, apart from `wrangler dev`,
// and what one D1 round trip costs on the local runtime. workerd's clock advances at I/O, and every
// request here does D1 I/O, so each span is wall time.
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { BatchResponse, MAX_BATCH_RUNS } from "../../schema/api.ts";
import { generateKeyPair, type KeyPair } from "../../schema/signing.ts";
import { makeBundle } from "../support/bundles.ts";
import { call, postJson, signed } from "../worker/helpers.ts";

const WARM_UP = 100;
const COUNT = 1000;
const ROUND_TRIPS = 500;

async function envelopes(
  keys: KeyPair[],
  prefix: string,
  count: number,
  keyIndex = (i: number) => i % keys.length,
): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const bundle = makeBundle({
      board: `Bench Board ${i % 20}`,
      model: `Bench-Model-${i % 50}`,
      decodeTps: 5 + (i % 97) / 10,
    });
    bundle.provenance.nonce = `${prefix}-${i.toString().padStart(8, "0")}`;
    out.push(JSON.stringify(await signed(bundle, keys[keyIndex(i)])));
  }
  return out;
}

it(`ingests ${COUNT} distinct signed bundles one after another`, { timeout: 300_000 }, async () => {
  const keys = await Promise.all(Array.from({ length: 16 }, () => generateKeyPair()));
  // A warm isolate, as a deployed Worker serving traffic is: the first requests compile the code.
  for (const body of await envelopes(keys, "warm", WARM_UP)) await (await postJson(body)).arrayBuffer();
  const timed = await envelopes(keys, "bench", COUNT);
  let created = 0;
  const start = Date.now();
  for (const body of timed) {
    const res = await postJson(body);
    await res.arrayBuffer();
    if (res.status === 201) created++;
  }
  const ms = Date.now() - start;

  // The same number of other bundles in batches of MAX_BATCH_RUNS, one of the 16 keys per batch (as
  // an outbox flush or an import sends them), one batch after another.
  const batched = await envelopes(keys, "batch", COUNT, (i) => Math.floor(i / MAX_BATCH_RUNS) % keys.length);
  const batches: string[] = [];
  for (let i = 0; i < COUNT; i += MAX_BATCH_RUNS) {
    batches.push(`{"envelopes":[${batched.slice(i, i + MAX_BATCH_RUNS).join(",")}]}`);
  }
  let batchCreated = 0;
  const batchStart = Date.now();
  for (const body of batches) {
    const res = await call("/v1/runs/batch", { method: "POST", headers: { "content-type": "application/json" }, body });
    // Read the answer first: `x += await y` reads x before the await (a lost update with requests in flight).
    const answer = BatchResponse.parse(await res.json());
    batchCreated += answer.created;
  }
  const batchMs = Date.now() - batchStart;

  const tripStart = Date.now();
  for (let i = 0; i < ROUND_TRIPS; i++) await env.DB.prepare("select 1").first();
  const roundTripMs = (Date.now() - tripStart) / ROUND_TRIPS;
  const figures = { count: COUNT, ms, created, batchSize: MAX_BATCH_RUNS, batchMs, batchCreated, roundTripMs };
  console.log(`EDGEBENCH_BENCH ${JSON.stringify(figures)}`);
  expect(created).toBe(COUNT);
  expect(batchCreated).toBe(COUNT);
});
