// The measurements themselves, run inside the child process against the real llama.cpp through
// node-llama-cpp. Each function clears the sequence first, so no test inherits another's KV cache.
import {
  getLlama,
  type Llama,
  LlamaChatSession,
  LlamaCompletion,
  type LlamaContext,
  type LlamaContextSequence,
  LlamaLogLevel,
  type LlamaModel,
  type Token,
  TokenBias,
} from "node-llama-cpp";
import { parsePerfLines } from "./perf-log.ts";
import type { EngineConfig, EngineTiming, Ready, Resources, TestResult, TestSpec } from "./protocol.ts";

export interface Engine {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  /** Tokens of the prompt text, without BOS: prompts of any length are cut from it. */
  promptTokens: Token[];
  eog: Token[];
  /** llama.cpp's log lines while its performance counters are being printed; undefined otherwise. */
  perfLines: string[] | undefined;
  /** Set once the counters could not be read: every later test is timed by JavaScript alone, without waiting. */
  perfUnreadable: boolean;
}

const now = () => performance.now();

/** For the benchmarks: every line llama.cpp logs (info and up), to compare its own timings with edgebench's. */
export interface Tracking {
  logger: (level: LlamaLogLevel, message: string) => void;
}

const SHOWN_LEVELS = new Set<LlamaLogLevel>([LlamaLogLevel.fatal, LlamaLogLevel.error, LlamaLogLevel.warn]);

/** How long to wait for llama.cpp's log lines, which reach JavaScript through the event loop. */
const PERF_LOG_WAIT_MS = 2000;

/**
 * Prints llama.cpp's performance counters and resets them (node-llama-cpp's printTimings does both):
 * called before a test, it starts the counters from zero; after it, it reads what the test cost llama.cpp.
 */
