// Global setup of the browser suite (vitest project "browser"), run once in Node before any test
// file: one local registry (D1 migrations, the Worker on a free port, temp dirs), the seed runs,
// the hostile bundles of test/browser/escaping.test.ts, one site build, and one Chromium that every
// test file connects to. What the tests need to know (URLs, ids, slugs) is handed over with provide().
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserServer, chromium } from "playwright-core";
import type { TestProject } from "vitest/node";
import { submitEnvelope } from "../../cli/lib/registry.ts";
import { HardwareList, ModelList, RunDetail, RunPage } from "../../schema/api.ts";
import { generateKeyPair, type PrivateKeyJwk, signPayload } from "../../schema/signing.ts";
import {
  applyMigrations,
  buildWorker,
  ROOT,
  type RunningWorker,
  SEEDS_DIR,
  startWorker,
} from "../../scripts/local-registry.ts";
import { type BrowserSuite, CHROMIUM_ARGS, CHROMIUM_PATH, type HostileRun, PAYLOADS } from "./browser-shared.ts";
import { makeBundle } from "./bundles.ts";
import { freePort } from "./load.ts";

declare module "vitest" {
  export interface ProvidedContext {
    browserSuite: BrowserSuite;
  }
}

async function submitSeedFiles(url: string, key: PrivateKeyJwk): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  const files = (await readdir(SEEDS_DIR)).filter((f) => f.endsWith(".json")).sort();
  const now = new Date().toISOString();
  for (const file of files) {
    const bundle = JSON.parse(await readFile(join(SEEDS_DIR, file), "utf8"));
    // The registry refuses bundles created long ago: a seed is imported when it is submitted.
    bundle.provenance.createdAt = now;
    ids[file] = (await submitEnvelope(url, await signPayload(bundle, key))).id;
  }
  return ids;
}

/**
 * Three bundles whose hardware name, model name, notes, quality reason and source URL carry the
 * payloads, rotated so every payload sits in every place once. The first and last fail their
 * quality gate (their reason is then shown), the middle one is ranked. `rerun` makes each pair's
 * second run, on a newer engine and passing, so every hostile pair has a history page too.
 */
function hostileBundles(rerun = false): Array<{ bundle: Record<string, unknown>; board: string; model: string }> {
  const [script, img, svg] = [PAYLOADS.script, PAYLOADS.img, PAYLOADS.svg];
  const rotations = [
    { board: script, model: img, text: svg, fail: true },
    { board: img, model: svg, text: script, fail: false },
    { board: svg, model: script, text: img, fail: true },
  ];
  return rotations.map(({ board, model, text, fail }, i) => {
    const bundle = makeBundle({
      board,
      model,
      decodeTps: 5 + i + (rerun ? 1 : 0),
      notes: `${text} ${PAYLOADS.javascriptUrl}`,
      ...(fail && !rerun ? { qualityFail: board } : {}),
    }) as unknown as Record<string, unknown> & {
      device: Record<string, unknown>;
      model: Record<string, unknown>;
      runtime: Record<string, unknown>;
      provenance: Record<string, unknown>;
    };
    bundle.device.notes = model;
    bundle.model.notes = board;
    bundle.runtime.notes = text;
    if (rerun) bundle.runtime.version = "b6100";
    bundle.provenance = {
      ...bundle.provenance,
      method: "imported",
      importedFrom: { format: "report", title: board, url: PAYLOADS.httpUrl },
    };
    return { bundle, board, model };
  });
}

/**
 * The name the partial-offload run gives its model: a published model's file name (a 28-layer model,
 * like the fixture's generated one), which the registry recognizes and files under its canonical name,
 * "Qwen3 1.7B". The weights are still the fixture's; only how the page names them is under test.
 */
const PARTIAL_OFFLOAD_MODEL_NAME = "Qwen3-1.7B-Q8_0.gguf";

/** The real bundle `edgebench run` wrote on an NVIDIA H200 (test/fixtures/gpu/README.md). */
const H200_BUNDLE = join(ROOT, "test", "fixtures", "gpu", "h200-vulkan-edgebench-run.json");

