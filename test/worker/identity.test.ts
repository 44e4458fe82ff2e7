// One model, one page; one board, one leaderboard (issue 16). The bundles here were made in Node by
// the real importers from files in test/fixtures/ (test/support/global-setup.ts), and are signed and
// submitted as `edgebench import --submit` would.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HardwareDetail, Leaderboard, ModelDetail, RunDetail, SubmitResponse } from "../../schema/api.ts";
import type { Bundle } from "../../schema/bundle.ts";
import { MergeResponse, RekeyResponse } from "../../schema/moderation.ts";
import { call, nodeSigned, postJson, signed } from "./helpers.ts";

const TOKEN = "test-admin-token-0123456789";

function imported(name: string): Bundle[] {
  const bundles = nodeSigned().imported[name];
  if (!bundles?.length) throw new Error(`no imported bundles named ${name}`);
  return structuredClone(bundles) as unknown as Bundle[];
}

async function submitAll(bundles: Bundle[]): Promise<string[]> {
  const ids: string[] = [];
  for (const bundle of bundles) {
    const res = await postJson(await signed(bundle as unknown as Record<string, unknown>));
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(201);
    ids.push(SubmitResponse.parse(body).id);
  }
  return ids;
}

async function runOf(id: string) {
  return RunDetail.parse(await (await call(`/v1/runs/${id}`)).json()).run;
}

