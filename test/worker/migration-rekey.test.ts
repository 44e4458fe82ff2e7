// The migration that re-keys stored runs (issues 12 and 16): a database in the shape the first
// migration left it, holding runs filed by the old rules (a GPU run under its host CPU, models
// under their printed names), is migrated and re-keyed. Nothing is lost, every run is filed by the
// new rules, and every old hardware and model URL still answers through an alias.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HardwareDetail, ModelDetail, RunDetail, SubmitResponse } from "../../schema/api.ts";
import { type Bundle, Bundle as BundleSchema } from "../../schema/bundle.ts";
import { RekeyResponse } from "../../schema/moderation.ts";
import type { Envelope } from "../../schema/signing.ts";
import { slugify } from "../../schema/slug.ts";
import { call, nodeSigned, postJson, signed } from "./helpers.ts";

const TOKEN = "test-admin-token-0123456789";

// The identity rules before this migration, frozen here as they were (schema/slug.ts at 750ae7a):
// the hardware was the board, else the SoC, else the CPU; the model was its printed name.
function legacyHardware(bundle: Bundle): { slug: string; name: string } {
  const name = bundle.device.board ?? bundle.device.soc ?? bundle.device.cpu?.model ?? "unknown hardware";
  const cleaned = name
    .trim()
    .replace(/\s+rev(ision)?\s*[\d.]+$/i, "")
    .replace(/^raspberry pi ([45]) model b\b/i, "raspberry pi $1");
  return { slug: slugify(cleaned), name };
}
function legacyModel(bundle: Bundle): { slug: string; name: string } {
  const name = bundle.model.name;
  const base = name.includes("/") ? name.slice(name.lastIndexOf("/") + 1) : name;
  return { slug: slugify(base.replace(/\.(gguf|rkllm|safetensors|onnx|bin)$/i, "")), name };
}

async function all<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  return (await env.DB.prepare(sql).all<T>()).results;
}

async function columnsOf(table: string): Promise<string[]> {
  return (await all<{ name: string }>(`pragma table_info(${table})`)).map((c) => c.name);
}

async function insertRows(table: string, rows: Array<Record<string, unknown>>, columns: string[]) {
  if (!rows.length) return;
  await env.DB.batch(
    rows.map((row) =>
      env.DB.prepare(
        `insert into ${table} (${columns.map((c) => `"${c}"`).join(", ")}) values (${columns.map(() => "?").join(", ")})`,
      ).bind(...columns.map((c) => row[c] ?? null)),
    ),
  );
}

/** The bundles of the field reports plus the H200 run and an imported llama-bench row of one model. */
async function storeRuns(): Promise<Map<string, Bundle>> {
  const { seeds, gpuSample } = nodeSigned();
  const gpu = structuredClone(gpuSample) as unknown as Bundle;
  const llamaBench: Bundle = BundleSchema.parse({
    schema: "edgebench.bundle/v1",
    device: { board: "Raspberry Pi 4 Model B Rev 1.4", cpu: { model: "Cortex-A72", cores: 4 } },
    runtime: { engine: "llama.cpp", version: "b6500", backend: "cpu" },
    model: {
      name: "gemma3 270M Q4_K - Medium",
      fileName: "gemma-3-270m-it-Q4_K_M.gguf",
      quantization: "Q4_K - Medium",
    },
    measurements: [{ kind: "decode", unit: "tokens/s", label: "tg128", nGen: 128, mean: 24.1 }],
    provenance: {
      tool: { name: "edgebench", version: "0.1.0" },
      method: "imported",
      importedFrom: { format: "llama-bench" },
      createdAt: new Date().toISOString(),
    },
  });
  const envelopes: Envelope[] = [
    ...seeds.map((s) => s.envelope),
    await signed(gpu as unknown as Record<string, unknown>),
    await signed(llamaBench as unknown as Record<string, unknown>),
  ];
  const byId = new Map<string, Bundle>();
  for (const envelope of envelopes) {
    const res = await postJson(envelope);
    expect(res.status).toBe(201);
    byId.set(SubmitResponse.parse(await res.json()).id, BundleSchema.parse(envelope.payload));
  }
  return byId;
}

