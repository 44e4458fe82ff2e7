// The catalogs (GET /v1/hardware, /v1/models) read summary rows kept at every change to runs. After
// each kind of change (ingest, ranked-apart ingest, hide, unhide, retraction, a ranked-apart
// annotation and its removal, revocation) their answers must equal the aggregate over every run,
// computed here independently with plain SQL.
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { HardwareEntry, ModelEntry, SubmitResponse } from "../../schema/api.ts";
import { keyRevocationRecord, retractionRecord } from "../../schema/key-records.ts";
import { generateKeyPair, type KeyPair, signPayload } from "../../schema/signing.ts";
import { type BundleOptions, makeBundle } from "../support/bundles.ts";
import { call, postJson, signed } from "./helpers.ts";

const TOKEN = "test-admin-token-0123456789";

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

const admin = (path: string, body: unknown) => post(`/v1/admin${path}`, body, { authorization: `Bearer ${TOKEN}` });

async function submit(key: KeyPair, options: BundleOptions & { version?: string } = {}): Promise<string> {
  const bundle = makeBundle(options);
  if (options.version) bundle.runtime.version = options.version;
  const res = await postJson(await signed(bundle, key));
  expect(res.status, await res.clone().text()).toBe(201);
  return SubmitResponse.parse(await res.json()).id;
}

/** What the catalogs must say, from every run: visible runs, distinct partners, best ranked decode. */
async function expected() {
  const hardware = await env.DB.prepare(
    `select h.slug, h.name, h.kind,
       count(r.id) as runs,
       count(distinct r.model_slug) as models,
       max(case when r.rank_group = 0 then r.decode_tps end) as bestDecodeTps
     from hardware h left join runs r on r.hardware_slug = h.slug and r.hidden_reason is null
     group by h.slug order by h.name`,
  ).all();
  const models = await env.DB.prepare(
    `select m.slug, m.name, m.family, m.parameters, m.variant, m.base_slug as baseSlug,
       count(r.id) as runs,
       count(distinct r.hardware_slug) as hardware
     from models m left join runs r on r.model_slug = m.slug and r.hidden_reason is null
     group by m.slug order by m.name`,
  ).all();
  return { hardware: hardware.results, models: models.results };
}

async function served() {
  const hardware = HardwareEntry.array().parse(
    ((await (await call("/v1/hardware")).json()) as { items: unknown }).items,
  );
  const models = ModelEntry.array().parse(((await (await call("/v1/models")).json()) as { items: unknown }).items);
  return { hardware, models };
}

async function expectCatalogsToMatchRuns(step: string) {
  const want = await expected();
  expect(await served(), step).toEqual(want);
  return want;
}

it("keeps the catalog summaries equal to the aggregate over every run through each kind of change", async () => {
  const [a, b] = [await generateKeyPair(), await generateKeyPair()];
  await expectCatalogsToMatchRuns("empty");

  const pi = await submit(a, { board: "Board Alpha", model: "Model-One", decodeTps: 10 });
  await submit(b, { board: "Board Alpha", model: "Model-One", decodeTps: 10.3 });
  await submit(a, { board: "Board Alpha", model: "Model-Two", decodeTps: 20, quantization: "Q8_0" });
  const fast = await submit(a, { board: "Board Beta", model: "Model-One", decodeTps: 30 });
  // A failed quality gate: counted, but ranked apart, so it never becomes the best decode.
  await submit(b, { board: "Board Beta", model: "Model-One", decodeTps: 90, qualityFail: "degenerate output" });
  let now = await expectCatalogsToMatchRuns("after ingest");
  expect(now.hardware).toMatchObject([
    { slug: "board-alpha", runs: 3, models: 2, bestDecodeTps: 20 },
    { slug: "board-beta", runs: 2, models: 1, bestDecodeTps: 30 },
  ]);

  expect((await admin(`/runs/${fast}/hide`, { reason: "duplicate" })).status).toBe(200);
  now = await expectCatalogsToMatchRuns("after hide");
  expect(now.hardware[1]).toMatchObject({ runs: 1, models: 1, bestDecodeTps: null });

  expect((await admin(`/runs/${fast}/unhide`, { reason: "not a duplicate" })).status).toBe(200);
  await expectCatalogsToMatchRuns("after unhide");

  const retraction = await signPayload(retractionRecord(fast, "wrong threads"), a.privateKey);
  expect((await post("/v1/retractions", retraction)).status).toBe(200);
  now = await expectCatalogsToMatchRuns("after retraction");
  // Retracted runs stay visible (with their status) but ranked apart.
  expect(now.hardware[1]).toMatchObject({ runs: 2, bestDecodeTps: null });

  const annotation = await admin("/annotations", {
    engine: "llama.cpp",
    fromVersion: "b5000",
    toVersion: "b7000",
    note: "mis-timed decode",
    effect: "rank_apart",
  });
  expect(annotation.status).toBe(201);
  now = await expectCatalogsToMatchRuns("after a ranked-apart annotation");
  expect(now.hardware.map((h) => h.bestDecodeTps)).toEqual([null, null]);
  const { annotation: added } = (await annotation.json()) as { annotation: { id: number } };
  expect((await admin(`/annotations/${added.id}/remove`, { reason: "wrong range" })).status).toBe(200);
  await expectCatalogsToMatchRuns("after the annotation's removal");

  // A run of a new model on known hardware, then the key revoked: a note, not a change of rank.
  await submit(b, { board: "Board Beta", model: "Model-Three", decodeTps: 12, version: "b8000" });
  const revocation = await signPayload(keyRevocationRecord("lost the board"), b.privateKey);
  expect((await post("/v1/keys/revoke", revocation)).status).toBe(200);
  now = await expectCatalogsToMatchRuns("after revocation");
  expect(now.models.map((m) => [m.slug, m.runs, m.hardware])).toEqual([
    ["model-one", 4, 2],
    ["model-three", 1, 1],
    ["model-two", 1, 1],
  ]);
  expect(pi).toMatch(/^[0-9a-f]{24}$/);
});