function admin(path: string, body: unknown) {
  return call(`/v1/admin${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("one model, one page", () => {
  it("llama-bench, Ollama and MLX results for gemma-3-270m-it land on one model page, names as given kept", async () => {
    const ids = await submitAll([...imported("llamaBenchPi4"), ...imported("ollamaPi4"), ...imported("mlxM2")]);
    const rows = await Promise.all(ids.map(runOf));
    // Google's instruction-tuned Gemma 3 270M ("-it"); Ollama's gemma3:270m tag is that model.
    expect(new Set(rows.map((r) => r.modelSlug))).toEqual(new Set(["gemma-3-270m-instruct"]));
    const asGiven = new Set(rows.map((r) => r.sourceModelName));
    expect(asGiven).toContain("gemma3:270m");
    expect([...asGiven].some((n) => /gemma-3-270m-it-4bit/.test(n))).toBe(true);
    // Quantization is the run's, never the model's: the llama.cpp Q4_K_M file and MLX's 4-bit.
    const quantizations = new Set(rows.map((r) => r.quantization));
    expect(quantizations).toContain("Q4_K_M");
    expect(quantizations).toContain("4bit");
    // The leaderboard filter takes any spelling of it.
    for (const spelling of ["q4_k_m", "Q4_K - Medium"]) {
      const rows = Leaderboard.parse(
        await (
          await call(`/v1/leaderboard?model=gemma-3-270m-instruct&quantization=${encodeURIComponent(spelling)}`)
        ).json(),
      ).items;
      expect(rows.length, spelling).toBeGreaterThan(0);
      expect(new Set(rows.map((r) => r.quantization)), spelling).toEqual(new Set(["Q4_K_M"]));
    }

    const page = ModelDetail.parse(await (await call("/v1/models/gemma-3-270m-instruct")).json());
    expect(page).toMatchObject({ slug: "gemma-3-270m-instruct", runs: ids.length, variant: "instruct" });
    // The names people use answer at the canonical page.
    for (const name of ["gemma3:270m", "gemma-3-270m-it", "mlx-community/gemma-3-270m-it-4bit"]) {
      const res = await call(`/v1/models/${encodeURIComponent(name)}`);
      expect(res.status, name).toBe(200);
      expect(ModelDetail.parse(await res.json()).slug, name).toBe("gemma-3-270m-instruct");
    }
    // The Raspberry Pi 4 runs are on the board's leaderboard, not on one named after a backend.
    const board = Leaderboard.parse(await (await call("/v1/leaderboard?hardware=raspberry-pi-4")).json());
    expect(board.items.length).toBeGreaterThanOrEqual(2);
    expect((await call("/v1/hardware/openblas-cpu")).status).toBe(404);
  });

  it("an imported llama-bench file with n_gpu_layers 99 and a gpu_info lands under that GPU", async () => {
    const [id] = await submitAll(imported("llamaBench4090").slice(0, 1));
    const run = await runOf(id as string);
    expect(run).toMatchObject({
      hardwareSlug: "nvidia-geforce-rtx-4090",
      hardwareName: "NVIDIA GeForce RTX 4090",
      hardwareKind: "gpu",
      hostCpu: "AMD Ryzen 9 7950X 16-Core Processor",
      gpuLayers: 99,
      modelSlug: "llama-3.2-3b-instruct",
      quantization: "Q4_K_M",
    });
    const entry = HardwareDetail.parse(await (await call("/v1/hardware/rtx-4090")).json());
    expect(entry.slug).toBe("nvidia-geforce-rtx-4090");
  });

  it("the field reports: a community fine-tune keeps its own page, linked to its base model", async () => {
    for (const { envelope } of nodeSigned().seeds) expect((await postJson(envelope)).status).toBe(201);
    const models = (await (await call("/v1/models")).json()) as {
      items: Array<{ slug: string; baseSlug: string | null }>;
    };
    const antonio = models.items.find((m) => m.slug.startsWith("antonio-gemma3"));
    expect(antonio?.baseSlug).toBe("gemma-3-1b-instruct");
    // The four LoRA adapters of one report are four fine-tunes of one base model.
    const lora = models.items.filter((m) => m.slug.startsWith("gemma-3-270m-lora-"));
    expect(lora).toHaveLength(4);
    expect(new Set(lora.map((m) => m.baseSlug))).toEqual(new Set(["gemma-3-270m"]));
  });
});

describe("merges", () => {
  it("moves an entry's runs into another, answers its slug there, and is undone", async () => {
    const [a] = await submitAll(imported("ollamaPi4"));
    const bundle = imported("mlxM2")[0] as Bundle;
    bundle.model = {
      ...bundle.model,
      name: "my-gemma-270m-finetune",
      huggingFaceRepo: "someone/my-gemma-270m-finetune",
    };
    const [b] = await submitAll([bundle]);
    const from = (await runOf(b as string)).modelSlug;
    const into = (await runOf(a as string)).modelSlug;
    expect(from).not.toBe(into);

    const merged = await admin("/merges", { kind: "model", from, into, reason: "the same weights, renamed" });
    expect(merged.status).toBe(201);
    expect(MergeResponse.parse(await merged.json())).toMatchObject({ from, into, runsMoved: 1 });
    expect((await runOf(b as string)).modelSlug).toBe(into);
    expect(ModelDetail.parse(await (await call(`/v1/models/${from}`)).json())).toMatchObject({ slug: into, runs: 2 });
    // A later run of the merged model lands on the merged page too.
    const later = structuredClone(bundle);
    later.provenance = { ...later.provenance, nonce: "merge-later-0001" };
    const [c] = await submitAll([later]);
    expect((await runOf(c as string)).modelSlug).toBe(into);
    const audit = (await (await call(`/v1/audit?target=${encodeURIComponent(`model:${from}`)}`)).json()) as {
      items: Array<{ action: string; reason: string }>;
    };
    expect(audit.items[0]).toMatchObject({ action: "model.merge", reason: "the same weights, renamed" });

    const undone = await admin("/merges/undo", { kind: "model", from, reason: "they differ after all" });
    expect(undone.status).toBe(200);
    expect(MergeResponse.parse(await undone.json()).runsMoved).toBe(2);
    expect((await runOf(b as string)).modelSlug).toBe(from);
    expect((await runOf(c as string)).modelSlug).toBe(from);
    expect(ModelDetail.parse(await (await call(`/v1/models/${into}`)).json()).runs).toBe(1);
    expect(ModelDetail.parse(await (await call(`/v1/models/${from}`)).json())).toMatchObject({ slug: from, runs: 2 });
  });

  it("finishes a merge whose re-key was cut short on the next POST /v1/admin/rekey", async () => {
    const [a] = await submitAll(imported("ollamaPi4"));
    const bundle = imported("mlxM2")[0] as Bundle;
    bundle.model = {
      ...bundle.model,
      name: "my-gemma-270m-finetune",
      huggingFaceRepo: "someone/my-gemma-270m-finetune",
    };
    const [b] = await submitAll([bundle]);
    const from = (await runOf(b as string)).modelSlug;
    const into = (await runOf(a as string)).modelSlug;
    // The merge's own batch (alias and audit) landed; the re-key of its runs did not.
    await env.DB.prepare("insert into aliases (kind, alias, slug, created_at) values ('model', ?, ?, ?)")
      .bind(from, into, new Date().toISOString())
      .run();
    expect((await runOf(b as string)).modelSlug).toBe(from);
    const again = await admin("/merges", { kind: "model", from, into, reason: "again" });
    expect(again.status).toBe(409);
    const rekey = await call("/v1/admin/rekey", { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(RekeyResponse.parse(await rekey.json())).toMatchObject({ rekeyed: 1, moved: 1, remaining: 0 });
    expect((await runOf(b as string)).modelSlug).toBe(into);
    expect(ModelDetail.parse(await (await call(`/v1/models/${into}`)).json()).runs).toBe(2);
  });

  it("refuses a merge into an entry that does not exist, writing nothing", async () => {
    await submitAll(imported("ollamaPi4"));
    const res = await admin("/merges", {
      kind: "model",
      from: "gemma-3-270m-instruct",
      into: "no-such-model",
      reason: "x",
    });
    expect(res.status).toBe(404);
    expect((await call("/v1/models/gemma-3-270m-instruct")).status).toBe(200);
  });
});
