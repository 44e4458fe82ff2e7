// The label/value lists of a run page, one function per bundle section. Each value is formatted
// with its unit and every digit it holds; absent values are dropped, so an empty list means the
// section is left out.
import type { RunRow } from "../../../schema/api.ts";
import {
  amountValue,
  type Bundle,
  type Config,
  type Measurement,
  type Memory,
  type Model,
  type Soak,
} from "../../../schema/bundle.ts";
import type { RooflineBound } from "../../../schema/roofline.ts";
import { centralValue } from "../../../schema/summary.ts";
import {
  DASH,
  formatAmount,
  formatBool,
  formatBytes,
  formatBytesPerSecond,
  formatCelsius,
  formatDate,
  formatDuration,
  formatInt,
  formatInUnit,
  formatJoulesPerToken,
  formatMs,
  formatNumber,
  formatOffload,
  formatParameters,
  formatPercent,
  formatTps,
  formatWatts,
  isPresent,
  type Maybe,
  type NumberOptions,
} from "./format.ts";
import type { Headlines } from "./registry.ts";
import { centralPrecision, type Fact, facts, testName } from "./view.ts";

const exact = { exact: true } as const;

const tokens = (n: Maybe<number>) => (isPresent(n) ? `${formatInt(n)} tokens` : undefined);
const joined = (...parts: Array<Maybe<string>>) => parts.filter(isPresent).join(" ") || undefined;

export function deviceFacts(device: Bundle["device"]): Fact[] {
  const cpu = device.cpu;
  return facts([
    ["Board", device.board],
    ["Form factor", device.formFactor?.replaceAll("_", " ")],
    ["SoC", device.soc],
    ["CPU", cpu?.model],
    ["CPU cores", cpu?.cores !== undefined ? formatInt(cpu.cores) : undefined],
    ["CPU threads", cpu?.threads !== undefined ? formatInt(cpu.threads) : undefined],
    ["CPU architecture", cpu?.arch],
    [
      "CPU max frequency",
      isPresent(cpu?.maxFrequencyMhz) ? `${formatNumber(cpu.maxFrequencyMhz, exact)} MHz` : undefined,
    ],
    ["RAM", formatBytes(device.ramBytes, exact)],
    ["Memory bandwidth", formatBytesPerSecond(device.memoryBandwidthBytesPerSec, exact)],
    ["OS", joined(device.os?.name, device.os?.version)],
    ["Kernel", device.os?.kernel],
    ["Power mode", device.powerMode],
    ["Cooling", device.cooling],
  ]);
}

export function runtimeFacts(runtime: Bundle["runtime"]): Fact[] {
  return facts([
    ["Engine", runtime.engine],
    ["Engine name", runtime.engineName],
    ["Version", runtime.version],
    ["Build", runtime.build],
    ["Backend", runtime.backend],
  ]);
}

/** A model as a bundle or a reference describes it (a reference may name only some fields). */
export function modelFacts(model: Partial<Model>): Fact[] {
  const parameters = isPresent(model.parameters)
    ? `${formatParameters(model.parameters)} (${formatInt(model.parameters)})`
    : undefined;
  return facts([
    ["Name", model.name],
    ["Family", model.family],
    ["Parameters", parameters],
    ["Quantization", model.quantization],
    ["Format", model.format],
    ["Architecture", model.architecture],
    ["Base model", model.baseModel],
    ["File", model.fileName],
    ["File size", formatAmount(model.fileBytes, formatBytes, exact)],
    ["SHA-256", model.sha256],
    ["Context length", tokens(model.contextLength)],
    ["Vocabulary", tokens(model.vocabSize)],
  ]);
}

export function fineTuneFacts(fineTune: NonNullable<Model["fineTune"]>): Fact[] {
  const d = fineTune.dataset;
  return facts([
    ["Method", fineTune.method],
    ["Task", fineTune.task],
    ["Dataset", d?.name],
    ["Dataset language", d?.language],
    ["Training examples", d?.trainExamples !== undefined ? formatInt(d.trainExamples) : undefined],
    ["Validation examples", d?.validationExamples !== undefined ? formatInt(d.validationExamples) : undefined],
    ["Dataset notes", d?.notes],
    ["Training time", formatAmount(fineTune.trainingDurationMs, formatDuration)],
    ["Final loss", formatNumber(fineTune.finalLoss, exact)],
  ]);
}

