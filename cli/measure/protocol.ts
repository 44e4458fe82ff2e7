// Messages between the CLI and the measurement child process. The child runs llama.cpp, which can
// abort or be killed by the OOM killer; everything it says is validated here before it is believed.
import * as z from "zod";

export const EngineConfig = z.strictObject({
  modelPath: z.string(),
  threads: z.int().min(1),
  contextSize: z.int().min(16),
  batchSize: z.int().min(1),
  gpu: z.enum(["auto", "cpu", "cuda", "vulkan", "metal"]),
  gpuLayers: z.union([z.int().min(0), z.literal("auto"), z.literal("max")]).optional(),
  flashAttention: z.boolean().optional(),
  kvCacheType: z.string().optional(),
  /** Text whose tokens feed the prefill, decode and TTFT prompts (the perplexity text). */
  promptText: z.string().min(1),
});
export type EngineConfig = z.infer<typeof EngineConfig>;

export const PromptFormat = z.enum(["chat", "raw"]);

export const TestSpec = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("prefill"), nPrompt: z.int().min(1) }),
  z.strictObject({ kind: z.literal("decode"), nPrompt: z.int().min(1), nGen: z.int().min(2) }),
  z.strictObject({ kind: z.literal("ttft"), nPrompt: z.int().min(1) }),
  z.strictObject({
    kind: z.literal("generate"),
    prompt: z.string(),
    maxTokens: z.int().min(1),
    format: PromptFormat,
  }),
  z.strictObject({ kind: z.literal("perplexity"), text: z.string(), maxTokens: z.int().min(2), chunk: z.int().min(2) }),
]);
export type TestSpec = z.infer<typeof TestSpec>;

const Resources = z.strictObject({
  maxRssBytes: z.number(),
  rssBytes: z.number(),
  vramUsedBytes: z.number().optional(),
});
export type Resources = z.infer<typeof Resources>;

/**
 * llama.cpp's own timing of one test, read from its performance counters (llama_perf_context): the
 * prompt batches and the single-token decodes, each from the start of llama_decode to the end of its
 * synchronization, without sampling or the way back to JavaScript. Absent when it could not be read.
 */
const EngineTiming = z.strictObject({
  promptTokens: z.int().min(0),
  promptMs: z.number().min(0),
  evalRuns: z.int().min(0),
  evalMs: z.number().min(0),
});
export type EngineTiming = z.infer<typeof EngineTiming>;

export const TestResult = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("prefill"),
    /** From the call to the end of the evaluation, as JavaScript sees it. */
    ms: z.number(),
    tokens: z.int(),
    engine: EngineTiming.optional(),
  }),
  z.strictObject({
    kind: z.literal("decode"),
    /** Time from the call to the first generated token: prompt evaluation plus one decode step. */
    ttftMs: z.number(),
    /** When each generated token arrived, in ms from the call. */
    tokenTimesMs: z.array(z.number()),
    text: z.string(),
    tokens: z.array(z.int()),
    engine: EngineTiming.optional(),
  }),
  z.strictObject({ kind: z.literal("ttft"), ms: z.number(), tokens: z.int(), engine: EngineTiming.optional() }),
  z.strictObject({
    kind: z.literal("generate"),
    text: z.string(),
    tokens: z.array(z.int()),
    ms: z.number(),
    ttftMs: z.number().optional(),
  }),
  z.strictObject({ kind: z.literal("perplexity"), value: z.number(), tokens: z.int() }),
]);
export type TestResult = z.infer<typeof TestResult>;

export const Ready = z.strictObject({
  type: z.literal("ready"),
  loadMs: z.number(),
  contextMs: z.number(),
  modelBytes: z.number(),
  backend: z.string(),
  llamaCppRelease: z.string(),
  gpuNames: z.array(z.string()),
  vram: z.strictObject({ total: z.number(), used: z.number(), unified: z.boolean() }),
  trainContextSize: z.number(),
  contextSize: z.number(),
  gpuLayers: z.number(),
  hasChatTemplate: z.boolean(),
  eogTokens: z.array(z.int()),
  resources: Resources,
});
export type Ready = z.infer<typeof Ready>;

export const ChildMessage = z.discriminatedUnion("type", [
  Ready,
  z.strictObject({ type: z.literal("result"), id: z.int(), result: TestResult, resources: Resources }),
  z.strictObject({ type: z.literal("error"), id: z.int().nullable(), message: z.string() }),
]);
export type ChildMessage = z.infer<typeof ChildMessage>;

export type ParentMessage =
  | { type: "init"; config: EngineConfig }
  | { type: "test"; id: number; spec: TestSpec }
  | { type: "quit" };
