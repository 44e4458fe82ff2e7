// Global setup of the browser suite (vitest project "browser"), run once in Node before any test
// file: one local registry (D1 migrations, wrangler dev on a free port, temp dirs), the seed runs,
// the hostile bundles of test/browser/escaping.test.ts, one site build, and one Chromium that every
// test file connects to. What the tests need to know (URLs, ids, slugs) is handed over with provide().
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserServer, chromium } from "playwright-core";
import type { TestProject } from "vitest/node";
import { submitEnvelope } from "../../cli/lib/registry.ts";
import { HardwareList, ModelList, RunPage } from "../../schema/api.ts";
import { generateKeyPair, type PrivateKeyJwk, signPayload } from "../../schema/signing.ts";
import {
  applyMigrations,
  buildSite,
  type RunningWorker,
  SEEDS_DIR,
  startWorker,
  waitForBuiltPage,
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

export default async function setup(project: TestProject) {
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), "edgebench-browser-"));
  const assetsDir = join(dir, "site");
  const persistTo = join(dir, "state");
  await mkdir(assetsDir, { recursive: true });
  let worker: RunningWorker | undefined;
  let browser: BrowserServer | undefined;
  const teardown = async () => {
    await browser?.close().catch(() => {});
    await worker?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [port] = await Promise.all([freePort(), applyMigrations(persistTo)]);
    worker = await startWorker({ port, persistTo, assetsDir, demoKeyDir: join(dir, "demo-key") });
    const url = worker.url;

    const key = await generateKeyPair();
    const seedIds = await submitSeedFiles(url, key.privateKey);

    const hostile: HostileRun[] = [];
    for (const { bundle, board, model } of hostileBundles()) {
      const answer = await submitEnvelope(url, await signPayload(bundle, key.privateKey));
      hostile.push({ id: answer.id, board, model, hardwareSlug: "", modelSlug: "" });
    }
    for (const { bundle } of hostileBundles(true)) await submitEnvelope(url, await signPayload(bundle, key.privateKey));
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
      run.hardwareSlug = hardware.find((h) => h.name === run.board)?.slug ?? "";
      run.modelSlug = models.find((m) => m.name === run.model)?.slug ?? "";
      if (!run.hardwareSlug || !run.modelSlug) throw new Error(`hostile run ${run.id} is not in the catalogs`);
    }
    const runs = RunPage.parse(await (await fetch(`${url}/v1/runs?limit=100`)).json()).items;

    const built = Date.now();
    await buildSite(url, assetsDir);
    await waitForBuiltPage(url, assetsDir, "/");
    const buildMs = Date.now() - built;

    browser = await chromium.launchServer({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });

    // The busiest hardware and model give the tables with the most rows to sort and filter.
    const busiestHardware = [...hardware].sort((a, b) => b.runs - a.runs)[0];
    const busiestModel = [...models].sort((a, b) => b.hardware - a.hardware || b.runs - a.runs)[0];
    // A history page exists for a hardware × model run at least twice: the seeds' pair with the most runs.
    const pairs = new Map<string, { hardwareSlug: string; modelSlug: string; runs: number }>();
    for (const r of runs) {
      if (hostile.some((h) => h.hardwareSlug === r.hardwareSlug)) continue;
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
    });
    console.log(
      `browser suite: registry at ${url} with ${runs.length} runs, site built in ${buildMs} ms, ready in ${Date.now() - started} ms`,
    );
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
