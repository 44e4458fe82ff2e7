// The label/value lists of a run page, one function per bundle section. Each value is formatted
// with its unit and every digit it holds; absent values are dropped, so an empty list means the
// section is left out.
import type { Bundle, Config, Memory, Model, Soak } from "../../../schema/bundle.ts";
import {
  formatAmount,
  formatBool,
  formatBytes,
  formatBytesPerSecond,
  formatCelsius,
  formatDate,
  formatDuration,
  formatInt,
  formatJoulesPerToken,
  formatMs,
  formatNumber,
  formatParameters,
  formatPercent,
  formatTps,
  formatWatts,
  isPresent,
  type Maybe,
  type NumberOptions,
} from "./format.ts";
import { type Fact, facts } from "./view.ts";

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
    ["Peak RSS", formatAmount(memory.peakRssBytes, formatBytes, exact)],
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
