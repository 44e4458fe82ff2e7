import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import { Leaderboard, RunDetail, RunPage, SubmitResponse } from "../../schema/api.ts";
import { verifyEnvelope } from "../../schema/signing.ts";
import { makeBundle } from "../support/bundles.ts";
import { call, nodeSigned, postJson, rowCounts, signed } from "./helpers.ts";

// The expected id is computed here from first principles, not with the code under test.
async function expectedId(envelope: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalize(envelope)));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, 24);
}

describe("POST /v1/runs", () => {
  it("stores a signed bundle and answers 201 with its content-derived id", async () => {
    const envelope = await signed(makeBundle());
    const res = await postJson(envelope);
    expect(res.status).toBe(201);
    const body = SubmitResponse.parse(await res.json());
    expect(body.id).toBe(await expectedId(envelope));
    expect(body.created).toBe(true);
    expect(body.url).toBe(`http://registry.test/runs/${body.id}/`);
    expect(await rowCounts()).toEqual({ runs: 1, devices: 1, hardware: 1, models: 1 });
  });

  it("answers 200 with the same id for the same bytes, and writes nothing more", async () => {
    const envelope = await signed(makeBundle());
    const first = SubmitResponse.parse(await (await postJson(envelope)).json());
    const again = await postJson(envelope);
    expect(again.status).toBe(200);
    const second = SubmitResponse.parse(await again.json());
    expect(second).toEqual({ ...first, created: false });
    expect((await rowCounts()).runs).toBe(1);
  });

  it("treats key order and whitespace as the same bytes (canonical JSON)", async () => {
    const envelope = await signed(makeBundle());
    await postJson(envelope);
    const reordered = JSON.stringify(
      {
        signature: envelope.signature,
        publicKey: envelope.publicKey,
        payload: envelope.payload,
        schema: envelope.schema,
      },
      null,
      3,
    );
    const res = await postJson(reordered);
    expect(res.status).toBe(200);
    expect((await rowCounts()).runs).toBe(1);
  });

  it("writes at most four rows for a bundle, and only one for a second run of known hardware and model", async () => {
    await postJson(await signed(makeBundle({ decodeTps: 5 })));
    const before = await rowCounts();
    await postJson(await signed(makeBundle({ decodeTps: 6 })));
    const after = await rowCounts();
    expect(after.runs - before.runs).toBe(1);
    expect(after.devices + after.hardware + after.models).toBe(before.devices + before.hardware + before.models);
  });

  it("verifies and stores every seed bundle signed in Node", async () => {
    const { seeds } = nodeSigned();
    expect(seeds.length).toBeGreaterThanOrEqual(15);
    for (const { file, envelope } of seeds) {
      const res = await postJson(envelope);
      expect(res.status, `${file}: ${await res.clone().text()}`).toBe(201);
    }
    expect((await rowCounts()).runs).toBe(seeds.length);
  });
});

describe("GET /v1/runs/:id", () => {
  it("returns the stored envelope, which re-verifies, with its derived row", async () => {
    const envelope = await signed(makeBundle({ decodeTps: 12.5 }));
    const { id } = SubmitResponse.parse(await (await postJson(envelope)).json());
    const res = await call(`/v1/runs/${id}`);
    expect(res.status).toBe(200);
    const detail = RunDetail.parse(await res.json());
    expect(detail.envelope).toEqual(envelope);
    expect((await verifyEnvelope(detail.envelope)).ok).toBe(true);
    expect(detail.run).toMatchObject({
      id,
      hardwareSlug: "test-board-1",
      modelSlug: "test-model-1b",
      decodeTps: 12.5,
      decodeNGen: 128,
      prefillTps: 41,
      loadMs: 812,
      qualityStatus: "unknown",
      rankedApart: false,
    });
  });
});

describe("GET /v1/leaderboard", () => {
  async function submitAll() {
    const runs = [
      makeBundle({ decodeTps: 8 }),
      makeBundle({ decodeTps: 30, model: "Broken-270M", qualityFail: "repetition loop" }),
      makeBundle({ decodeTps: 14, model: "Other-1B" }),
      makeBundle({ decodeTps: 11, board: "Other Board" }),
    ];
    for (const bundle of runs) expect((await postJson(await signed(bundle))).status).toBe(201);
  }

  it("ranks one hardware's runs by decode tok/s, with failed-quality runs apart at the end", async () => {
    await submitAll();
    const res = await call("/v1/leaderboard?hardware=test-board-1");
    const board = Leaderboard.parse(await res.json());
    expect(board.items.map((r) => [r.modelName, r.decodeTps, r.rankedApart])).toEqual([
      ["Other-1B", 14, false],
      ["Test-Model-1B", 8, false],
      ["Broken-270M", 30, true],
    ]);
    expect(board.items[2]?.qualityReason).toBe("repetition loop");
  });

  it("filters by model across hardware", async () => {
    await submitAll();
    const board = Leaderboard.parse(await (await call("/v1/leaderboard?model=test-model-1b")).json());
    expect(board.items.map((r) => [r.hardwareSlug, r.decodeTps])).toEqual([
      ["other-board", 11],
      ["test-board-1", 8],
    ]);
  });

  it("pages with a cursor through every run exactly once", async () => {
    await submitAll();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : "";
      const page = Leaderboard.parse(await (await call(`/v1/leaderboard?limit=1${query}`)).json());
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
  });
});

describe("catalogs", () => {
  it("lists hardware and models with their run counts", async () => {
    await postJson(await signed(makeBundle({ decodeTps: 9 })));
    await postJson(await signed(makeBundle({ decodeTps: 20, model: "Fast-0.5B" })));
    const hardware = (await (await call("/v1/hardware")).json()) as { items: unknown[] };
    expect(hardware.items).toEqual([
      { slug: "test-board-1", name: "Test Board 1", kind: "system", runs: 2, models: 2, bestDecodeTps: 20 },
    ]);
    const models = (await (await call("/v1/models")).json()) as { items: Array<{ slug: string; runs: number }> };
    expect(models.items.map((m) => [m.slug, m.runs])).toEqual([
      ["fast-0.5b", 1],
      ["test-model-1b", 1],
    ]);
  });

  it("lists runs newest first with a cursor", async () => {
    for (const tps of [1, 2, 3]) await postJson(await signed(makeBundle({ decodeTps: tps })));
    const first = RunPage.parse(await (await call("/v1/runs?limit=2")).json());
    expect(first.items).toHaveLength(2);
    const second = RunPage.parse(await (await call(`/v1/runs?limit=2&cursor=${first.nextCursor}`)).json());
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    const ids = [...first.items, ...second.items].map((r) => r.id);
    expect(new Set(ids).size).toBe(3);
  });
});
