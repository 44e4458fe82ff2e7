// POST /v1/runs/batch: each envelope is decided and answered on its own, as if sent alone and in
// order. A batch must leave the database exactly as the same envelopes posted one by one would; a bad
// envelope refuses only itself and writes nothing; a batch refused as a whole writes nothing.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BatchResponse, ErrorBody, MAX_BATCH_BODY_BYTES, MAX_BATCH_RUNS, MAX_BODY_BYTES } from "../../schema/api.ts";
import type { Bundle } from "../../schema/bundle.ts";
import { keyRevocationRecord } from "../../schema/key-records.ts";
import { type Envelope, generateKeyPair, type KeyPair, signPayload } from "../../schema/signing.ts";
import { makeBundle } from "../support/bundles.ts";
import { call, postJson, rowCounts } from "./helpers.ts";

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

async function batch(envelopes: unknown[]): Promise<BatchResponse> {
  const res = await post("/v1/runs/batch", { envelopes });
  expect(res.status, await res.clone().text()).toBe(200);
  return BatchResponse.parse(await res.json());
}

const sign = (bundle: Bundle, key: KeyPair) => signPayload(bundle, key.privateKey);

function bundle(options: Parameters<typeof makeBundle>[0] & { nonce?: string; createdAt?: string }): Bundle {
  const b = makeBundle(options);
  if (options.nonce) b.provenance.nonce = options.nonce;
  if (options.createdAt) b.provenance.createdAt = options.createdAt;
  return b;
}

/** Every table the ingest writes, without the columns that hold the moment of writing. */
async function state() {
  const rows = async (query: string) => (await env.DB.prepare(query).all()).results;
  return {
    runs: await rows(
      "select id, device_id, cell, flags, rank_group, reproduction, nonce, envelope, decode_tps from runs order by id",
    ),
    cells: await rows(
      "select cell, hardware_slug, model_slug, visible_runs, best_decode_tps, runs, lineages, decode_mean, decode_stddev, level from cells order by cell",
    ),
    devices: await rows("select id, lineage, status from devices order by id"),
    hardware: await rows("select slug, name, run_count, model_count, best_decode_tps from hardware order by slug"),
    models: await rows("select slug, name, run_count, hardware_count from models order by slug"),
  };
}

const ADMIN = { authorization: "Bearer test-admin-token-0123456789" };

/** Every cell's stored state against its runs: visible runs, ranked runs, submitters of ranked runs. */
async function expectCellsToMatchRuns(cellCount: number) {
  const cells = await env.DB.prepare(
    `select c.cell, c.visible_runs, c.runs, c.lineages,
       (select count(*) from runs r where r.cell = c.cell and r.hidden_reason is null) as visible,
       (select count(*) from runs r where r.cell = c.cell and r.rank_group = 0 and r.hidden_reason is null) as ranked,
       (select count(distinct d.lineage) from runs r join devices d on d.id = r.device_id
         where r.cell = c.cell and r.rank_group = 0 and r.hidden_reason is null) as submitters
     from cells c`,
  ).all<{
    cell: string;
    visible_runs: number;
    runs: number;
    lineages: number;
    visible: number;
    ranked: number;
    submitters: number;
  }>();
  expect(cells.results.length).toBe(cellCount);
  for (const c of cells.results) {
    expect([c.visible_runs, c.runs, c.lineages], c.cell).toEqual([c.visible, c.ranked, c.submitters]);
  }
}

async function emptyTables() {
  const tables = ["runs", "cells", "devices", "hardware", "models"];
  await env.DB.batch(tables.map((t) => env.DB.prepare(`delete from ${t}`)));
}

