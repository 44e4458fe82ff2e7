// What the on-demand pages read besides the leaderboards (GET /v1/cells, GET /v1/search), and the
// data version their cache is keyed by: bumped by every write that succeeded, never by a refusal.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  CellList,
  ErrorBody,
  RunDetail,
  RunDetails,
  RunGlances,
  SearchResults,
  SubmitResponse,
} from "../../schema/api.ts";
import { type BundleOptions, makeBundle } from "../support/bundles.ts";
import { call, postJson, signed } from "./helpers.ts";

async function submit(options: BundleOptions): Promise<string> {
  const res = await postJson(await signed(makeBundle(options)));
  expect(res.status, await res.clone().text()).toBe(201);
  return SubmitResponse.parse(await res.json()).id;
}

async function version(): Promise<number> {
  const row = await env.DB.prepare("select version from data_version where id = 1").first<{ version: number }>();
  if (!row) throw new Error("no data_version row");
  return row.version;
}

async function cells(query = ""): Promise<CellList> {
  const res = await call(`/v1/cells${query}`);
  expect(res.status).toBe(200);
  return CellList.parse(await res.json());
}

describe("GET /v1/cells", () => {
  it("sums a hardware × model pair's cells (one per quantization) and names its quantizations", async () => {
    await submit({ board: "Cell Board A", model: "Cell-Model-1B", quantization: "Q4_K_M", decodeTps: 10 });
    await submit({ board: "Cell Board A", model: "Cell-Model-1B", quantization: "Q8_0", decodeTps: 6 });
    await submit({ board: "Cell Board A", model: "Cell-Model-1B", quantization: "Q4_K_M", decodeTps: 11 });
    await submit({ board: "Cell Board B", model: "Cell-Model-1B", quantization: "Q4_K_M", decodeTps: 4 });

    const all = await cells();
    expect(all.items.map((c) => [c.hardwareName, c.modelName, c.runs, c.bestDecodeTps, c.quantizations])).toEqual([
      ["Cell Board A", "Cell-Model-1B", 3, 11, ["Q4_K_M", "Q8_0"]],
      ["Cell Board B", "Cell-Model-1B", 1, 4, ["Q4_K_M"]],
    ]);
    const [a] = all.items;
    // Filters, and only pairs run at least twice (the ones with a history).
    expect((await cells("?minRuns=2")).items.map((c) => c.hardwareSlug)).toEqual([a?.hardwareSlug]);
    expect((await cells(`?hardware=${a?.hardwareSlug}`)).items).toHaveLength(1);
    expect((await cells(`?model=${a?.modelSlug}`)).items).toHaveLength(2);
  });

  it("leaves out what only hidden runs hold", async () => {
    const id = await submit({ board: "Hidden Board", model: "Hidden-Model-1B" });
    expect((await cells()).items).toHaveLength(1);
    const hide = await call(`/v1/admin/runs/${id}/hide`, {
      method: "POST",
      headers: { authorization: "Bearer test-admin-token-0123456789", "content-type": "application/json" },
      body: JSON.stringify({ reason: "test" }),
    });
    expect(hide.status).toBe(200);
    expect((await cells()).items).toEqual([]);
  });

  it("answers a bad filter with 400", async () => {
    const res = await call("/v1/cells?minRuns=0");
    expect(res.status).toBe(400);
    expect(ErrorBody.parse(await res.json()).error.code).toBe("invalid_query");
  });
});

describe("GET /v1/search", () => {
  it("finds a run stored a moment ago by its hardware, its model, both words together, and its id", async () => {
    const id = await submit({ board: "Searchable Orin Board", model: "Findable-Llama-3B", decodeTps: 9 });
    const search = async (q: string) => {
      const res = await call(`/v1/search?${new URLSearchParams({ q })}`);
      expect(res.status).toBe(200);
      return SearchResults.parse(await res.json());
    };
    const byBoard = await search("orin board");
    expect(byBoard.hardware.map((h) => h.name)).toEqual(["Searchable Orin Board"]);
    expect(byBoard.models).toEqual([]);
    const byModel = await search("FINDABLE");
    expect(byModel.models.map((m) => m.name)).toEqual(["Findable-Llama-3B"]);
    // Words from both names: no single hardware or model holds both, the pair does.
    const both = await search("orin llama");
    expect(both.hardware).toEqual([]);
    expect(both.cells.map((c) => [c.hardwareName, c.modelName, c.runs])).toEqual([
      ["Searchable Orin Board", "Findable-Llama-3B", 1],
    ]);
    const byId = await search(id);
    expect(byId.run?.id).toBe(id);
    expect((await search("nothing-is-called-this")).cells).toEqual([]);
  });

  it("refuses an empty query with 400", async () => {
    const res = await call("/v1/search?q=%20");
    expect(res.status).toBe(400);
  });
});

