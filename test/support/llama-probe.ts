// Loads a GGUF model in llama.cpp (through node-llama-cpp) and prints one JSON line with what it saw.
// Tests run it in a child process: a file llama.cpp dislikes can abort the whole process, and that
// must fail one test, not the test run.
//
//   node test/support/llama-probe.ts '{"model":"m.gguf","generate":[{"prompt":"one two","maxTokens":4}]}'
import { getLlama, type LlamaContextSequence, LlamaLogLevel, type Token } from "node-llama-cpp";
import { z } from "zod";

const Request = z.strictObject({
  model: z.string(),
  threads: z.number().int().positive().default(1),
  contextSize: z.number().int().positive().default(512),
  /** Greedy generations, each from a fresh sequence state. */
  generate: z.array(z.strictObject({ prompt: z.string(), maxTokens: z.number().int().positive() })).default([]),
  perplexity: z.strictObject({ text: z.string() }).optional(),
});
export type ProbeRequest = z.input<typeof Request>;

export interface ProbeResult {
  loadMs: number;
  contextMs: number;
  vocabularyType: string;
  embeddingSize: number;
  trainContextSize: number;
  typeDescription: string;
  generate: { text: string; pieces: string[]; promptTokens: number; ms: number; tokensPerSecond: number }[];
  perplexity?: { tokens: number; perplexity: number; ms: number };
}

/** Greedy decoding, one token at a time, so the pieces are exactly what the model chose. */
async function generate(sequence: LlamaContextSequence, prompt: string, maxTokens: number) {
  const model = sequence.model;
  const tokens = model.tokenize(prompt);
  if (model.tokens.shouldPrependBosToken && model.tokens.bos !== null) tokens.unshift(model.tokens.bos);
  const out: Token[] = [];
  const start = performance.now();
  for await (const token of sequence.evaluate(tokens, { temperature: 0 })) {
    out.push(token);
    if (out.length >= maxTokens) break;
  }
  const ms = performance.now() - start;
  return {
    text: model.detokenize(out, false, tokens),
    // With the prompt as context, so a piece keeps its leading space.
    pieces: out.map((t) => model.detokenize([t], false, tokens)),
    promptTokens: tokens.length,
    ms,
    // Prompt evaluation included: these are end-to-end figures, not decode speed.
    tokensPerSecond: (out.length / ms) * 1000,
  };
}

/** exp of the mean negative log-probability of each token given the ones before it (BOS first). */
async function perplexity(sequence: LlamaContextSequence, text: string) {
  const model = sequence.model;
  const tokens = model.tokenize(text);
  if (model.tokens.bos !== null) tokens.unshift(model.tokens.bos);
  const start = performance.now();
  const results = await sequence.controlledEvaluate(
    tokens.map((token, i) => {
      const next = tokens[i + 1];
      if (next === undefined) return token;
      return [
        token,
        // includeTop, not includeMax: node-llama-cpp 3.22.1's addon ignores includeMax.
        { generateNext: { logits: { filter: { tokens: [next], includeTop: 1 } }, totalLogitWeight: true } },
      ];
    }),
  );
  let nll = 0;
  let counted = 0;
  for (let i = 0; i + 1 < tokens.length; i++) {
    const next = results[i]?.next;
    const logit = next?.logits?.get(tokens[i + 1] as Token);
    // The filtered map holds the target and the top logit; take the larger rather than trust its order.
    const max = next?.logits ? Math.max(...next.logits.values()) : undefined;
    if (logit === undefined || max === undefined || next?.totalLogitWeight === undefined)
      throw new Error(`no logits for position ${i}`);
    // log p = logit - log(sum exp(logits)) = logit - max - log(sum exp(logits - max)).
    nll -= logit - max - Math.log(next.totalLogitWeight);
    counted++;
  }
  return { tokens: counted, perplexity: Math.exp(nll / counted), ms: performance.now() - start };
}

async function main(): Promise<ProbeResult> {
  const request = Request.parse(JSON.parse(process.argv[2] ?? "{}"));
  const llama = await getLlama({
    gpu: false,
    build: "never",
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
    maxThreads: request.threads,
  });
  let start = performance.now();
  const model = await llama.loadModel({ modelPath: request.model });
  const loadMs = performance.now() - start;
  start = performance.now();
  const context = await model.createContext({ contextSize: request.contextSize, threads: request.threads });
  const contextMs = performance.now() - start;
  const result: ProbeResult = {
    loadMs,
    contextMs,
    vocabularyType: model.vocabularyType,
    embeddingSize: model.embeddingVectorSize,
    trainContextSize: model.trainContextSize,
    typeDescription: model.typeDescription,
    generate: [],
  };
  const sequence = context.getSequence();
  for (const { prompt, maxTokens } of request.generate) {
    await sequence.clearHistory();
    result.generate.push(await generate(sequence, prompt, maxTokens));
  }
  if (request.perplexity) {
    await sequence.clearHistory();
    result.perplexity = await perplexity(sequence, request.perplexity.text);
  }
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  return result;
}

process.stdout.write(`${JSON.stringify(await main())}\n`);