type Measurement = { kind: string; cold?: boolean; nGen?: number; nPrompt?: number } & Record<string, unknown>;
type GpuBundle = Record<string, unknown> & {
  device: Record<string, unknown>;
  config: Record<string, unknown>;
  model: Record<string, unknown>;
  measurements: Measurement[];
  provenance: Record<string, unknown>;
};

/**
 * Two GPU runs: the H200 bundle exactly as the device wrote it (every layer on the GPU, written before
 * bundles said how decode was timed), and the same run reshaped as a current bundle would state a
 * partial offload: 24 of 28 layers on the GPU, the GPU and the model named as tools print them (the
 * registry files them under canonical names), engine-timed decode with a
 * delivered rate beside it, warm-up runs, and the slow first prefill repetition marked as an outlier.
 */
async function gpuBundles(): Promise<{ whole: GpuBundle; partial: GpuBundle }> {
  const whole = JSON.parse(await readFile(H200_BUNDLE, "utf8")) as GpuBundle;
  const partial = structuredClone(whole);
  partial.config.gpuLayers = 24;
  partial.model.layers = 28;
  partial.model.name = PARTIAL_OFFLOAD_MODEL_NAME;
  // The GPU as llama.cpp's Vulkan backend prints it, vendor in brackets; the registry files it as "NVIDIA H200".
  (partial.device.accelerators as Array<Record<string, unknown>>)[0] = {
    ...(partial.device.accelerators as Array<Record<string, unknown>>)[0],
    model: "NVIDIA H200 (NVIDIA)",
  };
  partial.provenance.nonce = "partialOffload24of28";
  partial.measurements = partial.measurements.flatMap((m): Measurement[] => {
    if (m.kind === "decode" && !m.cold) {
      const engine = { ...m, timing: "engine", warmup: 1 };
      if (m.nGen !== 128) return [engine];
      // The rate the application saw: token arrival, a little below the engine's own timing.
      const delivered: Measurement = {
        kind: "decode",
        unit: m.unit,
        label: "tg128 delivered",
        cold: false,
        nGen: m.nGen,
        depth: m.depth,
        repetitions: m.repetitions,
        timing: "delivered",
        warmup: 1,
        samples: (m.samples as number[]).map((x) => Number((x * 0.93).toFixed(3))),
      };
      return [engine, delivered];
    }
    // The first pp512 repetition paid for the GPU's pipeline compilation: far below the other two.
    if (m.kind === "prefill" && m.nPrompt === 512) return [{ ...m, warmup: 1, outliers: [0] }];
    return [m];
  });
  return { whole, partial };
}

