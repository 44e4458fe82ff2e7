// Runs in Node before the workerd tests: signs the seed bundles with a Node-made key, so the tests
// inside workerd verify Node's signatures and can check that workerd signs to the same bytes.
import { readFileSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { importFile } from "../../cli/import/run-import.ts";
import { generateKeyPair, signPayload } from "../../schema/signing.ts";
import { makeBundle, TEST_CREATED_AT } from "./bundles.ts";

/** The registry refuses bundles created long ago: a seed is "imported" when it is submitted. */
function asImportedNow(bundle: Record<string, unknown>): Record<string, unknown> {
  return { ...bundle, provenance: { ...(bundle.provenance as object), createdAt: TEST_CREATED_AT } };
}

import type { NodeSigned } from "./node-signed.ts";
import { readSeedBundles } from "./seeds.ts";

declare module "vitest" {
  export interface ProvidedContext {
    nodeSigned: NodeSigned;
  }
}

/** The files of the identity tests, through the same importers `edgebench import` runs. */
async function importFixtures(): Promise<NodeSigned["imported"]> {
  const now = TEST_CREATED_AT;
  const files: Record<string, { file: string; hardware?: string }> = {
    llamaBenchPi4: {
      file: "test/fixtures/import/llama-bench/json-pi4-openblas.json",
      hardware: "Raspberry Pi 4 Model B",
    },
    ollamaPi4: { file: "test/fixtures/identity/ollama-gemma3-270m.json", hardware: "Raspberry Pi 4 Model B" },
    mlxM2: { file: "test/fixtures/identity/mlx-gemma-3-270m-it.txt", hardware: "Apple M2" },
    llamaBench4090: { file: "test/fixtures/import/llama-bench/json-2025-rtx4090-cuda.json" },
  };
  const out: NodeSigned["imported"] = {};
  for (const [name, { file, hardware }] of Object.entries(files)) {
    const { bundles } = await importFile(file, "auto", { now, toolVersion: "test", ...(hardware ? { hardware } : {}) });
    out[name] = bundles as unknown as Array<Record<string, unknown>>;
  }
  return out;
}

export default async function setup(project: TestProject) {
  const key = await generateKeyPair();
  const seeds = [];
  for (const { file, bundle } of readSeedBundles()) {
    seeds.push({ file, envelope: await signPayload(asImportedNow(bundle), key.privateKey) });
  }
  const sample = await signPayload(makeBundle({ notes: "signed in Node: ünïcödé ✓ 🚀" }), key.privateKey);
  const gpuSample = asImportedNow(JSON.parse(readFileSync("test/fixtures/gpu/h200-vulkan-edgebench-run.json", "utf8")));
  const imported = await importFixtures();
  project.provide("nodeSigned", { privateKey: key.privateKey, seeds, sample, gpuSample, imported });
}
