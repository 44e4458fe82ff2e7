import { mkdir } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import * as z from "zod";
import { Bundle } from "../../schema/bundle.ts";
import { signPayload } from "../../schema/signing.ts";
import { summarize } from "../../schema/summary.ts";
import { physicalCores } from "../device/fingerprint.ts";
import { configDir, defaultRegistry } from "../env.ts";
import { CliError, EXIT_USAGE } from "../errors.ts";
import { defineStrictCommand, repeatedFlag } from "../lib/command.ts";
import { writeFileWhole } from "../lib/files.ts";
import { loadOrCreateKey } from "../lib/keys.ts";
import { enqueue } from "../lib/outbox.ts";
import { createProgress, type Progress } from "../lib/progress.ts";
import { finalRefusal, normalizeRegistry, submitEnvelope } from "../lib/registry.ts";
import { parseDuration } from "../lib/units.ts";
import { type RunOptions, runBenchmark } from "../measure/run.ts";
import { parseSweep } from "../measure/sweep.ts";
import { parseTarget } from "../measure/targets.ts";
import { VERSION } from "../version.ts";

const sizes = (name: string) =>
  z
    .string()
    .regex(/^\d+(,\d+)*$/, `--${name} must be comma-separated token counts, e.g. 128,512`)
    .transform((s) => [...new Set(s.split(",").map(Number))].sort((a, b) => a - b))
    .refine((list) => list.every((n) => n >= 1 && n <= 65536), `--${name}: token counts must be 1 to 65536`);
