// Turns what a run has measured so far into a valid result bundle. Called after every test (a
// checkpoint marked as unfinished) and once at the end.
import { basename } from "node:path";
import type { Accelerator, Bundle, Device, Failure, Quality, Soak, SweepPoint, Target } from "../../schema/bundle.ts";
import { Backend } from "../../schema/bundle.ts";
import { summarize } from "../../schema/summary.ts";
import type { ModelIdentity } from "../gguf/inspect.ts";
import type { RunOptions } from "./options.ts";
import type { Ready } from "./protocol.ts";
import type { Recorder } from "./recorder.ts";
import { round } from "./stats.ts";
import { evaluateTarget, type TargetSpec } from "./targets.ts";

type Warning = NonNullable<Bundle["warnings"]>[number];

export interface EnergyTotals {
  source: NonNullable<Bundle["energy"]>["source"];
  notes: string;
  prefill: { joules: number; tokens: number };
  decode: { joules: number; tokens: number };
  joules: number;
  ms: number;
}

export interface RunContext {
  options: RunOptions;
  identity: ModelIdentity;
  sha256: string;
  device: Device;
  startedAt: Date;
  nonce: string;
  engineVersion: string;
  warnings: Warning[];
  ready: Ready | undefined;
  quality: Quality | undefined;
  sweepPoints: SweepPoint[];
  soak: Soak | undefined;
  energy: EnergyTotals | undefined;
}

function backendOf(ready: Ready | undefined) {
  const parsed = Backend.safeParse(ready?.backend);
  return parsed.success ? parsed.data : undefined;
}

function deviceWithGpus(ctx: RunContext): Device {
  const ready = ctx.ready;
  if (!ready || ready.backend === "cpu" || ready.gpuNames.length === 0) return ctx.device;
  const gpus: Accelerator[] = ready.gpuNames.map((name) => ({
    type: "gpu",
    model: name,
    ...(ready.vram.unified ? { unifiedMemory: true } : { memoryBytes: ready.vram.total }),
    driver: ready.backend,
  }));
  const others = (ctx.device.accelerators ?? []).filter((a) => a.type !== "gpu");
  return { ...ctx.device, accelerators: [...gpus, ...others] };
}

/** Decode cannot beat memory bandwidth divided by the bytes read per generated token. */
function roofline(ctx: RunContext, decodeTps: number | null): Bundle["roofline"] {
  const bandwidth = ctx.device.memoryBandwidthBytesPerSec;
  const onRam = ctx.ready?.backend === "cpu" || ctx.ready?.vram.unified;
  if (!bandwidth || !onRam || decodeTps === null || ctx.identity.tensorBytes <= 0) return undefined;
  // Every weight is read once per token in a dense model; KV-cache reads are left out (small at these depths).
  const bytesPerToken = ctx.identity.tensorBytes;
  const bound = bandwidth / bytesPerToken;
  return {
    bandwidthBytesPerSec: bandwidth,
    bytesPerToken,
    decodeUpperBoundTps: round(bound),
    efficiency: round(decodeTps / bound),
  };
}

function energyOf(totals: EnergyTotals | undefined): Bundle["energy"] {
  if (!totals || totals.ms <= 0) return undefined;
  const perToken = (part: { joules: number; tokens: number }) =>
    part.tokens > 0 ? round(part.joules / part.tokens) : undefined;
  const prefill = perToken(totals.prefill);
  const decode = perToken(totals.decode);
  return {
    source: totals.source,
    averagePowerW: round(totals.joules / (totals.ms / 1000)),
    ...(prefill === undefined ? {} : { prefillJoulesPerToken: prefill }),
    ...(decode === undefined ? {} : { decodeJoulesPerToken: decode }),
    ...(totals.notes ? { notes: totals.notes.slice(0, 2000) } : {}),
  };
}

function actualFor(spec: TargetSpec, bundle: Bundle): number | undefined {
  const s = summarize(bundle);
  const soak = bundle.soak;
  const suites = bundle.quality?.suites ?? [];
  const primary = (source: string) =>
    suites
      .filter((x) => x.source === source)
      .flatMap((x) => x.scores ?? [])
      .find((x) => x.primary)?.value;
  switch (spec.metric) {
    case "decode_tps":
      return s.decodeTps ?? undefined;
    case "prefill_tps":
      return s.prefillTps ?? undefined;
    case "ttft_ms":
      return s.ttftMs ?? undefined;
    case "load_ms":
      return s.loadMs ?? undefined;
    case "peak_memory_bytes":
      return s.peakMemoryBytes ?? undefined;
    case "system_ram_fraction":
      return s.peakMemoryBytes !== null && bundle.device.ramBytes
        ? s.peakMemoryBytes / bundle.device.ramBytes
        : undefined;
    case "quality":
      // The user's own suite is the user's own criterion; otherwise the built-in suite.
      return primary("user") ?? primary("builtin");
    case "latency_ms":
      return soak?.latencyMs?.mean;
    case "success_rate":
      return soak && soak.requests > 0 ? (soak.requests - soak.failures) / soak.requests : undefined;
    case "temperature_c":
      return soak?.temperatureC?.mean;
    case "uptime_ms":
      return soak && soak.failures === 0 ? soak.durationMs : undefined;
  }
}

