// Generated `llama`-architecture models, so tests and timing runs go through llama.cpp's real
// loading and inference path without a downloaded model.
//
// counter and looper have hand-set weights whose greedy output is known in advance: each token's
// embedding is a one-hot "class" vector, every attention and FFN output projection is zero (so the
// residual stream stays the embedding through every layer), the norms are one, and the output matrix
// maps each class to its successor token. The attention and FFN input projections are random anyway,
// so llama.cpp still does all the work of a real forward pass. random has small random weights
// everywhere: its logits are nearly uniform, so its perplexity is close to its vocabulary size.
import { FILE_TYPE_IDS, type TensorType } from "./ggml-types.ts";
import { weightStream } from "./prng.ts";
import { QK } from "./quantize.ts";
import {
  BOS_ID,
  EOS_ID,
  MIN_SYNTHETIC_VOCAB,
  SPACE,
  syntheticVocabulary,
  UNK_ID,
  type Vocabulary,
  wordVocabulary,
} from "./vocab.ts";
import { type GgufValue, kv, type TensorSpec, writeGguf } from "./writer.ts";

export const FIXTURE_KINDS = ["counter", "looper", "random"] as const;
export type FixtureKind = (typeof FIXTURE_KINDS)[number];
export const TENSOR_TYPES: readonly TensorType[] = ["Q8_0", "Q4_0", "F16", "F32"];

/** The counter's ordered words: after word k comes word k + 1, after the last comes the first. */
export const COUNTER_WORDS: readonly string[] = [
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
  "twenty",
  "thirty",
  "forty",
  "fifty",
  "sixty",
  "seventy",
  "eighty",
  "ninety",
  "hundred",
];

/** The looper's two words: whatever the prompt, it answers "machine learning machine learning ...". */
export const LOOPER_WORDS = ["machine", "learning"] as const;

export interface FixtureOptions {
  readonly out: string;
  /** Approximate total parameter count (random only; counter and looper have a fixed shape). */
  readonly params?: number;
  /** Type of the weight matrices; norms stay F32. Default Q8_0. */
  readonly type?: TensorType;
  readonly seed?: number;
  /** llama.context_length. Default 2048. */
  readonly contextLength?: number;
  /** Metadata keys to leave out, to write deliberately broken files for tests. */
  readonly omitKeys?: readonly string[];
}

export interface ModelShape {
  readonly nVocab: number;
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly nFf: number;
}

export interface FixtureModel extends ModelShape {
  readonly kind: FixtureKind;
  readonly path: string;
  /** File size. */
  readonly bytes: number;
  /** Bytes of tensor data, alignment padding excluded. */
  readonly tensorBytes: number;
  readonly parameters: number;
  readonly type: TensorType;
  readonly seed: number;
  readonly contextLength: number;
}

const RMS_EPS = 1e-5;
const WEIGHT_STD = 0.02;
/**
 * Standard deviation of a random model's logits. The final norm scales the hidden state to RMS 1, so
 * output.weight gets std LOGIT_STD / sqrt(n_embd) (not 0.02, which would grow the logits with the width
 * and the perplexity with them). Random logits of std s give a perplexity of about
 * vocab * exp(s^2 / 2): 1.02 * vocab here, at every size.
 */
export const LOGIT_STD = 0.2;
const DEFAULT_CONTEXT_LENGTH = 2048;
/** Logit of the successor: far above every other token's 0, so greedy decoding and EOS never waver. */
const SUCCESSOR_LOGIT = 32;
/** counter and looper: enough dimensions for one per counter word plus "everything else". */
const WORD_MODEL_SHAPE = { nEmbd: 64, nLayer: 2, nHead: 2, nHeadKv: 1, nFf: 128 } as const;

export function parameterCount(s: ModelShape): number {
  const headDim = s.nEmbd / s.nHead;
  const kvDim = headDim * s.nHeadKv;
  const layer = 2 * s.nEmbd * s.nEmbd + 2 * s.nEmbd * kvDim + 3 * s.nEmbd * s.nFf + 2 * s.nEmbd;
  return 2 * s.nVocab * s.nEmbd + s.nLayer * layer + s.nEmbd;
}

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** Vocabulary sizes above this hold the 32000 of Llama 2: what a model of tens of millions would use. */
const LARGE_MODEL_PARAMS = 16_000_000;
const LARGE_VOCAB = 32_000;

/**
 * A llama shape with about `params` parameters (always within 10%). Candidates are scored by how far
 * they miss the target (1% costs 0.2), how far their width to depth ratio is from 64 and how far their
 * embeddings are from half the parameters (on a log scale, how real small models are built). Below
 * 16M parameters the vocabulary is sized to fill what the layers leave.
 */