describe("GET /v1/runs/details", () => {
  it("answers several runs with their envelopes in one request, in the order asked, leaving out unknown ids", async () => {
    const a = await submit({ board: "Details Board", decodeTps: 3 });
    const b = await submit({ board: "Details Board", decodeTps: 4 });
    const unknown = "0".repeat(24);
    const res = await call(`/v1/runs/details?ids=${b},${unknown},${a},${b}`);
    expect(res.status).toBe(200);
    const { items } = RunDetails.parse(await res.json());
    expect(items.map((i) => i.run.id)).toEqual([b, a]);
    // Each the same as the one-run route answers.
    for (const item of items) {
      expect(item).toEqual(RunDetail.parse(await (await call(`/v1/runs/${item.run.id}`)).json()));
    }
  });

  it("refuses a malformed id or more than a page of ids with 400", async () => {
    expect((await call("/v1/runs/details?ids=not-an-id")).status).toBe(400);
    const many = Array.from({ length: 101 }, (_, i) => i.toString(16).padStart(24, "0")).join(",");
    expect((await call(`/v1/runs/details?ids=${many}`)).status).toBe(400);
    expect((await call("/v1/runs/details")).status).toBe(400);
  });
});

describe("GET /v1/runs/glances", () => {
  it("says how exact each headline figure is, and the roofline, without sending the bundles", async () => {
    const plain = await submit({ board: "Glance Board", decodeTps: 8 });
    // A decode reported only as a range, memory as a lower bound, and a roofline estimate.
    const ranged = makeBundle({ board: "Glance Board", decodeTps: 9 });
    ranged.measurements = ranged.measurements.map((m) =>
      m.kind === "decode" ? { kind: "decode", unit: "tokens/s", cold: false, nGen: 128, min: 8, max: 10 } : m,
    );
    ranged.memory = { peakRssBytes: { min: 900_000_000 } };
    ranged.roofline = { bandwidthBytesPerSec: 17e9, bytesPerToken: 8e8, decodeUpperBoundTps: 21.25, efficiency: 0.42 };
    const res = await postJson(await signed(ranged));
    expect(res.status, await res.clone().text()).toBe(201);
    const rangedId = SubmitResponse.parse(await res.json()).id;

    const answer = await call(`/v1/runs/glances?ids=${rangedId},${plain}`);
    expect(answer.status).toBe(200);
    const { items } = RunGlances.parse(await answer.json());
    expect(items).toEqual([
      {
        id: rangedId,
        precision: { decode: "approximate", prefill: null, ttft: null, peakMemory: "lower_bound", peakVram: null },
        roofline: { bandwidthBytesPerSec: 17e9, bytesPerToken: 8e8, decodeUpperBoundTps: 21.25, efficiency: 0.42 },
      },
      {
        id: plain,
        precision: { decode: null, prefill: null, ttft: null, peakMemory: null, peakVram: null },
        roofline: null,
      },
    ]);
  });
});

describe("the data version", () => {
  it("goes up after a stored run and a moderation, and stays for refusals, resubmissions, dry runs and reads", async () => {
    const start = await version();
    const bundle = makeBundle({ board: "Version Board", decodeTps: 5 });
    const envelope = await signed(bundle);
    expect((await postJson(envelope)).status).toBe(201);
    const afterStore = await version();
    expect(afterStore).toBeGreaterThan(start);

    // A refused submission writes nothing, so the pages it could affect stay cached.
    const tampered = { ...envelope, payload: { ...envelope.payload, notes: "changed after signing" } };
    expect((await postJson(tampered)).status).toBe(401);
    expect(await call("/v1/leaderboard")).toHaveProperty("status", 200);
    expect(await version()).toBe(afterStore);

    const { id } = SubmitResponse.parse(await (await postJson(envelope)).json());
    const { run } = RunDetail.parse(await (await call(`/v1/runs/${id}`)).json());
    expect(run.status).toBe("visible");
    const afterResubmit = await version();
    // Stored already, or only tried: nothing a page shows changed, so every cached page stays.
    expect(afterResubmit).toBe(afterStore);
    const dryRun = await call("/v1/runs/dry-run", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(await signed(makeBundle({ board: "Version Board", decodeTps: 6 }))),
    });
    expect(dryRun.status).toBe(200);
    expect(await version()).toBe(afterStore);
    const hide = await call(`/v1/admin/runs/${id}/hide`, {
      method: "POST",
      headers: { authorization: "Bearer test-admin-token-0123456789", "content-type": "application/json" },
      body: JSON.stringify({ reason: "test" }),
    });
    expect(hide.status).toBe(200);
    expect(await version()).toBeGreaterThan(afterResubmit);
  });
});