describe("POST /v1/runs/batch", () => {
  it("leaves the database exactly as the same envelopes posted one by one", async () => {
    const [a, b] = [await generateKeyPair(), await generateKeyPair()];
    const envelopes: Envelope[] = [];
    // One cell with three close runs of key a, one of key b (reproduced), then an outlier; another
    // cell; a new board; a failed quality gate.
    for (const [i, decodeTps] of [10, 10.1, 9.9].entries())
      envelopes.push(await sign(bundle({ decodeTps, nonce: `nonce-a-${i}-00000000` }), a));
    envelopes.push(await sign(bundle({ decodeTps: 10.2, nonce: "nonce-b-0-00000000" }), b));
    envelopes.push(await sign(bundle({ decodeTps: 40, nonce: "nonce-b-1-00000000" }), b));
    envelopes.push(await sign(bundle({ decodeTps: 5, model: "Other-Model", nonce: "nonce-a-3-00000000" }), a));
    envelopes.push(await sign(bundle({ decodeTps: 7, board: "Board Two", nonce: "nonce-a-4-00000000" }), a));
    envelopes.push(
      await sign(bundle({ decodeTps: 70, board: "Board Two", qualityFail: "loops", nonce: "nonce-b-2-00000000" }), b),
    );

    for (const e of envelopes) expect((await postJson(e)).status).toBe(201);
    const oneByOne = await state();
    // The outlier and the reproduction really are in it, so the comparison below covers them.
    expect(oneByOne.runs.some((r) => String(r.flags).includes("outlier"))).toBe(true);
    expect(oneByOne.cells.some((c) => c.level === "reproduced")).toBe(true);

    await emptyTables();
    const answer = await batch(envelopes);
    expect(answer).toMatchObject({ created: envelopes.length, refused: 0 });
    expect(answer.items.map((i) => [i.index, i.status])).toEqual(envelopes.map((_, i) => [i, 201]));
    expect(await state()).toEqual(oneByOne);

    // The same batch again: every envelope stored before, nothing written.
    const again = await batch(envelopes);
    expect(again).toMatchObject({ created: 0, refused: 0 });
    expect(again.items.every((i) => i.status === 200 && "created" in i && !i.created)).toBe(true);
    expect(await state()).toEqual(oneByOne);
  });

  it("answers each envelope on its own: a bad one refuses only itself and writes nothing", async () => {
    const [key, other, revoked] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    expect(
      (await post("/v1/keys/revoke", await signPayload(keyRevocationRecord("lost"), revoked.privateKey))).status,
    ).toBe(200);
    const good = await sign(bundle({ decodeTps: 10, nonce: "nonce-n-1-00000000" }), key);
    const tampered = { ...good, payload: { ...good.payload, notes: "faster than measured" } };
    const { signature: _s, ...unsigned } = await sign(bundle({ decodeTps: 11 }), key);
    const otherKeysSignature = {
      ...(await sign(bundle({ decodeTps: 12 }), key)),
      signature: (await sign(bundle({ decodeTps: 12 }), other)).signature,
    };
    const invalid = await signPayload({ ...bundle({ decodeTps: 13 }), device: { board: "" } }, key.privateKey);
    const sameNonce = await sign(bundle({ decodeTps: 14, nonce: "nonce-n-1-00000000" }), key);
    const fromRevoked = await sign(bundle({ decodeTps: 15 }), revoked);
    const tooOld = await sign(bundle({ decodeTps: 16, createdAt: "2020-01-01T00:00:00.000Z" }), key);
    const second = await sign(bundle({ decodeTps: 17, model: "Second-Model" }), other);
    const before = await rowCounts();

    const answer = await batch([
      good,
      tampered,
      unsigned,
      otherKeysSignature,
      invalid,
      good,
      sameNonce,
      fromRevoked,
      tooOld,
      "x",
      second,
    ]);
    const outcome = answer.items.map((i) => [i.index, i.status, "error" in i ? i.error.code : "stored"]);
    expect(outcome).toEqual([
      [0, 201, "stored"],
      [1, 401, "bad_signature"],
      [2, 401, "bad_signature"],
      [3, 401, "bad_signature"],
      [4, 422, "invalid_bundle"],
      [5, 200, "stored"],
      [6, 409, "nonce_reused"],
      [7, 403, "key_revoked"],
      [8, 422, "created_out_of_window"],
      [9, 400, "invalid_envelope"],
      [10, 201, "stored"],
    ]);
    expect(answer).toMatchObject({ created: 2, refused: 8 });
    // Details name the envelope they are about.
    const invalidItem = answer.items[4];
    expect(invalidItem && "error" in invalidItem ? invalidItem.error.details?.[0]?.path : "").toMatch(
      /^envelopes\.4\.payload\./,
    );
    expect(await rowCounts()).toEqual({
      runs: before.runs + 2,
      devices: before.devices + 2,
      hardware: before.hardware + 1,
      models: before.models + 2,
    });
    // The stored ones are the good ones, readable as any run.
    const first = answer.items[0];
    expect(first && "id" in first ? (await call(`/v1/runs/${first.id}`)).status : 0).toBe(200);
  });

  it("stores every bundle exactly once when batches that share bundles arrive at the same time", async () => {
    const keys = await Promise.all(Array.from({ length: 4 }, () => generateKeyPair()));
    const shared = await sign(bundle({ decodeTps: 50, nonce: "nonce-shared-0000" }), keys[0] as KeyPair);
    const batches = await Promise.all(
      keys.map(async (key, k) => {
        const own = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            sign(bundle({ decodeTps: 10 + i / 10, model: `Model-${i % 5}`, nonce: `nonce-${k}-${i}-0000` }), key),
          ),
        );
        return [shared, ...own];
      }),
    );
    const before = await rowCounts();
    const answers = await Promise.all(batches.map((envelopes) => batch(envelopes)));
    // The shared bundle: stored by exactly one of the four, "stored before" for the other three.
    expect(answers.map((a) => a.items[0]?.status).sort()).toEqual([200, 200, 200, 201]);
    expect(answers.every((a) => a.items.slice(1).every((i) => i.status === 201))).toBe(true);
    expect((await rowCounts()).runs).toBe(before.runs + 1 + 4 * 20);
    // The derived state is the state of the runs stored, whatever the interleaving.
    await expectCellsToMatchRuns(6);
  });

  it("leaves each cell's state equal to its runs when a moderator hides a run while a batch adds to its cell", async () => {
    const [a, b] = [await generateKeyPair(), await generateKeyPair()];
    const first = await batch(
      await Promise.all([10, 10.2, 9.9].map((d, i) => sign(bundle({ decodeTps: d, nonce: `nonce-h-${i}-0000` }), a))),
    );
    const hidden = first.items[0];
    const more = await Promise.all(
      [10.1, 10.3].map((d, i) => sign(bundle({ decodeTps: d, nonce: `nonce-m-${i}-0000` }), b)),
    );
    const [hide] = await Promise.all([
      post(`/v1/admin/runs/${hidden && "id" in hidden ? hidden.id : ""}/hide`, { reason: "duplicate" }, ADMIN),
      batch(more),
    ]);
    expect(hide.status).toBe(200);
    await expectCellsToMatchRuns(1);
  });

  it("refuses a batch that is not one, too long or too big as a whole, writing nothing", async () => {
    const key = await generateKeyPair();
    const envelopes = await Promise.all(
      Array.from({ length: MAX_BATCH_RUNS + 1 }, (_, i) => sign(bundle({ decodeTps: 1 + i }), key)),
    );
    const before = await rowCounts();
    const refusals: Array<[string, Response, number, string]> = [
      ["too many", await post("/v1/runs/batch", { envelopes }), 400, "invalid_request"],
      ["empty", await post("/v1/runs/batch", { envelopes: [] }), 400, "invalid_request"],
      ["a bare envelope", await post("/v1/runs/batch", envelopes[0]), 400, "invalid_request"],
      [
        "an extra field",
        await post("/v1/runs/batch", { envelopes: envelopes.slice(0, 2), also: 1 }),
        400,
        "invalid_request",
      ],
      ["not JSON", await post("/v1/runs/batch", "{not json"), 400, "malformed_json"],
      [
        "over the body cap",
        await post("/v1/runs/batch", { envelopes: envelopes.slice(0, 2), pad: "x".repeat(MAX_BATCH_BODY_BYTES) }),
        413,
        "payload_too_large",
      ],
    ];
    for (const [what, res, status, code] of refusals) {
      expect(res.status, what).toBe(status);
      expect(ErrorBody.parse(await res.json()).error.code, what).toBe(code);
    }
    expect(await rowCounts()).toEqual(before);
  });

  it("refuses an envelope above the single-run body cap inside a batch that fits its own cap", async () => {
    const key = await generateKeyPair();
    const big = await sign({ ...bundle({ decodeTps: 3 }), notes: "n".repeat(19_000) }, key);
    const bigger = { ...big, padding: "p".repeat(MAX_BODY_BYTES) };
    const small = await sign(bundle({ decodeTps: 4 }), key);
    const answer = await batch([bigger, small]);
    expect(answer.items.map((i) => [i.status, "error" in i ? i.error.code : "stored"])).toEqual([
      [413, "payload_too_large"],
      [201, "stored"],
    ]);
  });
});