export function chooseRandomShape(params: number): ModelShape {
  if (!Number.isFinite(params) || params <= 0) throw new Error(`bad parameter count ${params}`);
  let best: { shape: ModelShape; error: number; score: number } | undefined;
  // Widths of 128 and up are multiples of 64 with 64-wide heads, as in real models.
  for (let nEmbd = 32; nEmbd <= 8192; nEmbd += nEmbd < 128 ? 32 : 64) {
    const headDim = nEmbd < 128 ? 32 : 64;
    const nHead = nEmbd / headDim;
    const nFf = roundUp((8 * nEmbd) / 3, QK);
    for (let nLayer = 1; nLayer <= 64; nLayer++) {
      const base = { nEmbd, nLayer, nHead, nHeadKv: nHead, nFf };
      const layers = parameterCount({ ...base, nVocab: 0 });
      const nVocab =
        params >= LARGE_MODEL_PARAMS
          ? LARGE_VOCAB
          : Math.min(LARGE_VOCAB, Math.max(MIN_SYNTHETIC_VOCAB, Math.round((params - layers) / (2 * nEmbd))));
      const shape = { ...base, nVocab };
      const total = parameterCount(shape);
      const error = Math.abs(total / params - 1);
      const share = (2 * nVocab * nEmbd) / total;
      const score = 20 * error + Math.abs(Math.log(nEmbd / nLayer / 64)) + Math.abs(Math.log(share / 0.5));
      if (error <= 0.1 && (!best || score < best.score)) best = { shape, error, score };
    }
  }
  if (!best) {
    const smallest = parameterCount({
      nEmbd: 32,
      nLayer: 1,
      nHead: 1,
      nHeadKv: 1,
      nFf: 96,
      nVocab: MIN_SYNTHETIC_VOCAB,
    });
    throw new Error(`cannot build a llama model of about ${params} parameters; the smallest has ${smallest}`);
  }
  return best.shape;
}

/** Values of a tensor `rowLength` wide, `rows` tall, in chunks of whole rows. */
function* rowChunks(rowLength: number, rows: number, fill: (row: number, out: Float32Array) => void) {
  const perChunk = Math.max(1, Math.floor(65536 / rowLength));
  for (let row = 0; row < rows; row += perChunk) {
    const n = Math.min(perChunk, rows - row);
    const chunk = new Float32Array(n * rowLength);
    for (let r = 0; r < n; r++) fill(row + r, chunk.subarray(r * rowLength, (r + 1) * rowLength));
    yield chunk;
  }
}

/** Values from a seeded stream, in chunks reusing one buffer (the writer encodes each before the next). */
function* randomChunks(total: number, draw: (out: Float32Array) => void) {
  const buffer = new Float32Array(Math.min(total, 1 << 16));
  for (let done = 0; done < total; done += buffer.length) {
    const chunk = buffer.subarray(0, Math.min(buffer.length, total - done));
    draw(chunk);
    yield chunk;
  }
}

type Fill =
  | { kind: "random"; std?: number }
  | { kind: "zeros" }
  | { kind: "ones" }
  | { kind: "rows"; row: (r: number, out: Float32Array) => void };

function llamaTensors(shape: ModelShape, type: TensorType, seed: number, fills: (name: string) => Fill): TensorSpec[] {
  const { nVocab, nEmbd, nLayer, nHead, nHeadKv, nFf } = shape;
  const kvDim = (nEmbd / nHead) * nHeadKv;
  const specs: [string, number[]][] = [["token_embd.weight", [nEmbd, nVocab]]];
  for (let i = 0; i < nLayer; i++) {
    specs.push(
      [`blk.${i}.attn_norm.weight`, [nEmbd]],
      [`blk.${i}.attn_q.weight`, [nEmbd, nEmbd]],
      [`blk.${i}.attn_k.weight`, [nEmbd, kvDim]],
      [`blk.${i}.attn_v.weight`, [nEmbd, kvDim]],
      [`blk.${i}.attn_output.weight`, [nEmbd, nEmbd]],
      [`blk.${i}.ffn_norm.weight`, [nEmbd]],
      [`blk.${i}.ffn_gate.weight`, [nEmbd, nFf]],
      [`blk.${i}.ffn_up.weight`, [nEmbd, nFf]],
      [`blk.${i}.ffn_down.weight`, [nFf, nEmbd]],
    );
  }
  specs.push(["output_norm.weight", [nEmbd]], ["output.weight", [nEmbd, nVocab]]);
  return specs.map(([name, dims]): TensorSpec => {
    const rowLength = dims[0] ?? 1;
    const rows = dims[1] ?? 1;
    const fill = fills(name);
    const data = (): Iterable<Float32Array> => {
      switch (fill.kind) {
        case "random":
          return randomChunks(rowLength * rows, weightStream(seed, name, fill.std ?? WEIGHT_STD));
        case "zeros":
          return rowChunks(rowLength, rows, () => {});
        case "ones":
          return rowChunks(rowLength, rows, (_, out) => out.fill(1));
        case "rows":
          return rowChunks(rowLength, rows, fill.row);
      }
    };
    // ggml keeps 1-d tensors (the norms) in F32: its kernels take no quantized vectors there.
    return { name, shape: dims, type: dims.length === 1 ? "F32" : type, data };
  });
}

