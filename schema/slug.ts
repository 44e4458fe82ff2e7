// Slug rules: how hardware and model names become the stable URL keys of leaderboards and pages.
import type { Bundle, Device } from "./bundle.ts";
import { canonicalModel, type ModelIdentity } from "./model-identity.ts";
import { slugify } from "./slugify.ts";

export { SLUG_PATTERN, slugify } from "./slugify.ts";

/** The name a reader would recognise for a device: its board, else its SoC, else its CPU. */
export function hardwareName(device: Device): string {
  return device.board ?? device.soc ?? device.cpu?.model ?? "unknown hardware";
}

// Board names carry revisions and variant words that do not change what the board is.
const HARDWARE_NAME_RULES: Array<[RegExp, string]> = [
  [/\s+rev(ision)?\s*[\d.]+$/i, ""],
  // Every Raspberry Pi 4 and 5 is a "Model B"; the words only split one board into two slugs.
  [/^raspberry pi ([45]) model b\b/i, "raspberry pi $1"],
];

export function hardwareSlug(device: Device): string {
  let name = hardwareName(device).trim();
  for (const [pattern, replacement] of HARDWARE_NAME_RULES) name = name.replace(pattern, replacement);
  return slugify(name);
}

/** The canonical model a bundle ran, from every name it gives (schema/model-identity.ts). */
export function modelIdentityOf(bundle: Pick<Bundle, "model" | "runtime" | "provenance">): ModelIdentity {
  const m = bundle.model;
  return canonicalModel({
    name: m.name,
    ...(m.fileName ? { fileName: m.fileName } : {}),
    ...(m.huggingFaceRepo ? { huggingFaceRepo: m.huggingFaceRepo } : {}),
    ...(m.quantization ? { quantization: m.quantization } : {}),
    ...(m.parameters ? { parameters: m.parameters } : {}),
    ...(m.baseModel ? { baseModel: m.baseModel } : {}),
    ...(m.fineTune
      ? { fineTune: { method: m.fineTune.method, ...(m.fineTune.task ? { task: m.fineTune.task } : {}) } }
      : {}),
    ...(m.metadata ? { metadata: m.metadata } : {}),
    sourceTool: bundle.provenance.importedFrom?.format ?? bundle.runtime.engine,
  });
}

/** The canonical slug of a model known only by a name (a catalog look-up, a URL). */
export function modelSlug(model: { name: string }): string {
  return canonicalModel({ name: model.name }).slug;
}