const count = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `--${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `--${name} must be between ${min} and ${max}`);

const KV_TYPES = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"] as const;

const Args = z.object({
  model: z.string().min(1),
  threads: count("threads", 1, 1024).optional(),
  ctx: count("ctx", 16, 1_048_576),
  batch: count("batch", 1, 65536),
  gpu: z.enum(["auto", "cpu", "cuda", "vulkan", "metal"], { error: "--gpu must be auto, cpu, cuda, vulkan or metal" }),
  gpuLayers: z
    .string()
    .regex(/^(\d+|auto|max)$/, "--gpu-layers must be a number, auto or max")
    .transform((v) => (v === "auto" || v === "max" ? v : Number(v))),
  flashAttn: z.boolean().optional(),
  kv: z.enum(KV_TYPES, { error: `--kv must be one of ${KV_TYPES.join(", ")}` }).optional(),
  promptSizes: sizes("prompt-sizes"),
  genSizes: sizes("gen-sizes").refine((l) => l.every((n) => n >= 2), "--gen-sizes: generate at least 2 tokens"),
  ttftPrompt: count("ttft-prompt", 1, 65536),
  repetitions: count("repetitions", 1, 100),
  perplexityTokens: count("perplexity-tokens", 0, 100_000),
  suiteItems: z.boolean(),
});

export default defineStrictCommand({
  meta: { name: "run", description: "Measure a GGUF model on this device: speed, memory and quality" },
  args: {
    model: { type: "positional", description: "GGUF model file", required: true },
    threads: { type: "string", description: "CPU threads (default: physical cores)" },
    ctx: { type: "string", description: "Context size in tokens", default: "2048" },
    batch: {
      type: "string",
      description: "Batch size (node-llama-cpp uses it as the micro-batch too)",
      default: "512",
    },
    gpu: { type: "string", description: "auto, cpu, cuda, vulkan or metal", default: "auto" },
    gpuLayers: { type: "string", description: "Layers on the GPU: a number, auto or max", default: "auto" },
    flashAttn: {
      type: "boolean",
      description: "Flash attention on (--no-flash-attn off; default: llama.cpp's choice)",
    },
    kv: { type: "string", description: "KV cache type: f16, q8_0, q4_0, …" },
    promptSizes: { type: "string", description: "Prefill sizes in tokens", default: "128,512" },
    genSizes: { type: "string", description: "Decode sizes in tokens", default: "128,256,512" },
    ttftPrompt: { type: "string", description: "Prompt length for time to first token", default: "128" },
    repetitions: { type: "string", description: "Repetitions of each test", default: "3" },
    timeout: { type: "string", description: "Time limit per test", default: "10m" },
    perplexityTokens: {
      type: "string",
      description: "Tokens of the fixed text scored for perplexity (0: skip)",
      default: "1024",
    },
    suite: { type: "string", description: "A JSONL task suite of your own (repeatable)" },
    builtinSuite: {
      type: "boolean",
      description: "Run the built-in task suite (--no-builtin-suite to skip)",
      default: true,
    },
    sweep: {
      type: "string",
      description: "Sweep a parameter, e.g. batch=256,512 (repeatable; ctx, batch, threads, ngl, fa, kv)",
    },
    soak: { type: "string", description: "Soak duration after the tests, e.g. 60m" },
    interval: { type: "string", description: "Pause between soak requests", default: "2s" },
    soakTokens: { type: "string", description: "Tokens per soak request", default: "128" },
    target: { type: "string", description: "A declared target, e.g. decode_tps>=2 (repeatable)" },
    out: { type: "string", alias: "o", description: "Where to write the bundle (default: under the config dir)" },
    submit: { type: "boolean", description: "Sign and submit the bundle", default: false },
    registry: { type: "string", description: "Registry URL for --submit" },
    printPayload: {
      type: "boolean",
      description: "Print exactly what would be sent (the signed envelope)",
      default: false,
    },
    anon: {
      type: "boolean",
      description: "Leave out hostname, serial numbers and anything else identifying",
      default: false,
    },
    bandwidth: {
      type: "boolean",
      description: "Measure memory bandwidth for the roofline (--no-bandwidth to skip)",
      default: true,
    },
    json: { type: "boolean", description: "Print the bundle as JSON on stdout", default: false },
    quiet: { type: "boolean", description: "No progress output", default: false },
  },
  async run({ args, rawArgs }) {
    const parsed = Args.safeParse({
      model: args.model,
      threads: args.threads,
      ctx: args.ctx,
      batch: args.batch,
      gpu: args.gpu,
      gpuLayers: args.gpuLayers,
      flashAttn: rawArgs.some((a) => a === "--flash-attn" || a === "--no-flash-attn") ? args.flashAttn : undefined,
      kv: args.kv,
      promptSizes: args.promptSizes,
      genSizes: args.genSizes,
      ttftPrompt: args.ttftPrompt,
      repetitions: args.repetitions,
      perplexityTokens: args.perplexityTokens,
      suiteItems: args.builtinSuite,
    });
    if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => i.message).join("; "), EXIT_USAGE);
    const a = parsed.data;
    const soak = args.soak
      ? {
          durationMs: parseDuration(args.soak, "--soak"),
          intervalMs: parseDuration(args.interval, "--interval"),
          maxTokens: count("soak-tokens", 1, 4096).parse(args.soakTokens),
        }
      : undefined;
    const options: RunOptions = {
      modelPath: resolve(a.model),
      engine: {
        threads: a.threads ?? physicalCores(),
        contextSize: a.ctx,
        batchSize: a.batch,
        gpu: a.gpu,
        gpuLayers: a.gpu === "cpu" ? 0 : a.gpuLayers,
        ...(a.flashAttn === undefined ? {} : { flashAttention: a.flashAttn }),
        ...(a.kv ? { kvCacheType: a.kv } : {}),
      },
      promptSizes: a.promptSizes,
      genSizes: a.genSizes,
      ttftPrompt: a.ttftPrompt,
      decodePrompt: 16,
      repetitions: a.repetitions,
      timeoutMs: parseDuration(args.timeout, "--timeout"),
      perplexityTokens: a.perplexityTokens,
      builtinSuite: a.suiteItems,
      userSuites: repeatedFlag(rawArgs, "suite").map((p) => resolve(p)),
      sweep: repeatedFlag(rawArgs, "sweep").map(parseSweep),
      soak,
      targets: repeatedFlag(rawArgs, "target").map(parseTarget),
      anon: args.anon,
      measureBandwidth: args.bandwidth,
      commandLine: ["edgebench", "run", ...rawArgs].join(" "),
      toolVersion: VERSION,
    };
    const registry =
      args.submit || args.printPayload ? normalizeRegistry(args.registry ?? defaultRegistry()) : undefined;
    const out = resolve(
      args.out ?? join(configDir(), "runs", `${stamp()}-${basename(a.model).replace(/\.gguf$/i, "")}.json`),
    );
    const progress = createProgress({ quiet: args.quiet });

    // Ctrl-C: stop the child, keep what was measured, write it, exit 130. A second Ctrl-C exits at once.
    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = () => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      progress.warn("stopping: writing what was measured so far (Ctrl-C again to quit at once)");
      controller.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);

    await mkdir(dirname(out), { recursive: true });
    const bundle = await runBenchmark(options, {
      progress,
      signal: controller.signal,
      checkpoint: (b) => writeBundle(out, b),
    });
    await writeBundle(out, bundle);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    report(progress, bundle, out);

    if (registry) await deliver(bundle, registry, { submit: args.submit, printPayload: args.printPayload });
    if (args.json) process.stdout.write(`${JSON.stringify(bundle, null, 2)}\n`);
    if (controller.signal.aborted) process.exitCode = 130;
    else if (bundle.failure?.stage === "load") process.exitCode = 1;
  },
});

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
}

/** Written to a temporary file and renamed, so a kill never leaves half a bundle. */
async function writeBundle(path: string, bundle: Bundle): Promise<void> {
  const checked = Bundle.safeParse(bundle);
  if (!checked.success) throw new Error(`internal error: the run produced an invalid bundle: ${checked.error.message}`);
  await writeFileWhole(path, `${JSON.stringify(bundle, null, 2)}\n`);
}

function report(progress: Progress, bundle: Bundle, out: string): void {
  const s = summarize(bundle);
  const figures = [
    s.decodeTps === null ? undefined : `decode ${s.decodeTps.toFixed(2)} tok/s (tg${s.decodeNGen})`,
    s.prefillTps === null ? undefined : `prefill ${s.prefillTps.toFixed(1)} tok/s (pp${s.prefillNPrompt})`,
    s.ttftMs === null ? undefined : `TTFT ${s.ttftMs.toFixed(0)} ms`,
    s.peakMemoryBytes === null ? undefined : `peak memory ${(s.peakMemoryBytes / 1e6).toFixed(0)} MB`,
    bundle.roofline ? `${(bundle.roofline.efficiency * 100).toFixed(0)}% of the roofline` : undefined,
  ].filter(Boolean);
  progress.info(figures.join(" · ") || "no speed figure was measured");
  const verdict = bundle.quality?.verdict;
  if (s.qualityStatus === "fail") progress.fail(`quality: FAIL, ${s.qualityReason}`);
  else if (verdict)
    progress.succeed(
      `quality: ${verdict.status}${s.qualityScore === null ? "" : ` (suite ${(s.qualityScore * 100).toFixed(0)}%)`}`,
    );
  for (const t of bundle.targets ?? []) {
    (t.passed ? progress.succeed : progress.fail)(`target ${t.label ?? t.metric}: ${t.passed ? "met" : "missed"}`);
  }
  if (bundle.failure)
    progress.warn(
      `the run recorded a failure: ${bundle.failure.stage} ${bundle.failure.kind}: ${bundle.failure.message}`,
    );
  progress.info(`bundle written to ${out}`);
}

/** Where the bundle went is a result, not progress: it is printed (on stderr) even with --quiet. */
async function deliver(bundle: Bundle, registry: string, options: { submit: boolean; printPayload: boolean }) {
  const key = await loadOrCreateKey();
  const envelope = await signPayload(bundle, key.privateKey);
  if (options.printPayload) process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
  if (!options.submit) return;
  try {
    const answer = await submitEnvelope(registry, envelope);
    console.error(`${answer.created ? "submitted" : "already stored"}: ${answer.url}`);
  } catch (error) {
    if (finalRefusal(error)) throw error;
    const id = await enqueue(registry, envelope);
    console.error(`${(error as Error).message}; queued in the outbox as ${id} (deliver later: edgebench outbox flush)`);
  }
}
