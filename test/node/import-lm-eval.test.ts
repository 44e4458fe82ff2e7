// The lm-evaluation-harness importer on real-world-shaped results files (test/fixtures/import/lm-eval,
// shapes cited in SOURCES.md). Expected values are read by hand from the fixture text.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { importFile } from "../../cli/import/run-import.ts";
import { type Bundle, Bundle as BundleSchema, type QualitySuite } from "../../schema/bundle.ts";
import { runCli } from "../support/cli.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "import", "lm-eval");
const fixture = (name: string) => join(FIXTURES, name);
const context = { now: "2026-01-01T00:00:00.000Z", toolVersion: "0.0.0-test" };

async function importedOne(name: string, extra: { hardware?: string; model?: string } = {}): Promise<Bundle> {
  const { importer, bundles } = await importFile(fixture(name), "auto", { ...context, ...extra });
  expect(importer.format).toBe("lm-eval");
  expect(bundles).toHaveLength(1);
  return bundles[0] as Bundle;
}

function suite(bundle: Bundle, name: string): QualitySuite {
  const found = bundle.quality?.suites?.find((s) => s.name === name);
  if (!found) throw new Error(`no suite ${name}`);
  return found;
}

describe("lm-eval v0.4 results", () => {
  it("hellaswag, arc_challenge, truthfulqa_mc2 (as in seed report 004): scores, stderr, n-shot, version", async () => {
    const bundle = await importedOne("v0.4-pi4-hellaswag-arc-truthfulqa.json");
    expect(bundle.measurements).toEqual([]); // no speed in an lm-eval file, and none invented
    expect(bundle.provenance.notMeasured).toEqual(expect.arrayContaining(["prefill", "decode", "load"]));
    expect(bundle.quality?.suites?.map((s) => s.name)).toEqual(["arc_challenge", "hellaswag", "truthfulqa_mc2"]);
    const hellaswag = suite(bundle, "hellaswag");
    expect(hellaswag).toMatchObject({ source: "lm_eval", version: "1", tasks: ["hellaswag"] });
    expect(hellaswag.scores).toEqual([
      { metric: "acc", unit: "fraction", value: 0.4541, stderr: 0.004968 },
      { metric: "acc_norm", unit: "fraction", value: 0.6102, stderr: 0.004867 },
    ]);
    expect(hellaswag.notes).toBe("10-shot; task version 1; 10042 samples of 10042");
    expect(suite(bundle, "arc_challenge").notes).toMatch(/^25-shot/);
    expect(suite(bundle, "truthfulqa_mc2")).toMatchObject({ version: "2", scores: [{ metric: "acc", value: 0.3875 }] });
    expect(bundle.model).toEqual({
      name: "google/gemma-3-1b-it",
      huggingFaceRepo: "google/gemma-3-1b-it",
      quantization: "float32",
      parameters: 999885952,
    });
    expect(bundle.runtime).toEqual({ engine: "transformers", version: "4.56.2", backend: "cpu" });
    // from pretty_env_info; no GPU ("No CUDA")
    expect(bundle.device).toEqual({
      cpu: { model: "Cortex-A72" },
      os: { name: "Debian GNU/Linux 12 (bookworm) (aarch64)" },
    });
    expect(bundle.config?.batchSize).toBe(4);
    // date 1761054467.5 s since the epoch
    expect(bundle.provenance.measuredAt).toBe("2025-10-21T13:47:47.500Z");
    expect(bundle.provenance.importedFrom?.toolVersion).toBe("0.4.9.1");
  });

  it("groups become one suite with categories; filters, N/A and NaN stderr, perplexity kept apart", async () => {
    const bundle = await importedOne("v0.4-groups-filters-nan.json");
    expect(bundle.quality?.suites?.map((s) => s.name)).toEqual(["gsm8k", "lambada_openai", "mmlu"]);
    expect(suite(bundle, "gsm8k").scores?.map((s) => [s.metric, s.value, s.stderr])).toEqual([
      ["exact_match_strict_match", 0.3374, 0.01302],
      ["exact_match_flexible_extract", 0.3465, 0.01311],
    ]);
    const lambada = suite(bundle, "lambada_openai");
    expect(lambada.scores).toEqual([{ metric: "acc", unit: "fraction", value: 0.6518 }]); // stderr "N/A"
    expect(lambada.notes).toContain("perplexity,none = 5.4321"); // not a fraction
    const mmlu = suite(bundle, "mmlu");
    expect(mmlu.scores).toEqual([{ metric: "acc", unit: "fraction", value: 0.5963, stderr: 0.0039 }]);
    expect(mmlu.tasks?.sort()).toEqual([
      "mmlu_abstract_algebra",
      "mmlu_astronomy",
      "mmlu_formal_logic",
      "mmlu_philosophy",
    ]);
    expect(mmlu.categories?.map((c) => c.name)).toHaveLength(6);
    const philosophy = mmlu.categories?.find((c) => c.name === "mmlu_philosophy");
    expect(philosophy?.scores).toEqual([{ metric: "acc", unit: "fraction", value: 0.6656 }]); // NaN stderr dropped
    expect(philosophy?.notes).toBe("5-shot; task version 1; 200 samples of 311");
    expect(bundle.runtime).toEqual({ engine: "vllm", backend: "cuda" });
    expect(bundle.device.accelerators).toEqual([{ type: "gpu", model: "NVIDIA GeForce RTX 4090" }]);
    expect(bundle.config?.extraFlags).toEqual(expect.arrayContaining(["limit=200", "batch_size=auto"]));
  });

  it("a gguf server run names no model: --model and --hardware supply them", async () => {
    await expect(
      importFile(fixture("v0.4-gguf-llama-server.json"), "auto", { ...context, hardware: "Pi 5" }),
    ).rejects.toThrow(/--model/);
    const bundle = await importedOne("v0.4-gguf-llama-server.json", { hardware: "Pi 5", model: "Qwen3-0.6B Q8_0" });
    expect(bundle.model).toEqual({ name: "Qwen3-0.6B Q8_0", format: "gguf" });
    expect(bundle.runtime.engine).toBe("llama.cpp");
    expect(bundle.device).toEqual({ board: "Pi 5" });
    expect(suite(bundle, "arc_easy").scores?.[1]).toEqual({
      metric: "acc_norm",
      unit: "fraction",
      value: 0.5627,
      stderr: 0.01018,
    });
  });
});