describe("the re-keying migration", () => {
  it("keeps every run, files each by the new rules, and answers old slugs through aliases", async () => {
    const bundles = await storeRuns();
    const stored = {
      runs: await all("select * from runs order by id"),
      devices: await all("select * from devices order by id"),
    };

    // Back to the database as the first migration left it, holding the same runs filed by the old rules.
    const tables = await all<{ name: string }>(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%'",
    );
    const order = ["runs", "cells", ...tables.map((t) => t.name).filter((n) => n !== "runs" && n !== "cells")];
    await env.DB.batch(order.map((t) => env.DB.prepare(`drop table if exists "${t}"`)));
    const migrations = env.TEST_MIGRATIONS;
    await applyD1Migrations(env.DB, migrations.slice(0, 1));
    const legacyRuns = stored.runs.map((row) => {
      const bundle = bundles.get(row.id as string) as Bundle;
      const hw = legacyHardware(bundle);
      const model = legacyModel(bundle);
      return {
        ...row,
        id: row.id as string,
        hardware_slug: hw.slug,
        hardware_name: hw.name,
        model_slug: model.slug,
        model_name: model.name,
        quantization: bundle.model.quantization ?? null,
        cell: [hw.slug, model.slug, (bundle.model.quantization ?? "").toLowerCase(), bundle.runtime.engine].join("|"),
      };
    });
    const unique = (rows: Array<{ slug: string; name: string }>) => [...new Map(rows.map((r) => [r.slug, r])).values()];
    const at = new Date().toISOString();
    await insertRows("devices", stored.devices, await columnsOf("devices"));
    await insertRows(
      "hardware",
      unique([...bundles.values()].map(legacyHardware)).map((h) => ({ ...h, first_seen_at: at })),
      ["slug", "name", "first_seen_at"],
    );
    await insertRows(
      "models",
      unique([...bundles.values()].map(legacyModel)).map((m) => ({ ...m, first_seen_at: at })),
      ["slug", "name", "first_seen_at"],
    );
    await insertRows("runs", legacyRuns, await columnsOf("runs"));
    const legacySlugs = new Set(legacyRuns.map((r) => r.hardware_slug));
    expect(legacySlugs).toContain("intel-xeon-processor");

    // The migration itself: the new columns, and every stored run marked as filed by older rules.
    await applyD1Migrations(env.DB, migrations);
    const versions = await all<{ v: number; n: number }>(
      "select identity_version as v, count(*) as n from runs group by 1",
    );
    expect(versions).toEqual([{ v: 0, n: bundles.size }]);

    // The re-key, as an operator runs it after migrating.
    const res = await call("/v1/admin/rekey", { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const rekey = RekeyResponse.parse(await res.json());
    expect(rekey).toMatchObject({ rekeyed: bundles.size, remaining: 0, unreadable: [] });

    // Nothing lost: the same runs, the same envelopes, the same devices.
    const after = await all("select id, envelope, device_id from runs order by id");
    expect(after).toEqual(stored.runs.map((r) => ({ id: r.id, envelope: r.envelope, device_id: r.device_id })));
    const [{ n: catalogRuns } = { n: -1 }] = await all<{ n: number }>("select sum(run_count) as n from hardware");
    expect(catalogRuns).toBe(bundles.size);
    const [{ n: modelRuns } = { n: -1 }] = await all<{ n: number }>("select sum(run_count) as n from models");
    expect(modelRuns).toBe(bundles.size);

    // Every run reads as the new rules file it (the same as a fresh submission).
    for (const row of stored.runs) {
      const { run } = RunDetail.parse(await (await call(`/v1/runs/${row.id}`)).json());
      expect({ hw: run.hardwareSlug, model: run.modelSlug }).toEqual({ hw: row.hardware_slug, model: row.model_slug });
    }

    const newSlugOf = (id: string) => stored.runs.find((r) => r.id === id)?.model_slug;
    // The old URLs answer with the new entries.
    const xeon = await call("/v1/hardware/intel-xeon-processor");
    expect(xeon.status).toBe(200);
    expect(HardwareDetail.parse(await xeon.json())).toMatchObject({ slug: "nvidia-h200", name: "NVIDIA H200" });
    for (const legacy of legacyRuns) {
      // An old slug answers with the entry one of its runs went to (the entry itself where runs stayed).
      const wentTo = new Set(legacyRuns.filter((r) => r.model_slug === legacy.model_slug).map((r) => newSlugOf(r.id)));
      const model = await call(`/v1/models/${legacy.model_slug}`);
      expect(model.status, legacy.model_slug).toBe(200);
      expect(wentTo).toContain(ModelDetail.parse(await model.json()).slug);
      const hardware = await call(`/v1/hardware/${legacy.hardware_slug}`);
      expect(hardware.status, legacy.hardware_slug).toBe(200);
    }

    // A second re-key finds nothing to do.
    const again = RekeyResponse.parse(
      await (await call("/v1/admin/rekey", { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } })).json(),
    );
    expect(again).toMatchObject({ rekeyed: 0, remaining: 0 });
  });
});
