// Runs in Node before the workerd tests: signs the seed bundles with a Node-made key, so the tests
// inside workerd verify Node's signatures and can check that workerd signs to the same bytes.
import type { TestProject } from "vitest/node";
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

export default async function setup(project: TestProject) {
  const key = await generateKeyPair();
  const seeds = [];
  for (const { file, bundle } of readSeedBundles()) {
    seeds.push({ file, envelope: await signPayload(asImportedNow(bundle), key.privateKey) });
  }
  const sample = await signPayload(makeBundle({ notes: "signed in Node: ünïcödé ✓ 🚀" }), key.privateKey);
  project.provide("nodeSigned", { privateKey: key.privateKey, seeds, sample });
}