describe("lm-eval v0.3 (2023)", () => {
  it("a console capture: logs, progress bars, CRLF, the printed JSON and its table", async () => {
    const bundle = await importedOne("v0.3-console-capture.txt", { hardware: "A100 node" });
    expect(bundle.model).toMatchObject({ name: "EleutherAI/pythia-160m", huggingFaceRepo: "EleutherAI/pythia-160m" });
    expect(bundle.runtime).toMatchObject({ engine: "transformers", backend: "cuda" });
    const truthfulqa = suite(bundle, "truthfulqa_mc");
    expect(truthfulqa.version).toBe("1");
    expect(truthfulqa.scores?.map((s) => [s.metric, s.value, s.stderr])).toEqual([
      ["mc1", 0.24479804161566707, 0.015051869486715006],
      ["mc2", 0.4167346433946015, 0.014627658066066017],
    ]);
    // no n-shot map in v0.3: config.num_fewshot applies to every task
    expect(truthfulqa.notes).toBe("0-shot; task version 1");
    expect(suite(bundle, "arc_challenge").version).toBe("0");
    expect(bundle.provenance.measuredAt).toBeUndefined();
  });
});

describe("bad lm-eval input", () => {
  it.each([
    ["broken/truncated.json", /truncated\.json:13: not valid JSON/],
    ["broken/results-not-object.json", /results-not-object\.json:2: expected lm-evaluation-harness results: results:/],
  ])("%s names the file, the line and what was expected", async (name, message) => {
    await expect(importFile(fixture(name), "auto", { ...context, hardware: "x" })).rejects.toThrow(message);
  });
});

describe("lm-eval dates out of range", () => {
  it.each([[1e20], ["12345678901234567890"]])("date %j is read as no date, not an unexpected error", async (date) => {
    const dir = await mkdtemp(join(tmpdir(), "edgebench-lm-eval-date-"));
    const results = JSON.parse(await readFile(fixture("v0.4-pi4-hellaswag-arc-truthfulqa.json"), "utf8"));
    const file = join(dir, "results.json");
    await writeFile(file, JSON.stringify({ ...results, date }));
    const { bundles } = await importFile(file, "auto", context);
    expect(bundles).toHaveLength(1);
    expect(bundles[0]?.provenance.measuredAt).toBeUndefined();
  });
});

describe("edgebench import --json (the real CLI)", () => {
  it("prints only a JSON array of valid bundles", async () => {
    const dir = await mkdtemp(join(tmpdir(), "edgebench-import-"));
    const result = await runCli(["import", "--json", fixture("v0.4-pi4-hellaswag-arc-truthfulqa.json")], {
      EDGEBENCH_HOME: join(dir, "home"),
    });
    expect(result.code).toBe(0);
    const bundles = z.array(BundleSchema).parse(JSON.parse(result.stdout));
    expect(bundles).toHaveLength(1);
    expect(bundles[0]?.quality?.suites).toHaveLength(3);
    expect(result.stderr).toMatch(/1 bundle from lm-eval/);
  });
});
