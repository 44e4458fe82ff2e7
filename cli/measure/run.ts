// `edgebench run`: measure a GGUF model on this device and produce a result bundle. Every test runs
// in a child process with a deadline; a crash, an OOM kill, a timeout or Ctrl-C becomes a recorded
// failure, and a bundle is checkpointed after every test so that nothing measured is lost.
import { randomBytes } from "node:crypto";
import { getModuleVersion } from "node-llama-cpp";
import type { Bundle, Failure, FailureStage, Quality, QualitySuite, SweepPoint } from "../../schema/bundle.ts";
import { measureMemoryBandwidth } from "../device/bandwidth.ts";
import { detectDevice } from "../device/fingerprint.ts";
import { openEnergyMeter } from "../device/sensors.ts";
import { inspectModelFile } from "../gguf/inspect.ts";
import { sha256File } from "../lib/hash.ts";
import { BUILTIN_SUITE } from "../quality/builtin-suite.ts";
import { PERPLEXITY_TEXT } from "../quality/perplexity-text.ts";
import { type Suite, scoreOutput, toQualitySuite } from "../quality/suite.ts";
import { loadUserSuite } from "../quality/user-suite.ts";
import { assembleBundle, type RunContext } from "./assemble.ts";
import { lintConfig, lintLoaded } from "./lints.ts";
import type { EngineSettings, RunHooks, RunOptions } from "./options.ts";
import type { EngineConfig, Ready, TestResult, TestSpec } from "./protocol.ts";
import { judgeQuality } from "./quality-verdict.ts";
import { Recorder } from "./recorder.ts";
import { runSoak } from "./soak.ts";
import { type ChildFailure, MeasurementChild, type Outcome } from "./supervisor.ts";
import { sweepGrid } from "./sweep.ts";

// The command (cli/commands/run.ts) takes the options' type from here.
export type { RunOptions } from "./options.ts";

const STAGE: Record<TestSpec["kind"], FailureStage> = {
  prefill: "prefill",
  ttft: "prefill",
  decode: "decode",
  generate: "quality",
  perplexity: "quality",
};

const MAX_RESTARTS = 2;

function toFailure(stage: FailureStage, f: ChildFailure): Failure {
  return {
    stage,
    kind: f.kind,
    message: f.message,
    ...(f.exitCode === undefined ? {} : { exitCode: f.exitCode }),
    ...(f.signal === undefined ? {} : { signal: f.signal }),
  };
}

/** One configuration's worth of tests, in a child that is restarted if llama.cpp dies. */
class Session {
  child: MeasurementChild | undefined;
  ready: Ready | undefined;
  restarts = 0;
  private readonly config: EngineConfig;
  private readonly options: RunOptions;
  readonly recorder: Recorder;
  private readonly hooks: RunHooks;
  constructor(config: EngineConfig, options: RunOptions, recorder: Recorder, hooks: RunHooks) {
    this.config = config;
    this.options = options;
    this.recorder = recorder;
    this.hooks = hooks;
  }

  async open(cold: boolean): Promise<boolean> {
    const started = await MeasurementChild.start(this.config, Math.max(this.options.timeoutMs, 600_000));
    this.child = started.child;
    this.hooks.signal.addEventListener("abort", () => this.child?.interrupt(), { once: true });
    if ("failure" in started) {
      this.recorder.fail(toFailure("load", started.failure), "load");
      return false;
    }
    this.ready = started.ready;
    this.recorder.load(started.ready.loadMs, cold);
    this.recorder.resources(started.ready.resources);
    return true;
  }

  /** Runs one test, restarting the child if an earlier test killed it; records nothing. */
  async attempt(spec: TestSpec, label: string): Promise<Outcome<TestResult>> {
    if (this.hooks.signal.aborted)
      return { ok: false, failure: { kind: "interrupted", message: "the run was interrupted" } };
    if (!this.child?.alive && (this.restarts >= MAX_RESTARTS || !(await this.restart()))) {
      return { ok: false, failure: { kind: "error", message: "the measurement process could not be restarted" } };
    }
    this.hooks.progress.update(label);
    return (this.child as MeasurementChild).run(spec, this.options.timeoutMs);
  }