async function readPerf(engine: Engine): Promise<EngineTiming | undefined> {
  if (engine.perfUnreadable) return undefined;
  const { llama } = engine;
  const level = llama.logLevel;
  engine.perfLines = [];
  try {
    // The counters are printed at info level; the child otherwise logs errors only.
    llama.logLevel = LlamaLogLevel.info;
    await engine.context.printTimings();
    const deadline = now() + PERF_LOG_WAIT_MS;
    while (parsePerfLines(engine.perfLines) === undefined && now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const timing = parsePerfLines(engine.perfLines);
    if (!timing) engine.perfUnreadable = true;
    return timing;
  } catch {
    engine.perfUnreadable = true;
    return undefined;
  } finally {
    engine.perfLines = undefined;
    llama.logLevel = level;
  }
}

export async function openEngine(config: EngineConfig, tracking?: Tracking): Promise<{ engine: Engine; ready: Ready }> {
  let engineRef: Engine | undefined;
  const llama = await getLlama({
    gpu: config.gpu === "cpu" ? false : config.gpu,
    build: "never",
    progressLogs: false,
    logLevel: tracking ? LlamaLogLevel.info : LlamaLogLevel.error,
    logger: (level, message) => {
      tracking?.logger(level, message);
      if (engineRef?.perfLines) engineRef.perfLines.push(message);
      else if (SHOWN_LEVELS.has(level)) process.stderr.write(`[node-llama-cpp] ${message}\n`);
    },
  });
  const loadStart = now();
  const model = await llama.loadModel({ modelPath: config.modelPath, gpuLayers: config.gpuLayers ?? "auto" });
  const loadMs = now() - loadStart;
  const contextStart = now();
  const kvType = config.kvCacheType?.toUpperCase() as "F16" | undefined;
  const context = await model.createContext({
    contextSize: config.contextSize,
    batchSize: config.batchSize,
    threads: config.threads,
    ...(config.flashAttention === undefined ? {} : { flashAttention: config.flashAttention }),
    ...(kvType ? { experimentalKvCacheKeyType: kvType, experimentalKvCacheValueType: kvType } : {}),
    // llama.cpp's own counters (llama_perf_context), read around each test: the engine-side timing.
    performanceTracking: true,
  });
  const contextMs = now() - contextStart;
  const sequence = context.getSequence();
  const eog = [...model.iterateAllTokens()].filter((t) => model.isEogToken(t));
  const promptTokens = model.tokenize(config.promptText);
  const vram = await llama.getVramState();
  const engine: Engine = {
    llama,
    model,
    context,
    sequence,
    promptTokens,
    eog,
    perfLines: undefined,
    perfUnreadable: false,
  };
  engineRef = engine;
  const ready: Ready = {
    type: "ready",
    loadMs,
    contextMs,
    modelBytes: model.size,
    backend: llama.gpu === false ? "cpu" : llama.gpu,
    llamaCppRelease: llama.llamaCppRelease.release,
    gpuNames: llama.gpu === false ? [] : await llama.getGpuDeviceNames(),
    vram: { total: vram.total, used: vram.used, unified: vram.unifiedSize > 0 },
    trainContextSize: model.trainContextSize,
    contextSize: context.contextSize,
    gpuLayers: model.gpuLayers,
    hasChatTemplate: typeof model.fileInfo.metadata.tokenizer?.chat_template === "string",
    eogTokens: eog,
    resources: await resources(engine),
  };
  return { engine, ready };
}

export async function resources(engine: Engine): Promise<Resources> {
  const vram = engine.llama.gpu === false ? undefined : (await engine.llama.getVramState()).used;
  // resourceUsage().maxRSS is in kilobytes on every platform Node supports.
  return {
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    rssBytes: process.memoryUsage().rss,
    ...(vram === undefined ? {} : { vramUsedBytes: vram }),
  };
}

/** A prompt of exactly n tokens: BOS (when the model wants one) and then the prompt text, repeated if short. */
function promptOf(engine: Engine, n: number): Token[] {
  const out: Token[] = [];
  const bos = engine.model.tokens.bos;
  if (bos !== null && engine.model.tokens.shouldPrependBosToken) out.push(bos);
  while (out.length < n) out.push(...engine.promptTokens.slice(0, n - out.length));
  return out;
}

/** Greedy decoding that never stops early: end-of-generation tokens are forbidden. */
function greedy(engine: Engine) {
  const bias = new TokenBias(engine.model.tokenizer);
  for (const token of engine.eog) bias.set(token, "never");
  return { temperature: 0, tokenBias: bias };
}

export async function runTest(engine: Engine, spec: TestSpec): Promise<TestResult> {
  const { sequence } = engine;
  await sequence.clearHistory();
  // The speed tests are timed twice: by JavaScript around the call (what an application sees) and by
  // llama.cpp's own counters, started from zero here and read when the test is done.
  const timed = spec.kind === "prefill" || spec.kind === "ttft" || spec.kind === "decode";
  if (timed) await readPerf(engine);
  const withEngine = async <T extends TestResult>(result: T): Promise<T> => {
    const timing = await readPerf(engine);
    return timing ? { ...result, engine: timing } : result;
  };
  switch (spec.kind) {
    case "prefill": {
      const tokens = promptOf(engine, spec.nPrompt);
      const start = now();
      await sequence.evaluateWithoutGeneratingNewTokens(tokens);
      return withEngine({ kind: "prefill", ms: now() - start, tokens: tokens.length });
    }
    case "ttft": {
      const tokens = promptOf(engine, spec.nPrompt);
      const start = now();
      const generator = sequence.evaluate(tokens, greedy(engine));
      await generator.next();
      const ms = now() - start;
      await generator.return();
      return withEngine({ kind: "ttft", ms, tokens: tokens.length });
    }
    case "decode": {
      const tokens = promptOf(engine, spec.nPrompt);
      const times: number[] = [];
      const generated: Token[] = [];
      const start = now();
      for await (const token of sequence.evaluate(tokens, greedy(engine))) {
        times.push(now() - start);
        generated.push(token);
        if (generated.length >= spec.nGen) break;
      }
      return withEngine({
        kind: "decode",
        ttftMs: times[0] ?? 0,
        tokenTimesMs: times,
        text: engine.model.detokenize(generated),
        tokens: generated,
      });
    }
    case "generate":
      return generate(engine, spec);
    case "perplexity":
      return perplexity(engine, spec.text, spec.maxTokens, spec.chunk);
  }
}

async function generate(engine: Engine, spec: Extract<TestSpec, { kind: "generate" }>): Promise<TestResult> {
  const generated: Token[] = [];
  let ttftMs: number | undefined;
  const start = now();
  const onToken = (tokens: Token[]) => {
    ttftMs ??= now() - start;
    generated.push(...tokens);
  };
  const options = { maxTokens: spec.maxTokens, temperature: 0, onToken };
  let text: string;
  if (spec.format === "chat") {
    const session = new LlamaChatSession({ contextSequence: engine.sequence, autoDisposeSequence: false });
    text = await session.prompt(spec.prompt, options);
    session.dispose({ disposeSequence: false });
  } else {
    const completion = new LlamaCompletion({ contextSequence: engine.sequence });
    text = await completion.generateCompletion(spec.prompt, options);
    completion.dispose({ disposeSequence: false });
  }
  const ms = now() - start;
  return { kind: "generate", text, tokens: generated, ms, ...(ttftMs === undefined ? {} : { ttftMs }) };
}

/**
 * Perplexity of the text: exp of the mean negative log-likelihood of each token given the ones
 * before it, in independent chunks (the first token of a chunk has no context and is not scored).
 * log p(next) = (logit(next) - max logit) - ln(sum of exp(logit - max logit)).
 */
async function perplexity(engine: Engine, text: string, maxTokens: number, chunk: number): Promise<TestResult> {
  const all = engine.model.tokenize(text);
  const bos = engine.model.tokens.bos;
  let scored = 0;
  let nll = 0;
  for (let offset = 0; offset < all.length - 1 && scored < maxTokens; offset += chunk - 1) {
    await engine.sequence.clearHistory();
    const piece = all.slice(offset, offset + chunk - (bos === null ? 0 : 1));
    // With BOS, position 0 predicts the chunk's first text token; without, the first token is context only.
    const tokens = bos === null ? piece : [bos, ...piece];
    const input = tokens.map((token, i) => {
      const next = tokens[i + 1];
      if (next === undefined) return token;
      return [
        token,
        // includeTop: 1 brings the maximum logit along (node-llama-cpp 3.22 ignores includeMax).
        { generateNext: { logits: { filter: { tokens: [next], includeTop: 1 } }, totalLogitWeight: true } },
      ] as [
        Token,
        { generateNext: { logits: { filter: { tokens: Token[]; includeTop: number } }; totalLogitWeight: true } },
      ];
    });
    const outputs = await engine.sequence.controlledEvaluate(input);
    for (let i = 0; i < tokens.length - 1 && scored < maxTokens; i++) {
      const next = tokens[i + 1] as Token;
      const out = outputs[i]?.next;
      if (!out?.logits || out.totalLogitWeight === undefined) continue;
      const logit = out.logits.get(next);
      if (logit === undefined) continue;
      const max = Math.max(...out.logits.values());
      nll -= logit - max - Math.log(out.totalLogitWeight);
      scored++;
    }
  }
  return { kind: "perplexity", value: Math.exp(nll / Math.max(scored, 1)), tokens: scored };
}

export async function closeEngine(engine: Engine): Promise<void> {
  await engine.context.dispose();
  await engine.model.dispose();
  await engine.llama.dispose();
}