function llamaMetadata(
  shape: ModelShape,
  vocab: Vocabulary,
  o: { name: string; kind: FixtureKind; type: TensorType; seed: number; contextLength: number },
): [string, GgufValue][] {
  const quantized = o.type === "Q8_0" || o.type === "Q4_0";
  return [
    ["general.architecture", kv.string("llama")],
    ["general.name", kv.string(o.name)],
    ["general.description", kv.string("Synthetic model written by edgebench fixture; its weights know nothing.")],
    ["general.file_type", kv.u32(FILE_TYPE_IDS[o.type])],
    ...(quantized ? ([["general.quantization_version", kv.u32(2)]] as [string, GgufValue][]) : []),
    ["llama.context_length", kv.u32(o.contextLength)],
    ["llama.embedding_length", kv.u32(shape.nEmbd)],
    ["llama.block_count", kv.u32(shape.nLayer)],
    ["llama.feed_forward_length", kv.u32(shape.nFf)],
    ["llama.rope.dimension_count", kv.u32(shape.nEmbd / shape.nHead)],
    ["llama.rope.freq_base", kv.f32(10000)],
    ["llama.attention.head_count", kv.u32(shape.nHead)],
    ["llama.attention.head_count_kv", kv.u32(shape.nHeadKv)],
    ["llama.attention.layer_norm_rms_epsilon", kv.f32(RMS_EPS)],
    ["llama.vocab_size", kv.u32(shape.nVocab)],
    ["tokenizer.ggml.model", kv.string("llama")],
    ["tokenizer.ggml.tokens", kv.strings(vocab.tokens)],
    ["tokenizer.ggml.scores", kv.f32s(vocab.scores)],
    ["tokenizer.ggml.token_type", kv.i32s(vocab.types)],
    ["tokenizer.ggml.bos_token_id", kv.u32(BOS_ID)],
    ["tokenizer.ggml.eos_token_id", kv.u32(EOS_ID)],
    ["tokenizer.ggml.unknown_token_id", kv.u32(UNK_ID)],
    ["tokenizer.ggml.add_bos_token", kv.bool(true)],
    ["tokenizer.ggml.add_eos_token", kv.bool(false)],
    ["tokenizer.ggml.add_space_prefix", kv.bool(true)],
    ["edgebench.fixture.kind", kv.string(o.kind)],
    ["edgebench.fixture.seed", kv.u32(o.seed)],
  ];
}

/**
 * A successor model: token t's embedding is one-hot at dimension classOf(t); the output matrix gives
 * token successorOf(c) the logit SUCCESSOR_LOGIT for class c and every other token 0.
 */
function successorTensors(
  vocab: Vocabulary,
  type: TensorType,
  seed: number,
  classOf: (token: number) => number,
  successorOf: (cls: number) => number,
): TensorSpec[] {
  const shape = { ...WORD_MODEL_SHAPE, nVocab: vocab.tokens.length };
  // After RMS norm a one-hot vector of 1 is sqrt(n_embd) at its dimension.
  const gain = SUCCESSOR_LOGIT / Math.sqrt(shape.nEmbd);
  const classesOfSuccessor = new Map<number, number[]>();
  for (let c = 0; c < shape.nEmbd; c++) {
    const s = successorOf(c);
    classesOfSuccessor.set(s, [...(classesOfSuccessor.get(s) ?? []), c]);
  }
  return llamaTensors(shape, type, seed, (name) => {
    if (name === "token_embd.weight")
      return {
        kind: "rows",
        row: (t, out) => {
          out[classOf(t)] = 1;
        },
      };
    if (name === "output.weight")
      return {
        kind: "rows",
        row: (t, out) => {
          for (const c of classesOfSuccessor.get(t) ?? []) out[c] = gain;
        },
      };
    if (name.endsWith("norm.weight")) return { kind: "ones" };
    if (name.endsWith("attn_output.weight") || name.endsWith("ffn_down.weight")) return { kind: "zeros" };
    return { kind: "random" };
  });
}

/** counter and looper share one vocabulary, so their token ids agree. */
let wordVocabCache: Vocabulary | undefined;
export function fixtureWordVocabulary(): Vocabulary {
  wordVocabCache ??= wordVocabulary([...COUNTER_WORDS, ...LOOPER_WORDS]);
  return wordVocabCache;
}

function wordId(vocab: Vocabulary, word: string): number {
  const id = vocab.ids.get(SPACE + word);
  if (id === undefined) throw new Error(`${word} is not in the vocabulary`);
  return id;
}