  /**
   * Runs one test and records it; undefined when it failed (recorded as a failure) or the run is
   * stopping. "cold": the first generation after the load; "warmup": an untimed run before a test's
   * repetitions, counted and not sampled.
   */
  async run(
    spec: TestSpec,
    label: string,
    mode: "timed" | "cold" | "warmup" = "timed",
  ): Promise<TestResult | undefined> {
    if (this.hooks.signal.aborted) return undefined;
    const outcome = await this.attempt(spec, label);
    if (!outcome.ok) {
      if (outcome.failure.kind !== "interrupted") this.hooks.progress.warn(`${label}: ${outcome.failure.message}`);
      this.recorder.fail(toFailure(STAGE[spec.kind], outcome.failure), label);
      return undefined;
    }
    this.recorder.resources(outcome.resources);
    this.recorder.result(spec, outcome.value, { cold: mode === "cold", warmup: mode === "warmup", label });
    await this.hooks.checkpoint(await this.snapshot());
    return outcome.value;
  }

  private async restart(): Promise<boolean> {
    this.restarts++;
    this.hooks.progress.warn(`restarting the measurement process (${this.restarts}/${MAX_RESTARTS})`);
    return this.open(false);
  }

  /** The whole run's bundle as it stands, for the checkpoint after each test. */
  snapshot: () => Promise<Bundle> = async () => {
    throw new Error("a session needs its run's snapshot before it runs tests");
  };

  async close(): Promise<void> {
    await this.child?.stop();
  }
}

export async function runBenchmark(options: RunOptions, hooks: RunHooks): Promise<Bundle> {
  const { progress } = hooks;
  const startedAt = new Date();

  progress.step("Reading the model file");
  const identity = await inspectModelFile(options.modelPath);
  const sha256 = await sha256File(options.modelPath, (done, total) =>
    progress.update(`sha256 ${((100 * done) / total).toFixed(0)}%`),
  );
  progress.succeed(
    `${identity.name ?? identity.architecture} · ${identity.fileType ?? "?"} · sha256 ${sha256.slice(0, 12)}…`,
  );

  progress.step("Fingerprinting this device");
  const device = await detectDevice({ anon: options.anon });
  if (options.measureBandwidth) {
    progress.update("measuring memory bandwidth");
    device.memoryBandwidthBytesPerSec = Math.round((await measureMemoryBandwidth({})).bytesPerSec);
  }
  progress.succeed(
    `${device.board ?? device.soc ?? device.cpu?.model ?? "device"} · ${device.cpu?.cores ?? "?"} cores`,
  );

  const promptText = PERPLEXITY_TEXT.text;
  const suites = await loadSuites(options);
  const configs = options.sweep.length ? sweepGrid(options.engine, options.sweep) : [options.engine];
  const base = configs[0] as EngineSettings;
  const ctx: RunContext = {
    options,
    identity,
    sha256,
    device,
    startedAt,
    nonce: randomBytes(12).toString("base64url"),
    engineVersion: await getModuleVersion(),
    warnings: lintConfig({
      contextSize: base.contextSize,
      batchSize: base.batchSize,
      threads: base.threads,
      promptTokens: [...options.promptSizes, options.ttftPrompt, ...suites.flatMap((s) => s.promptTokens)],
      longestSequence: Math.max(...options.promptSizes, options.decodePrompt + Math.max(...options.genSizes)),
      physicalCores: device.cpu?.cores ?? 1,
      ramBytes: device.ramBytes ?? Number.MAX_SAFE_INTEGER,
      modelFileBytes: identity.fileBytes,
      trainContextSize: identity.contextLength,
    }),
    quality: undefined,
    sweepPoints: [],
    soak: undefined,
    ready: undefined,
    energy: undefined,
  } satisfies RunContext;
  for (const w of ctx.warnings) progress.warn(w.message);

  const rec = new Recorder();
  const snapshot = async (final = false) => assembleBundle(ctx, rec, { final });
  const points: Array<{ config: EngineSettings; rec: Recorder; quality?: Quality | undefined }> = [];

  for (const [index, settings] of configs.entries()) {
    const pointRec = index === 0 ? rec : new Recorder();
    const label = configs.length > 1 ? ` [${index + 1}/${configs.length}]` : "";
    const session = new Session({ ...settings, modelPath: options.modelPath, promptText }, options, pointRec, hooks);
    session.snapshot = () => snapshot(false);
    progress.step(`Loading the model${label}`);
    if (!(await session.open(index === 0))) {
      progress.fail(`the model did not load: ${pointRec.failures.at(-1)?.failure.message ?? "unknown error"}`);
      points.push({ config: settings, rec: pointRec });
      if (configs.length > 1) ctx.sweepPoints = points.map((p) => sweepPoint(p.config, p.rec, p.quality));
      await session.close();
      if (index === 0 && configs.length === 1) break;
      continue;
    }
    if (index === 0) {
      ctx.ready = session.ready;
      ctx.warnings.push(...lintLoaded({ gpuLayers: settings.gpuLayers, backend: session.ready?.backend }));
    }
    progress.succeed(
      `loaded in ${((session.ready?.loadMs ?? 0) / 1000).toFixed(2)} s on ${session.ready?.backend}${label}`,
    );
    const contextSize = session.ready?.contextSize ?? settings.contextSize;
    const quality = await measureConfig(session, options, contextSize, suites, hooks, index === 0 ? ctx : undefined);
    if (index === 0) ctx.quality = quality;
    points.push({ config: settings, rec: pointRec, quality });
    // Finished points go into every later checkpoint, so a kill mid-sweep keeps them.
    if (configs.length > 1) ctx.sweepPoints = points.map((p) => sweepPoint(p.config, p.rec, p.quality));
    if (index === 0 && options.soak && !hooks.signal.aborted) {
      progress.step(`Soak for ${(options.soak.durationMs / 60_000).toFixed(1)} min`);
      ctx.soak = await runSoak(session, options.soak, promptText, hooks);
      progress.succeed(`soak: ${ctx.soak.requests} requests, ${ctx.soak.failures} failed`);
    }
    await session.close();
    if (hooks.signal.aborted) break;
  }

  // A run stopped between two tests has no failed test to show for it, but it is still unfinished.
  return snapshot(!hooks.signal.aborted);
}