export function assembleBundle(ctx: RunContext, rec: Recorder, options: { final: boolean }): Bundle {
  const { options: run, identity } = ctx;
  const engine = run.engine;
  const firstFailure: Failure | undefined = rec.failures[0]?.failure;
  const unfinished: Failure | undefined =
    options.final || firstFailure
      ? undefined
      : {
          stage: "process",
          kind: "interrupted",
          message: `the run stopped before it finished; ${rec.completedTests} tests completed${rec.lastCompleted ? `, the last ${rec.lastCompleted}` : ""}`,
        };
  const failure = firstFailure ?? unfinished;
  const laterFailures: Warning[] = rec.failures.slice(1).map(({ failure: f, test }) => ({
    code: "test_failed",
    message: `${test}: ${f.kind}: ${f.message}`.slice(0, 2000),
  }));
  const backend = backendOf(ctx.ready);
  const bundle: Bundle = {
    schema: "edgebench.bundle/v1",
    device: deviceWithGpus(ctx),
    runtime: {
      engine: "node-llama-cpp",
      version: ctx.engineVersion,
      ...(ctx.ready ? { build: `llama.cpp ${ctx.ready.llamaCppRelease}` } : {}),
      ...(backend ? { backend } : {}),
    },
    model: {
      name: identity.name ?? basename(run.modelPath).replace(/\.gguf$/i, ""),
      ...(identity.parameters ? { parameters: identity.parameters } : {}),
      ...(identity.fileType ? { quantization: identity.fileType } : {}),
      format: "gguf",
      architecture: identity.architecture,
      fileName: basename(run.modelPath),
      fileBytes: identity.fileBytes,
      sha256: ctx.sha256,
      ...(identity.contextLength ? { contextLength: identity.contextLength } : {}),
      ...(Number.isInteger(identity.blockCount) && identity.blockCount >= 1 && identity.blockCount <= 10_000
        ? { layers: identity.blockCount }
        : {}),
      ...(Object.keys(identity.metadata).length ? { metadata: identity.metadata } : {}),
      ...(identity.vocabSize ? { vocabSize: identity.vocabSize } : {}),
    },
    config: {
      contextSize: ctx.ready?.contextSize ?? engine.contextSize,
      batchSize: engine.batchSize,
      // node-llama-cpp always sets the micro-batch to the batch size.
      ubatchSize: engine.batchSize,
      threads: engine.threads,
      ...(ctx.ready
        ? { gpuLayers: ctx.ready.gpuLayers }
        : typeof engine.gpuLayers === "number"
          ? { gpuLayers: engine.gpuLayers }
          : {}),
      ...(engine.flashAttention === undefined ? {} : { flashAttention: engine.flashAttention }),
      ...(engine.kvCacheType === undefined ? {} : { kvCacheType: engine.kvCacheType }),
      sampling: { temperature: 0 },
    },
    measurements: rec.measurements(),
    memory: {
      ...(rec.peakRssBytes ? { peakRssBytes: rec.peakRssBytes } : {}),
      ...(rec.peakVramBytes === undefined ? {} : { peakVramBytes: rec.peakVramBytes }),
      ...(ctx.ready ? { modelBytes: ctx.ready.modelBytes } : {}),
    },
    ...(ctx.quality ? { quality: ctx.quality } : {}),
    ...(ctx.soak ? { soak: ctx.soak } : {}),
    ...(ctx.sweepPoints.length ? { sweep: { parameters: sweepParameters(run), points: ctx.sweepPoints } } : {}),
    ...(failure ? { failure } : {}),
    provenance: {
      tool: { name: "edgebench", version: run.toolVersion },
      method: "measured",
      commandLine: run.commandLine.slice(0, 20_000),
      createdAt: new Date().toISOString(),
      measuredAt: ctx.startedAt.toISOString(),
      nonce: ctx.nonce,
    },
  };
  const energy = energyOf(ctx.energy);
  if (energy) bundle.energy = energy;
  const line = roofline(ctx, summarize(bundle).decodeTps);
  if (line) bundle.roofline = line;
  const warnings = [...ctx.warnings, ...laterFailures];
  if (warnings.length) bundle.warnings = warnings;
  if (run.targets.length) {
    const targets: Target[] = run.targets.map((spec) => evaluateTarget(spec, actualFor(spec, bundle)));
    bundle.targets = targets;
  }
  return bundle;
}

function sweepParameters(run: RunOptions): string[] {
  return run.sweep.map((axis) => axis.field);
}