export function configFacts(config: Config): Fact[] {
  return facts([
    ["Context size", tokens(config.contextSize)],
    ["Batch size", tokens(config.batchSize)],
    ["Micro-batch size", tokens(config.ubatchSize)],
    ["Threads", config.threads !== undefined ? formatInt(config.threads) : undefined],
    ["GPU layers", config.gpuLayers !== undefined ? formatInt(config.gpuLayers) : undefined],
    ["Flash attention", formatBool(config.flashAttention, "on", "off")],
    ["KV cache type", config.kvCacheType],
    ["Chat template", config.chatTemplate],
    [
      "Concurrency",
      config.concurrency !== undefined
        ? `${formatInt(config.concurrency)} ${config.concurrency === 1 ? "request" : "requests"} at a time`
        : undefined,
    ],
  ]);
}

export function samplingFacts(sampling: NonNullable<Config["sampling"]>): Fact[] {
  return facts([
    ["Temperature", formatNumber(sampling.temperature, exact)],
    ["Top-k", formatNumber(sampling.topK, exact)],
    ["Top-p", formatNumber(sampling.topP, exact)],
    ["Min-p", formatNumber(sampling.minP, exact)],
    ["Repeat penalty", formatNumber(sampling.repeatPenalty, exact)],
    ["Seed", sampling.seed !== undefined ? String(sampling.seed) : undefined],
    ["Max tokens", tokens(sampling.maxTokens)],
  ]);
}

export function memoryFacts(memory: Memory): Fact[] {
  return facts([
    ["Peak host memory (RSS)", formatAmount(memory.peakRssBytes, formatBytes, exact)],
    ["Peak VRAM", formatAmount(memory.peakVramBytes, formatBytes, exact)],
    ["Peak (as reported, memory unspecified)", formatAmount(memory.peakReportedBytes, formatBytes, exact)],
    ["Model in memory", formatAmount(memory.modelBytes, formatBytes, exact)],
    ["System memory in use", formatAmount(memory.systemUsedFraction, formatPercent, exact)],
  ]);
}

export function energyFacts(energy: NonNullable<Bundle["energy"]>): Fact[] {
  return facts([
    ["Measured with", energy.source.replaceAll("_", " ")],
    ["Average power", formatWatts(energy.averagePowerW, exact)],
    ["Prefill energy", formatJoulesPerToken(energy.prefillJoulesPerToken, exact)],
    ["Decode energy", formatJoulesPerToken(energy.decodeJoulesPerToken, exact)],
  ]);
}

export function rooflineFacts(roofline: NonNullable<Bundle["roofline"]>): Fact[] {
  return facts([
    ["Memory bandwidth", formatBytesPerSecond(roofline.bandwidthBytesPerSec, exact)],
    ["Bytes read per token", formatBytes(roofline.bytesPerToken, exact)],
    ["Decode upper bound", formatTps(roofline.decodeUpperBoundTps, exact)],
    ["Efficiency (decode ÷ upper bound)", formatPercent(roofline.efficiency, exact)],
  ]);
}

type SoakRange = NonNullable<Soak["latencyMs"]>;

/** mean, min–max and percentiles of a soak range, each with its unit. */
function rangeFacts(
  label: string,
  range: Maybe<SoakRange>,
  format: (n: Maybe<number>, o?: NumberOptions) => string,
): Array<[string, Maybe<string>]> {
  if (!range) return [];
  const { mean, min, max, p50, p95, p99 } = range;
  const percentiles = [p50, p95, p99].some(isPresent)
    ? `${[p50, p95, p99].map((p) => format(p, exact)).join(" / ")}`
    : undefined;
  return [
    [`${label}, mean`, format(mean, exact)],
    [
      `${label}, min–max`,
      isPresent(min) || isPresent(max) ? `${format(min, exact)} – ${format(max, exact)}` : undefined,
    ],
    [`${label}, p50 / p95 / p99`, percentiles],
  ];
}

