// Shared pieces every importer uses to build a bundle the same way: where the hardware and model
// names come from, the provenance, and the list of what the source did not measure.
import type { Bundle, Device, ImportFormat, Provenance } from "../../schema/bundle.ts";
import { type ImportContext, ImportError } from "./types.ts";

/**
 * The device: what the file says, with --hardware as the board name. A bundle must name its
 * hardware, so a file that does not and no --hardware is an error that says what to do.
 */
export function deviceFor(context: ImportContext, fromFile: Device = {}): Device {
  const device: Device = context.hardware ? { ...fromFile, board: context.hardware } : { ...fromFile };
  if (!device.board && !device.soc && !device.cpu?.model) {
    throw new ImportError(
      context.file,
      undefined,
      'the file does not say which hardware it ran on; pass --hardware "…"',
    );
  }
  return device;
}

/** The model name: --model when given (the user knows best), else what the file says. */
export function modelNameFor(context: ImportContext, fromFile: string | undefined, line?: number): string {
  const name = context.model ?? fromFile?.trim();
  if (!name) throw new ImportError(context.file, line, 'the file does not name the model; pass --model "…"');
  return name;
}

/** The standard fields a reader looks for, and whether a bundle has each. */
const STANDARD_FIELDS: Array<[string, (b: Bundle) => boolean]> = [
  ["load", (b) => b.measurements.some((m) => m.kind === "load")],
  ["prefill", (b) => b.measurements.some((m) => m.kind === "prefill" || m.kind === "prefill_decode")],
  ["decode", (b) => b.measurements.some((m) => m.kind === "decode" || m.kind === "prefill_decode")],
  ["ttft", (b) => b.measurements.some((m) => m.kind === "ttft")],
  ["memory", (b) => b.memory !== undefined],
  ["quality", (b) => b.quality !== undefined],
  ["energy", (b) => b.energy !== undefined],
  ["device.cpu", (b) => b.device.cpu !== undefined],
  ["device.ramBytes", (b) => b.device.ramBytes !== undefined],
  ["runtime.version", (b) => b.runtime.version !== undefined || b.runtime.build !== undefined],
  ["model.quantization", (b) => b.model.quantization !== undefined],
  ["model.parameters", (b) => b.model.parameters !== undefined],
  ["model.sha256", (b) => b.model.sha256 !== undefined],
  ["config.threads", (b) => b.config?.threads !== undefined],
  ["config.contextSize", (b) => b.config?.contextSize !== undefined],
];

function notMeasuredOf(bundle: Bundle): string[] {
  return STANDARD_FIELDS.filter(([, has]) => !has(bundle)).map(([name]) => name);
}

interface ImportedParts extends Omit<Bundle, "schema" | "provenance"> {}

/** Completes a bundle from an importer's parts: schema, provenance, and what was not measured. */
export function importedBundle(
  parts: ImportedParts,
  format: ImportFormat,
  context: ImportContext,
  source: { toolVersion?: string | undefined; measuredAt?: string | undefined } = {},
): Bundle {
  const provenance: Provenance = {
    tool: { name: "edgebench", version: context.toolVersion },
    method: "imported",
    importedFrom: {
      format,
      file: context.file.split(/[\\/]/).pop() as string,
      ...(source.toolVersion ? { toolVersion: source.toolVersion } : {}),
    },
    createdAt: context.now,
    ...(source.measuredAt ? { measuredAt: source.measuredAt } : {}),
  };
  const bundle: Bundle = { schema: "edgebench.bundle/v1", ...parts, provenance };
  const missing = notMeasuredOf(bundle);
  if (missing.length) bundle.provenance.notMeasured = missing;
  return bundle;
}