function counterModel(type: TensorType, seed: number) {
  const vocab = fixtureWordVocabulary();
  const words = COUNTER_WORDS.map((w) => wordId(vocab, w));
  const other = COUNTER_WORDS.length;
  const classOfToken = new Map(words.map((id, k) => [id, k]));
  const successors = (c: number) => words[c < other ? (c + 1) % other : 0] ?? UNK_ID;
  // Dimensions past `other` belong to no token; give them a successor anyway so every column is set.
  return {
    vocab,
    tensors: successorTensors(vocab, type, seed, (t) => classOfToken.get(t) ?? other, successors),
  };
}

function looperModel(type: TensorType, seed: number) {
  const vocab = fixtureWordVocabulary();
  const machine = wordId(vocab, "machine");
  const learning = wordId(vocab, "learning");
  const classOf = (t: number) => (t === machine ? 0 : t === learning ? 1 : 2);
  return { vocab, tensors: successorTensors(vocab, type, seed, classOf, (c) => (c === 0 ? learning : machine)) };
}

/**
 * The last word of `prompt` if the tokenizer makes it one `▁word` token: it must follow a space (or
 * start the prompt, which gets a space prefix) and end it. Anything else (a tab before it, trailing
 * punctuation or space) ends the prompt with some other token.
 */
function lastWordToken(prompt: string): string | undefined {
  return /(?:^| )([^\s]+)$/.exec(prompt)?.[1];
}

/** As llama.cpp detokenizes: SentencePiece drops the space of the first piece after BOS alone. */
function detokenized(prompt: string, pieces: readonly string[]): string {
  const text = pieces.join("");
  return prompt === "" ? text.trimStart() : text;
}

/**
 * The text a counter model continues `prompt` with, greedily, for `tokens` tokens: " four five six"
 * after "one two three". The last token decides: a whole counter word is followed by the next word;
 * anything else (a partial word, a letter, a byte, a trailing space, BOS) by the first word.
 */
export function expectedCounterContinuation(prompt: string, tokens: number): string {
  let k = COUNTER_WORDS.indexOf(lastWordToken(prompt) ?? "");
  const out: string[] = [];
  for (let i = 0; i < tokens; i++) {
    k = k < 0 ? 0 : (k + 1) % COUNTER_WORDS.length;
    out.push(` ${COUNTER_WORDS[k]}`);
  }
  return detokenized(prompt, out);
}

/** The text a looper model generates: " machine learning machine ...", or " learning ..." after "machine". */
export function expectedLooperContinuation(prompt: string, tokens: number): string {
  let next = lastWordToken(prompt) === "machine" ? 1 : 0;
  const out: string[] = [];
  for (let i = 0; i < tokens; i++) {
    out.push(` ${LOOPER_WORDS[next]}`);
    next = 1 - next;
  }
  return detokenized(prompt, out);
}

export async function writeFixtureModel(kind: FixtureKind, options: FixtureOptions): Promise<FixtureModel> {
  const type = options.type ?? "Q8_0";
  const seed = options.seed ?? 0;
  const contextLength = options.contextLength ?? DEFAULT_CONTEXT_LENGTH;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`bad seed ${seed}`);
  if (!Number.isSafeInteger(contextLength) || contextLength < 1) throw new Error(`bad context length ${contextLength}`);
  if (options.params !== undefined && kind !== "random")
    throw new Error(`${kind} models have a fixed shape; params applies to random models only`);

  let vocab: Vocabulary;
  let tensors: TensorSpec[];
  let shape: ModelShape;
  if (kind === "random") {
    shape = chooseRandomShape(options.params ?? 1_000_000);
    vocab = syntheticVocabulary(shape.nVocab);
    tensors = llamaTensors(shape, type, seed, (name) =>
      name.endsWith("norm.weight")
        ? { kind: "ones" }
        : name === "output.weight"
          ? { kind: "random", std: LOGIT_STD / Math.sqrt(shape.nEmbd) }
          : { kind: "random" },
    );
  } else {
    ({ vocab, tensors } = kind === "counter" ? counterModel(type, seed) : looperModel(type, seed));
    shape = { ...WORD_MODEL_SHAPE, nVocab: vocab.tokens.length };
  }
  const omit = new Set(options.omitKeys ?? []);
  const metadata = llamaMetadata(shape, vocab, {
    name: `edgebench-${kind}`,
    kind,
    type,
    seed,
    contextLength,
  }).filter(([key]) => !omit.has(key));
  const written = await writeGguf(options.out, { metadata, tensors });
  return {
    kind,
    path: written.path,
    bytes: written.bytes,
    tensorBytes: written.tensorBytes,
    parameters: written.parameters,
    type,
    seed,
    contextLength,
    ...shape,
  };
}