export function soakFacts(soak: Soak): Fact[] {
  const memory = soak.memory;
  const failureShare = soak.requests > 0 ? ` (${formatPercent(soak.failures / soak.requests)} of requests)` : "";
  return facts([
    ["Duration", formatDuration(soak.durationMs)],
    ["Interval between requests", formatDuration(soak.intervalMs)],
    ["Requests", formatInt(soak.requests)],
    ["Failures", `${formatInt(soak.failures)}${failureShare}`],
    ["Max tokens per request", tokens(soak.maxTokensPerRequest)],
    ...rangeFacts("Latency", soak.latencyMs, formatMs),
    ...rangeFacts("Temperature", soak.temperatureC, formatCelsius),
    ["Throttled", formatBool(soak.throttled)],
    ["Throttle threshold", formatCelsius(soak.throttleThresholdC, exact)],
    ["Memory, mean", formatBytes(memory?.meanBytes, exact)],
    ["Memory, peak", formatBytes(memory?.peakBytes, exact)],
    ["System memory in use, mean", formatPercent(memory?.meanSystemUsedFraction, exact)],
    ["Memory leak detected", formatBool(memory?.leakDetected)],
    [
      "Memory growth",
      isPresent(memory?.leakSlopeBytesPerHour)
        ? `${formatBytes(memory.leakSlopeBytesPerHour, exact)} per hour`
        : undefined,
    ],
    ["CPU load (1 min), mean", formatNumber(soak.cpuLoad?.mean1m, exact)],
    ["CPU load (1 min), max", formatNumber(soak.cpuLoad?.max1m, exact)],
    ["Monitored every", formatDuration(soak.monitorIntervalMs)],
  ]);
}

export function provenanceFacts(provenance: Bundle["provenance"]): Fact[] {
  const from = provenance.importedFrom;
  return facts([
    ["Method", provenance.method],
    ["Imported from", from ? joined(from.format, from.toolVersion && `(version ${from.toolVersion})`) : undefined],
    ["Source title", from?.title],
    ["Source file", from?.file],
    ["Measured at", formatDate(provenance.measuredAt)],
    ["Bundle created at", formatDate(provenance.createdAt)],
    ["Made with", `${provenance.tool.name} ${provenance.tool.version}`],
    ["Nonce", provenance.nonce],
  ]);
}

/** An http(s) address to link to; anything else (javascript:, data:) is shown as text only. */
export function safeHttpUrl(url: Maybe<string>): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** A fact only when its value is present. */
function fact(label: string, value: Maybe<string>, extra: Omit<Fact, "label" | "value"> = {}): Fact[] {
  if (!isPresent(value) || value === "" || value === DASH) return [];
  const defined = Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined && v !== ""));
  return [{ label, value, ...defined }];
}

const asReported = (shown: string, reported: Maybe<string>) =>
  isPresent(reported) && reported.trim() !== "" && reported !== shown ? `as reported: ${reported}` : undefined;

/**
 * What a run ran on and what it ran: the hardware it is filed under (for a GPU run, the GPU, with its
 * host as attributes), how much of the model sat on the GPU, and the canonical model, each beside the
 * name its bundle gave.
 */
export function identityFacts(run: RunRow, bundle: Bundle): Fact[] {
  const gpu = run.hardwareKind === "gpu";
  const host = [run.hostCpu, isPresent(run.hostRamBytes) ? `${formatBytes(run.hostRamBytes)} RAM` : undefined]
    .filter(isPresent)
    .join(", ");
  const offload = formatOffload(run.gpuLayers, run.modelLayers);
  const file = bundle.model.fileName;
  const modelNote = [asReported(run.modelName, run.sourceModelName), file && `file ${file}`]
    .filter(Boolean)
    .join(" · ");
  const reportedQuantization = bundle.model.quantization;
  return [
    ...fact("Hardware", run.hardwareName, {
      href: `/hardware/${run.hardwareSlug}/`,
      tag: gpu ? "GPU" : undefined,
      note: asReported(run.hardwareName, run.sourceHardwareName),
    }),
    ...(gpu ? fact("Host", host) : []),
    ...fact("GPU offload", offload, {
      // A minority offload to a discrete GPU leaves the host's memory the bound: the run stays the host's.
      note:
        !gpu && isPresent(run.gpuLayers) && isPresent(run.modelLayers) && run.gpuLayers < run.modelLayers / 2
          ? "fewer than half the layers on the GPU: the run is filed under its host"
          : undefined,
    }),
    ...fact("Model", run.modelName, { href: `/models/${run.modelSlug}/`, note: modelNote }),
    ...fact("Quantization", run.quantization, {
      note: run.quantization ? asReported(run.quantization, reportedQuantization) : undefined,
    }),
  ];
}

// Engines built on llama.cpp time tokens the way llama-bench does.
const LLAMA_CPP_ENGINES = new Set(["llama.cpp", "node-llama-cpp", "llama-server", "ollama"]);

