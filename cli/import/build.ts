// Shared pieces every importer uses to build a bundle the same way: where the hardware and model
// names come from, the provenance, and the list of what the source did not measure.
import type { Bundle, Device, ImportFormat, Provenance } from "../../schema/bundle.ts";
import { checkedAccelerators, hardwareOfList, type NotHardware, notHardware, notHardwareMessage } from "./hardware.ts";
import { type ImportContext, ImportError } from "./types.ts";

/** Where the names in a file's device came from, for messages ("llama-bench's cpu_info"). */
export interface DeviceSources {
  board?: string;
  soc?: string;
  cpu?: string;
  /** What the file lacks when it names no hardware at all, e.g. "llama-bench printed no cpu_info". */
  missing?: string;
  /** The line the device was read from, for messages. */
  line?: number | undefined;
}

const NOUNS = { board: "board", soc: "SoC", cpu: "CPU" } as const;

function namesHardware(device: Device): boolean {
  return Boolean(device.board || device.soc || device.cpu?.model);
}

/**
 * The device: what the file says, with names that are not hardware (a backend list, a placeholder)
 * left out; --hardware as the board name. A bundle must name its hardware: a file that does not is
 * given this machine's fingerprint with --this-device, else it is an error that says what to do.
 */
export function deviceFor(context: ImportContext, fromFile: Device = {}, sources: DeviceSources = {}): Device {
  const device: Device = { ...fromFile };
  const refused: string[] = [];
  const refuse = (field: keyof typeof NOUNS, value: string, why: NotHardware) => {
    const source = sources[field] ?? `the ${NOUNS[field]} the file names`;
    refused.push(`${source} "${value}" ${notHardwareMessage(why, NOUNS[field])}`);
  };
  for (const field of ["board", "soc"] as const) {
    const value = device[field];
    const why = value === undefined ? undefined : notHardware(value);
    if (value !== undefined && why) {
      delete device[field];
      refuse(field, value, why);
    }
  }
  const cpuModel = device.cpu?.model;
  if (device.cpu && cpuModel !== undefined) {
    const kept = hardwareOfList(cpuModel);
    const { model: _model, ...cpu } = device.cpu;
    if (kept) device.cpu = { ...cpu, model: kept };
    else {
      refuse("cpu", cpuModel, notHardware(cpuModel) ?? "placeholder");
      if (Object.keys(cpu).length) device.cpu = cpu;
      else delete device.cpu;
    }
  }
  const accelerators = checkedAccelerators(device.accelerators);
  if (accelerators.length) device.accelerators = accelerators;
  else delete device.accelerators;

  if (context.hardware) return { ...device, board: context.hardware };
  if (namesHardware(device)) return device;

  const gpus = accelerators.map((a) => a.model).filter(Boolean);
  const why = [
    refused[0] ?? sources.missing ?? "the file does not say which hardware it ran on",
    gpus.length ? ` (it names the GPU ${gpus.join(", ")}, which is kept, but a bundle also names its host)` : "",
  ].join("");
  if (context.thisDevice) {
    if (!namesHardware(context.thisDevice)) {
      throw new ImportError(
        context.file,
        sources.line,
        `${why}, and this machine's fingerprint names no board, SoC or CPU either: pass --hardware "…"`,
      );
    }
    const used = { ...context.thisDevice, ...(accelerators.length ? { accelerators } : {}) };
    context.onThisDevice?.(why, used);
    return used;
  }
  throw new ImportError(
    context.file,
    sources.line,
    `${why}: say what ran it with --hardware "…" (e.g. --hardware "Raspberry Pi 4 Model B"), or --this-device to use this machine's fingerprint`,
  );
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