interface LoadedSuite {
  suite: Suite;
  source: "builtin" | "user";
  /** Rough prompt lengths in tokens, for the lints (about 4 characters a token). */
  promptTokens: number[];
}

async function loadSuites(options: RunOptions): Promise<LoadedSuite[]> {
  const out: LoadedSuite[] = [];
  const estimate = (suite: Suite) => suite.items.map((i) => Math.ceil(i.prompt.length / 4));
  if (options.builtinSuite)
    out.push({ suite: BUILTIN_SUITE, source: "builtin", promptTokens: estimate(BUILTIN_SUITE) });
  for (const path of options.userSuites) {
    const suite = await loadUserSuite(path);
    out.push({ suite, source: "user", promptTokens: estimate(suite) });
  }
  return out;
}

/**
 * The standard plan for one configuration: the cold-start generation, then each test (every prefill
 * size, every decode size, time to first token) as llama-bench runs it: one untimed warm-up of the same
 * shape (GPU pipeline compilation, caches, allocations), then its repetitions back to back; then the
 * quality gates.
 */
async function measureConfig(
  session: Session,
  options: RunOptions,
  contextSize: number,
  suites: LoadedSuite[],
  hooks: RunHooks,
  main: RunContext | undefined,
): Promise<Quality | undefined> {
  const vocabSize = main?.identity.vocabSize;
  const { progress } = hooks;
  const fits = (tokens: number) => tokens <= contextSize;
  const genSizes = options.genSizes.filter((n) => fits(options.decodePrompt + n));
  const promptSizes = options.promptSizes.filter(fits);
  const warmupGen = Math.min(...genSizes);

  if (genSizes.length) {
    progress.step("First generation after the load (kept apart as the cold-start figure)");
    await session.run(
      { kind: "decode", nPrompt: options.decodePrompt, nGen: warmupGen },
      `cold tg${warmupGen}`,
      "cold",
    );
  }
  // Energy is read around the speed tests of the main configuration, where a sensor exists.
  // On a CUDA run the GPU's own sensor is the one that matters; RAPL would see only the CPU.
  const cudaFirst: Parameters<typeof openEnergyMeter>[0] =
    session.ready?.backend === "cuda" ? { prefer: ["nvml", "ina3221", "rpi_pmic", "rapl"] } : {};
  const meter = main ? await openEnergyMeter(cudaFirst) : null;
  const metered = async (spec: TestSpec, label: string, part: "prefill" | "decode", tokens: number) => {
    if (!meter || !main) return session.run(spec, label);
    await meter.start();
    const result = await session.run(spec, label);
    // A sensor that stopped answering gives no reading, never a made-up one.
    const reading = await meter.stop().catch(() => undefined);
    if (result && reading) {
      main.energy ??= {
        source: meter.source,
        notes: meter.notes,
        prefill: { joules: 0, tokens: 0 },
        decode: { joules: 0, tokens: 0 },
        joules: 0,
        ms: 0,
      };
      main.energy[part].joules += reading.joules;
      main.energy[part].tokens += tokens;
      main.energy.joules += reading.joules;
      main.energy.ms += reading.durationMs;
    }
    return result;
  };
  // Prefill and decode are metered for energy per token; time to first token is not.
  type Planned = { spec: TestSpec; name: string; energy?: "prefill" | "decode"; tokens: number };
  const tests: Planned[] = [
    ...promptSizes.map(
      (n): Planned => ({ spec: { kind: "prefill", nPrompt: n }, name: `pp${n}`, energy: "prefill", tokens: n }),
    ),
    ...genSizes.map(
      (n): Planned => ({
        spec: { kind: "decode", nPrompt: options.decodePrompt, nGen: n },
        name: `tg${n}`,
        energy: "decode",
        tokens: n,
      }),
    ),
    ...(fits(options.ttftPrompt + 1)
      ? [
          {
            spec: { kind: "ttft", nPrompt: options.ttftPrompt },
            name: `ttft@${options.ttftPrompt}`,
            tokens: 0,
          } as Planned,
        ]
      : []),
  ];
  for (const { spec, name, energy, tokens } of tests) {
    if (hooks.signal.aborted) break;
    progress.step(`${name}: warm-up and ${options.repetitions} repetition${options.repetitions === 1 ? "" : "s"}`);
    await session.run(spec, `${name} (warm-up)`, "warmup");
    for (let rep = 1; rep <= options.repetitions && !hooks.signal.aborted; rep++) {
      const label = `${name} (rep ${rep})`;
      await (energy ? metered(spec, label, energy, tokens) : session.run(spec, label));
    }
  }
  if (hooks.signal.aborted) return undefined;

  progress.step("Quality gates");
  const format = session.ready?.hasChatTemplate ? "chat" : "raw";
  const qualitySuites: QualitySuite[] = [];
  const suiteOutputs: string[] = [];
  for (const { suite, source } of suites) {
    const results = [];
    for (const item of suite.items) {
      const result = await session.run(
        { kind: "generate", prompt: item.prompt, maxTokens: item.maxTokens ?? 64, format },
        `${suite.name} ${item.id}`,
      );
      const output = result?.kind === "generate" ? result.text : "";
      if (result) suiteOutputs.push(output);
      results.push({ item, output, ...scoreOutput(item, output) });
    }
    qualitySuites.push(toQualitySuite(suite, source, results));
  }
  let perplexity: Quality["perplexity"];
  if (main && options.perplexityTokens > 1) {
    const chunk = Math.min(contextSize, 512);
    const result = await session.run(
      { kind: "perplexity", text: PERPLEXITY_TEXT.text, maxTokens: options.perplexityTokens, chunk },
      "perplexity",
    );
    if (result?.kind === "perplexity") {
      perplexity = { dataset: PERPLEXITY_TEXT.id, value: result.value, tokens: result.tokens, contextSize: chunk };
    }
  }
  return judgeQuality({
    decodeOutputs: session.recorder.outputs,
    suites: qualitySuites,
    suiteOutputs,
    perplexity,
    vocabSize: vocabSize ?? 0,
  });
}