/** A headline figure with the test it came from and how it was derived from the samples. */
export function headlineValue(m: Maybe<Measurement>): string | undefined {
  if (!m) return undefined;
  const value = formatInUnit(centralValue(m), m.unit, { precision: centralPrecision(m), exact: true });
  const samples = m.samples?.length ?? 0;
  let derived: string | undefined;
  if (m.median !== undefined || m.p50 !== undefined) {
    derived = (m.repetitions ?? 0) > 1 ? `median of ${formatInt(m.repetitions)} repetitions` : undefined;
  } else if (samples > 0) {
    derived = samples > 1 ? `median of ${formatInt(samples)} samples` : undefined;
  } else if (m.mean !== undefined) {
    derived = "mean";
  } else if (m.min !== undefined && m.max !== undefined) {
    derived = "middle of the reported range";
  }
  const extras = [testName(m), derived].filter(Boolean).join("; ");
  return `${value}${extras ? ` (${extras})` : ""}`;
}

/**
 * The decode figures, each named by how it was timed: the headline (engine-timed, like llama-bench
 * tg, or as an imported source reported it) and the delivered rate an application sees.
 */
export function decodeFacts(bundle: Bundle, headlines: Pick<Headlines, "decode" | "delivered">): Fact[] {
  const { decode, delivered } = headlines;
  const engine = bundle.runtime.engine;
  const from = bundle.provenance.importedFrom;
  let label = "Decode";
  let note: string;
  if (decode?.timing === "engine") {
    label = "Decode (engine)";
    note = LLAMA_CPP_ENGINES.has(engine)
      ? "llama.cpp's own time per generated token, the figure llama-bench tg reports"
      : `${engine}'s own time per generated token`;
  } else if (from) {
    // A published report names no tool of its own: the engine it ran is what timed the tokens.
    note =
      from.format === "report"
        ? `as reported by ${bundle.runtime.engineName ?? engine}, imported from a published report`
        : `as reported by ${from.format}${from.toolVersion ? ` ${from.toolVersion}` : ""}`;
  } else {
    const tool = bundle.provenance.tool;
    note = `as reported by ${tool.name} ${tool.version}, which did not record whether it is engine-timed or delivered`;
  }
  return [
    ...fact(label, headlineValue(decode), { note }),
    ...fact("Decode (delivered)", headlineValue(delivered), {
      note: "tokens as the application receives them, sampling and runtime overhead included",
    }),
  ];
}

/** Peak host memory and peak VRAM, each its own figure: they are different memories, never added. */
export function peakMemoryFacts(
  run: RunRow,
  bundle: Bundle,
  headlines: Pick<Headlines, "peakMemoryPrecision" | "peakVramPrecision">,
): Fact[] {
  const reported = amountValue(bundle.memory?.peakReportedBytes) !== undefined;
  return [
    ...fact(
      reported ? "Peak memory (as reported)" : "Peak host memory (RSS)",
      formatBytes(run.peakMemoryBytes, { exact: true, precision: headlines.peakMemoryPrecision }),
      { note: reported ? "the source did not say which memory; taken as the host's" : undefined },
    ),
    ...fact("Peak VRAM", formatBytes(run.peakVramBytes, { exact: true, precision: headlines.peakVramPrecision }), {
      note: "GPU memory, apart from the host's",
    }),
  ];
}

/** The bound the registry judged a run's decode against, and how close the run came to it. */
export function boundFacts(bound: RooflineBound, decodeTps: Maybe<number>, model: Pick<Model, "fileBytes">): Fact[] {
  const combined = bound.memories.length > 1;
  return [
    ...fact("Bytes read per token", formatBytes(bound.bytesPerToken, exact), {
      note:
        amountValue(model.fileBytes) !== undefined
          ? "the model file's size: every weight is read once per token"
          : "parameters × bits per weight of the quantization (the file size is not given)",
    }),
    ...(combined
      ? fact("Effective bandwidth", formatBytesPerSecond(bound.bandwidthBytesPerSec), {
          note: "each memory serves its share of the weights in turn",
        })
      : []),
    // Computed figures, to three digits: their last decimals would claim a precision the inputs lack.
    ...fact("Decode upper bound", formatTps(bound.decodeUpperBoundTps)),
    ...fact(
      "Decode ÷ upper bound",
      isPresent(decodeTps) ? formatPercent(decodeTps / bound.decodeUpperBoundTps) : undefined,
    ),
    ...fact(
      "Basis",
      bound.basis === "catalog"
        ? "published peak figures (the registry's hardware catalog)"
        : `includes a bandwidth the device measured itself, trusted less than a catalog figure`,
    ),
  ];
}