export default async function setup(project: TestProject) {
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), "edgebench-browser-"));
  const persistTo = join(dir, "state");
  let worker: RunningWorker | undefined;
  let browser: BrowserServer | undefined;
  const teardown = async () => {
    await browser?.close().catch(() => {});
    await worker?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const built = Date.now();
    const [port, configPath] = await Promise.all([freePort(), buildWorker(), applyMigrations(persistTo)]);
    const buildMs = Date.now() - built;
    worker = await startWorker({ port, persistTo, configPath, demoKeyDir: join(dir, "demo-key") });
    const url = worker.url;

    const key = await generateKeyPair();
    const seedIds = await submitSeedFiles(url, key.privateKey);

    const hostile: HostileRun[] = [];
    for (const { bundle, board, model } of hostileBundles()) {
      const answer = await submitEnvelope(url, await signPayload(bundle, key.privateKey));
      hostile.push({ id: answer.id, board, model, hardwareSlug: "", modelSlug: "", modelName: "" });
    }
    for (const { bundle } of hostileBundles(true)) await submitEnvelope(url, await signPayload(bundle, key.privateKey));
    // The seeds share no model between two hardware (each fine-tune is a model of its own), so one plain
    // run of a seed's model on another board gives the compare pages a pair to show.
    const comparePair = makeBundle({
      board: "Raspberry Pi 5",
      model: "Qwen3-0.6B",
      quantization: "Q4_K_M",
      decodeTps: 12,
    });
    await submitEnvelope(url, await signPayload(comparePair, key.privateKey));
    const gpu = await gpuBundles();
    const now = new Date().toISOString();
    const gpuIds = { whole: "", partial: "" };
    for (const which of ["whole", "partial"] as const) {
      const bundle = gpu[which];
      bundle.provenance.createdAt = now;
      gpuIds[which] = (await submitEnvelope(url, await signPayload(bundle, key.privateKey))).id;
    }
    // A javascript: URL where the bundle takes a URL (the source of an import) must be refused.
    const jsUrlBundle = hostileBundles()[0]?.bundle as { provenance: { importedFrom: { url: string } } };
    jsUrlBundle.provenance.importedFrom.url = PAYLOADS.javascriptUrl;
    const jsUrlAnswer = await fetch(`${url}/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(await signPayload(jsUrlBundle, key.privateKey)),
    });

    const hardware = HardwareList.parse(await (await fetch(`${url}/v1/hardware`)).json()).items;
    const models = ModelList.parse(await (await fetch(`${url}/v1/models`)).json()).items;
    for (const run of hostile) {
      // Filed as the registry files it: the model under its canonical name (schema/model-identity.ts),
      // which may differ from the name the bundle gave; the hardware under the board's name.
      const filed = RunDetail.parse(await (await fetch(`${url}/v1/runs/${run.id}`)).json()).run;
      run.hardwareSlug = hardware.find((h) => h.slug === filed.hardwareSlug && h.name === run.board)?.slug ?? "";
      run.modelSlug = models.find((m) => m.slug === filed.modelSlug)?.slug ?? "";
      run.modelName = filed.modelName;
      if (!run.hardwareSlug || !run.modelSlug) throw new Error(`hostile run ${run.id} is not in the catalogs`);
    }
    const runs = RunPage.parse(await (await fetch(`${url}/v1/runs?limit=100`)).json()).items;

    browser = await chromium.launchServer({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });

    // The busiest hardware and model give the tables with the most rows to sort and filter.
    const busiestHardware = [...hardware].sort((a, b) => b.runs - a.runs)[0];
    const busiestModel = [...models].sort((a, b) => b.hardware - a.hardware || b.runs - a.runs)[0];
    // A history page exists for a hardware × model run at least twice: the seeds' pair with the most runs.
    const pairs = new Map<string, { hardwareSlug: string; modelSlug: string; runs: number }>();
    for (const r of runs) {
      if (hostile.some((h) => h.hardwareSlug === r.hardwareSlug)) continue;
      if (r.id === gpuIds.whole || r.id === gpuIds.partial) continue;
      const key = `${r.hardwareSlug}/${r.modelSlug}`;
      const pair = pairs.get(key) ?? { hardwareSlug: r.hardwareSlug, modelSlug: r.modelSlug, runs: 0 };
      pair.runs++;
      pairs.set(key, pair);
    }
    const historyPair = [...pairs.values()].sort((a, b) => b.runs - a.runs)[0];
    project.provide("browserSuite", {
      baseUrl: url,
      wsEndpoint: browser.wsEndpoint(),
      seedIds,
      hostile,
      jsUrlStatus: jsUrlAnswer.status,
      hardwareSlug: busiestHardware?.slug ?? "",
      modelSlug: busiestModel?.slug ?? "",
      history: { hardwareSlug: historyPair?.hardwareSlug ?? "", modelSlug: historyPair?.modelSlug ?? "" },
      plainRunId: seedIds["000-gemma-3-270m-rk3588.json"] ?? "",
      sweepRunId: seedIds["003-qwen3-4b-instruct-2507-q4-jetson-orin.json"] ?? "",
      soakRunId: seedIds["004-antonio-gemma3-smart-q4-rpi4.json"] ?? "",
      gpuRunId: gpuIds.whole,
      gpuPartialRunId: gpuIds.partial,
    });
    console.log(
      `browser suite: registry at ${url} with ${runs.length} runs, Worker built (or found built) in ${buildMs} ms, ready in ${Date.now() - started} ms`,
    );
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