function sweepPoint(config: EngineSettings, rec: Recorder, quality: Quality | undefined): SweepPoint {
  const failure = rec.failures[0]?.failure;
  return {
    config: {
      contextSize: config.contextSize,
      batchSize: config.batchSize,
      threads: config.threads,
      // node-llama-cpp always sets the micro-batch to the batch size.
      ubatchSize: config.batchSize,
      ...(typeof config.gpuLayers === "number" ? { gpuLayers: config.gpuLayers } : {}),
      ...(config.flashAttention === undefined ? {} : { flashAttention: config.flashAttention }),
      ...(config.kvCacheType === undefined ? {} : { kvCacheType: config.kvCacheType }),
    },
    measurements: rec.measurements(),
    // Host memory and GPU memory stay apart, as in the main run's memory section.
    ...(rec.peakRssBytes || rec.peakVramBytes !== undefined
      ? {
          memory: {
            ...(rec.peakRssBytes ? { peakRssBytes: rec.peakRssBytes } : {}),
            ...(rec.peakVramBytes === undefined ? {} : { peakVramBytes: rec.peakVramBytes }),
          },
        }
      : {}),
    // A point keeps its suites' scores; the items (prompts, outputs) stay with the main run, or a
    // sweep of many points would outgrow the API's body cap.
    ...(quality ? { quality: { ...quality, suites: quality.suites?.map(({ items: _, ...suite }) => suite) } } : {}),
    ...(failure ? { failure } : {}),
  };
}
