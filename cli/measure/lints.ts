// Configuration lints: things that make a measurement mean something else than it seems to. Each
// becomes a warning in the bundle, so a reader sees it next to the figures it affects.
import type { Bundle } from "../../schema/bundle.ts";

type Warning = NonNullable<Bundle["warnings"]>[number];

export interface LintInput {
  contextSize: number;
  batchSize: number;
  threads: number;
  /** Every prompt length the run will evaluate, in tokens (estimated for text prompts). */
  promptTokens: number[];
  /** The longest prompt plus generation the run will ask for, in tokens. */
  longestSequence: number;
  physicalCores: number;
  ramBytes: number;
  modelFileBytes: number;
  trainContextSize?: number | undefined;
}

export function lintConfig(input: LintInput): Warning[] {
  const warnings: Warning[] = [];
  const longestPrompt = Math.max(0, ...input.promptTokens);
  if (longestPrompt > input.batchSize) {
    warnings.push({
      code: "prompt_longer_than_batch",
      message:
        `a ${longestPrompt}-token prompt is longer than the batch size (${input.batchSize}). llama.cpp evaluates it in ` +
        `${Math.ceil(longestPrompt / input.batchSize)} batches here, but servers and tools that must fit a prompt into one ` +
        "batch truncate or reject it instead: a quality score that changes with the batch size usually measured a cut " +
        "prompt, not the model.",
    });
  }
  if (input.longestSequence > input.contextSize) {
    warnings.push({
      code: "prompt_longer_than_context",
      message: `a test needs ${input.longestSequence} tokens of context but the context is ${input.contextSize}; such tests are skipped.`,
    });
  }
  if (input.threads > input.physicalCores) {
    warnings.push({
      code: "threads_exceed_cores",
      message: `${input.threads} threads on ${input.physicalCores} physical cores: oversubscribed threads contend and usually run slower.`,
    });
  }
  if (input.modelFileBytes > input.ramBytes * 0.9) {
    warnings.push({
      code: "model_exceeds_ram",
      message: `the model file (${gb(input.modelFileBytes)}) does not fit in RAM (${gb(input.ramBytes)}) with room to spare: it will page from disk or be killed, and speed then measures the disk.`,
    });
  }
  if (input.trainContextSize !== undefined && input.contextSize > input.trainContextSize) {
    warnings.push({
      code: "context_exceeds_trained",
      message: `the context (${input.contextSize}) is longer than the model was trained for (${input.trainContextSize}).`,
    });
  }
  return warnings;
}

/** Lints that need the loaded model: what llama.cpp actually did with the configuration. */
export function lintLoaded(input: {
  gpuLayers?: number | "auto" | "max" | undefined;
  backend?: string | undefined;
}): Warning[] {
  const wantsGpu = input.gpuLayers === "max" || (typeof input.gpuLayers === "number" && input.gpuLayers > 0);
  if (!wantsGpu || input.backend !== "cpu") return [];
  return [
    {
      code: "gpu_layers_without_gpu",
      message: `${input.gpuLayers} GPU layers were asked for, but llama.cpp runs on the CPU here: no GPU backend was found.`,
    },
  ];
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
