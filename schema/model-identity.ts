// Canonical model identity (issue #16, "One model, one page"). Every spelling a tool prints for a model
// (GGUF general.*, a Hugging Face repo id, an Ollama tag, llama-bench's model_type, an MLX repo, a file
// name) maps to ONE slug; quantization, format and packaging belong to the run, never to the model.
//
// Decisions, as a user of llama.cpp, Ollama and Hugging Face would expect them:
//
// Sources. Trusted in this order: GGUF metadata (general.basename + size_label + finetune + version),
//   the Hugging Face repo, the name the tool printed, the file name. The most trusted source that names a
//   model decides. A llama-bench model_type ("qwen2 7B Q4_K - Medium") names only llama.cpp's architecture
//   and size bucket: "qwen2" is Qwen2, Qwen2.5 and the R1 Qwen distills, "llama" is Llama, Mistral 7B,
//   SmolLM2 and the R1 Llama distills, and Qwen2.5-0.5B prints as "1B". So any other source that names a
//   model wins over it, and alone it gives `recognized: false`, slug "<arch>-<bucket>" ("gemma3-270m"),
//   variant "unknown". A generic file name ("ggml-model-q4_0.gguf") names nothing.
//
// Slug. The publisher's own model name, lower-case, with the publisher's spelling of family and version
//   ("gemma-3", "qwen2.5", "qwen3", "llama-3.2", "phi-3.5", "smollm2", "mistral-7b"), then the size, then
//   "-instruct" for instruction/chat-tuned weights ("it", "chat" and "instruct" are one word here), then the
//   publisher's release tag ("v0.3", "2407", "2507"). Base weights carry no suffix where the publisher's
//   bare name is the base model (Gemma, Qwen2/2.5, Llama, SmolLM/SmolLM2, Mistral 7B) and "-base" where the
//   bare name is the post-trained model (Qwen3, SmolLM3, Mistral Nemo, Ministral). Base and instruct are
//   different weights, so always different slugs. Quantization, format and packaging never enter a slug.
//
// Variant. "base"; "instruct" for any publisher post-training meant for chat (it/instruct/chat, the Qwen3
//   hybrid-thinking models, Qwen3 Thinking-2507, Phi reasoning, the R1 distills); a fine-tune's own slug part
//   for a distinct fine-tune; "unknown" when the input cannot tell (llama-bench alone, unknown names).
//
// Tool conventions. An Ollama library tag (no namespace) is the instruct/chat model unless the tag says
//   "text" or "base"; a tag without a size is that library's :latest ("gemma3" is gemma3:4b). Namespaced
//   Ollama models and hf.co/ pulls follow their repo name. deepseek-r1:1.5b/7b/14b/32b are the R1 Qwen
//   distills and :70b the Llama distill; deepseek-r1:8b is DeepSeek-R1-0528-Qwen3-8B (Ollama moved the tag
//   in May 2025; the older Llama distill is "8b-llama-distill"), and outside Ollama a bare "R1 8B" is
//   ambiguous and not recognized. mistral is Mistral-7B-Instruct-v0.3; mistral-nemo is Instruct-2407.
//
// Qwen3. "Qwen3-4B" is the post-trained hybrid-thinking model: slug "qwen3-4b", variant instruct;
//   "Qwen3-4B-Base" is "qwen3-4b-base". The dated releases keep their date: "qwen3-4b-instruct-2507",
//   "qwen3-4b-thinking-2507". "Qwen3 4B Instruct" without a date is the 2507 instruct where that size has
//   one (4B, 30B-A3B, 235B-A22B) and otherwise the hybrid model, the only post-trained Qwen3 of that size.
//
// Phi. The slug keeps Microsoft's size word and context length: "phi-3-mini-4k-instruct",
//   "phi-3-mini-128k-instruct", "phi-3-medium-4k-instruct", "phi-3.5-mini-instruct", "phi-4" (14B),
//   "phi-4-mini-instruct", "phi-4-mini-reasoning". The size field is the parameter count, comparable across
//   families: mini "3.8b", small "7b", medium "14b", Phi-4 "14b". Microsoft published no base Phi-3 and
//   "4k" is the original release, so "phi3:mini", "phi3:3.8b", "Phi-3-mini" and "Phi-3-mini-4k-instruct" are
//   one model. llama-bench prints "phi3 3B" for every 32-layer phi3 model (Phi-3-mini, Phi-3.5-mini,
//   Phi-4-mini, all 3.8B): alone it gives size "3.8b" and no model.
//
// Quantization, one spelling each (null when not recognised): llama.cpp types upper-case as file names
//   spell them (Q4_K_M, Q8_0, Q4_0, Q6_K, IQ4_XS, TQ1_0…); llama.cpp's ftype descriptions mapped back
//   ("Q4_K - Medium" Q4_K_M, "Q2_K - Medium" Q2_K, "IQ3_S mix - 3.66 bpw" IQ3_M; "mostly", "(guessed)" and
//   bpw dropped); imatrix markers ("i1-") dropped but Unsloth's dynamic mixes kept ("UD-Q4_K_XL"); a bare
//   "q4"/"Q6" stays "Q4"/"Q6" (a 4-bit GGUF of unstated type); floats "F16" (fp16, float16, f16, half),
//   "BF16" (bf16, bfloat16), "F32"; MLX "4bit", "8bit", "3bit"… and "4bit-DWQ"; ternary "1.58bit"
//   (1.58-bit, b1.58); RKLLM "w8a8", "w4a16", "w8a8_g128"; "AWQ", "GPTQ", "GPTQ-Int4", "bnb-4bit", "FP8",
//   "MXFP4"; "int4"/"int8" (ONNX, torchao) kept apart from MLX's "4bit". A declared quantization wins, then
//   llama-bench's ftype, then the first spelling found in a name, most trusted source first.
//
// Fine-tunes. A name that is a known model plus words of its own ("Qwen2.5-7B-Instruct-abliterated") is a
//   distinct fine-tune: slug "qwen2.5-7b-instruct-abliterated", baseSlug "qwen2.5-7b-instruct". A name of no
//   known family whose baseModel (or GGUF base_model) is known is a fine-tune of it, slug from its own name
//   ("chill123/antonio-gemma3-evo-q4" on google/gemma-3-1b-it: "antonio-gemma3-evo", baseSlug
//   "gemma-3-1b-instruct"), recognized, with family, version and size of its base. A bundle that declares
//   `fineTune` but is named after its base gets "<base>-<method>-<task>" ("gemma-3-270m-lora-sql"). A known
//   model's own baseModel (an instruct model naming its base) is not a fine-tune.
//
// Unrecognized names. The slug is the most trusted name cleaned of owner, quantization and packaging,
//   `recognized: false`, family its first word, variant "instruct"/"base" when a word says so.
import type { Model } from "./bundle.ts";
import { slugify } from "./slugify.ts";

export interface ModelNameSources {
  /** bundle.model.name as the source gave it (tool's printed name, repo id, file name, GGUF general.name…) */
  name: string;
  /** e.g. "gemma-3-270m-it-Q4_K_M.gguf" */
  fileName?: string;
  /** "owner/name" */
  huggingFaceRepo?: string;
  /** as declared, e.g. "Q4_K - Medium", "q4_k_m", "4bit", "w8a8", "1.58-bit" */
  quantization?: string;
  parameters?: number;
  /** e.g. "google/gemma-3-1b-it" */
  baseModel?: string;
  /** a LoRA/full fine-tune described by the bundle */
  fineTune?: { method: string; task?: string };
  /** GGUF metadata, the most trusted source */
  metadata?: NonNullable<Model["metadata"]>;
  /** which tool printed the name, for tool conventions: "ollama" | "llama-bench" | "mlx" | "llama-server" | "rkllm" | "lm-eval" | … */
  sourceTool?: string;
}

export interface ModelIdentity {
  /** URL key, matches SLUG_PATTERN, e.g. "gemma-3-270m-instruct" */
  slug: string;
  /** display, e.g. "Gemma 3 270M Instruct" */
  name: string;
  /** "gemma" | "qwen" | "llama" | "phi" | "smollm" | "mistral" | "deepseek-r1-distill-qwen" | "deepseek-r1-distill-llama" | "deepseek-r1"; else the first word */
  family: string;
  /** "3", "2.5", "3.2", "4", "0.3" (Mistral 7B), "2407" (Nemo)… */
  version: string | null;
  /** parameter count as the publisher spells it: "270m", "1b", "0.6b", "3.8b", "30b-a3b", "e2b"… */
  size: string | null;
  /** "base" | "instruct" | a named fine-tune slug | "unknown" */
  variant: string;
  /** for a distinct fine-tune: the slug of the model it was tuned from; else null */
  baseSlug: string | null;
  /** normalized: "Q4_K_M", "Q8_0", "F16", "BF16", "4bit", "w8a8", "1.58bit"… (one spelling per thing) */
  quantization: string | null;
  /** false when no known family matched: the slug then falls back to a cleaned name */
  recognized: boolean;
}

// ---------------------------------------------------------------------------------------------
// quantization

const K_MIX_SUFFIX: Record<string, string> = { small: "S", medium: "M", large: "L" };

const QUANT_WORDS: Record<string, string> = {
  f16: "F16",
  fp16: "F16",
  float16: "F16",
  half: "F16",
  bf16: "BF16",
  bfloat16: "BF16",
  f32: "F32",
  fp32: "F32",
  float32: "F32",
  fp8: "FP8",
  float8: "FP8",
  mxfp4: "MXFP4",
  int4: "int4",
  int8: "int8",
  awq: "AWQ",
  gptq: "GPTQ",
  "gptq-int4": "GPTQ-Int4",
  "gptq-int8": "GPTQ-Int8",
  "bnb-4bit": "bnb-4bit",
  "b1.58": "1.58bit",
  "i2-s": "I2_S",
  tl1: "TL1",
  tl2: "TL2",
  "q4f16-1": "q4f16_1",
};

// llama.cpp GGML types as file names spell them: Q4_K_M, IQ2_XXS, Q4_0_4_4, TQ1_0, UD-Q4_K_XL, i1-Q4_K_M.
const GGML_TYPE = "(?:i1[-_])?(?:ud[-_])?(?:i?q|tq)\\d(?:_(?:xxs|xs|xl|nl|k|s|m|l|\\d))*";

export function normalizeQuantization(raw: string): string | null {
  let text = raw
    .trim()
    .replace(/\s*\([^)]*\)\s*$/, "")
    .replace(/^(?:mostly|all)\s+/i, "");
  // llama.cpp's ftype names (llama_model_ftype_name), as llama-bench and the loader print them.
  const kMix = /^(Q\d)_K - (Small|Medium|Large)$/i.exec(text);
  if (kMix) {
    const type = (kMix[1] as string).toUpperCase();
    const mix = K_MIX_SUFFIX[(kMix[2] as string).toLowerCase()] as string;
    // LLAMA_FTYPE_MOSTLY_Q2_K prints "Q2_K - Medium"; files call it Q2_K.
    return type === "Q2" && mix === "M" ? "Q2_K" : `${type}_K_${mix}`;
  }
  if (/^IQ3_S mix\b/i.test(text)) return "IQ3_M";
  text = text.replace(/\s+-\s+[\d.]+\s*bpw.*$/i, "").replace(/\s+MoE$/i, "");
  const lower = text.toLowerCase();
  const ggml = new RegExp(`^${GGML_TYPE}$`).exec(lower) ? /^(?:i1[-_])?(ud[-_])?(.+)$/.exec(lower) : null;
  if (ggml) return `${ggml[1] ? "UD-" : ""}${(ggml[2] as string).toUpperCase()}`;
  const key = lower.replace(/[\s_]+/g, "-");
  const word = QUANT_WORDS[key];
  if (word) return word;
  const bits = /^(1\.58|[1-8])-?bits?(-dwq)?$/.exec(key);
  if (bits) return `${bits[1]}bit${bits[2] ? "-DWQ" : ""}`;
  const rkllm = /^w(\d{1,2})a(\d{1,2})(?:-?g(\d+))?$/.exec(key);
  if (rkllm) return `w${rkllm[1]}a${rkllm[2]}${rkllm[3] ? `_g${rkllm[3]}` : ""}`;
  return null;
}

// The same spellings inside a name, bounded by separators: "gemma-3-270m-it-Q4_K_M", "…-4bit", "…_W8A8_…".
const QUANT_IN_NAME = new RegExp(
  `(?<=^|[-_.\\s/:])(${[
    "q4f16_1",
    GGML_TYPE,
    "1\\.58[-_]?bits?",
    "b1\\.58",
    "[1-8][-_]?bits?(?:[-_]dwq)?",
    "bnb[-_]4bit",
    "w\\d{1,2}a\\d{1,2}(?:[-_]g\\d+)?",
    "gptq(?:[-_]int[48])?",
    "awq",
    "bf16|bfloat16|fp16|float16|f16|fp32|float32|f32|fp8|mxfp4|int4|int8|i2_s",
  ].join("|")})(?=$|[-_.\\s])`,
  "gi",
);

// ---------------------------------------------------------------------------------------------
// cleaning a name: owner, path, extension, split suffix, quantization and packaging out

// Words that say how the weights were packed or where they run, never which model they are.
const PACKAGING = new Set([
  "gguf",
  "ggml",
  "mlx",
  "mlc",
  "hf",
  "imat",
  "imatrix",
  "qat",
  "unquantized",
  "rkllm",
  "onnx",
  "openvino",
  "exl2",
  "ud",
  "i1",
  "latest",
]);
const PACKAGING_PATTERNS = [/^rk\d{4}$/, /^opt\d$/, /^hybrid\d+$/, /^npu\d$/, /^ctx\d+k?$/];

// bartowski and RKLLM conversions prefix the publisher with an underscore: "google_gemma-3-1b-it".
const ORG_UNDERSCORE =
  /^(?:google|meta-llama|qwen|microsoft|mistralai|huggingfacetb|deepseek-ai|ibm-granite|nvidia|allenai|tiiuae)_/i;

// Names that say nothing about the model.
const GENERIC = new Set(["model", "models", "weights", "unnamed", "default", "main", "local", "checkpoint", "merged"]);

interface Cleaned {
  tokens: string[];
  quantization: string | null;
}

function clean(raw: string): Cleaned {
  let text = raw.trim();
  const pretrained = /(?:^|,)pretrained=([^,]+)/.exec(text);
  if (pretrained) text = pretrained[1] as string;
  text = text.replace(/^(?:https?:\/\/)?(?:www\.)?(?:huggingface\.co|hf\.co|ollama\.com)\//i, "");
  text = text.split(/[\\/]/).pop() ?? "";
  text = text
    .replace(/\.(?:gguf|ggml|bin|rkllm|safetensors|onnx|pte|tflite|llamafile|pth?)$/i, "")
    .replace(/-\d{5}-of-\d{5}$/, "")
    .replace(ORG_UNDERSCORE, "");
  let quantization: string | null = null;
  text = text.replace(QUANT_IN_NAME, (found: string) => {
    quantization ??= normalizeQuantization(found);
    return "-";
  });
  const seen = new Set<string>();
  const tokens: string[] = [];
  // A dot separates words unless it sits between digits ("qwen2.5", "v0.3" keep theirs).
  for (const token of text.split(/[-_\s:]+|\.(?!\d)|(?<!\d)\./)) {
    const lower = token.toLowerCase();
    if (!token || seen.has(lower) || PACKAGING.has(lower) || PACKAGING_PATTERNS.some((p) => p.test(lower))) continue;
    seen.add(lower);
    tokens.push(token);
  }
  return { tokens, quantization };
}

// ---------------------------------------------------------------------------------------------
// sizes

function sizeParameters(label: string): number | null {
  const match = /^(\d+(?:\.\d+)?)([mb])$/.exec(label);
  if (!match) return null;
  return Number(match[1]) * (match[2] === "b" ? 1e9 : 1e6);
}

/**
 * "270M" → "270m", "1.50B" → "1.5b"; a label within `tolerance` of one of the family's sizes takes its
 * spelling ("600M" is Qwen3's "0.6b", a computed "268M" is Gemma's "270m").
 */
function normalizeSize(label: string, known: readonly string[], tolerance = 0.05): string {
  const lower = label.toLowerCase().replace(/^(\d+)\.0+([mb])$/, "$1$2");
  if (known.includes(lower)) return lower;
  const value = sizeParameters(lower);
  if (value === null) return lower;
  for (const size of known) {
    const target = sizeParameters(size);
    if (target !== null && Math.abs(value - target) / target <= tolerance) return size;
  }
  const billions = value / 1e9;
  return billions >= 1 ? `${Number(billions.toFixed(1))}b` : `${Math.round(value / 1e6)}m`;
}

/** The family size closest to a parameter count, when it is close enough to be that size. */
function sizeFromParameters(parameters: number | undefined, known: readonly string[]): string | null {
  if (!parameters || parameters <= 0) return null;
  let best: string | null = null;
  let bestRatio = Number.POSITIVE_INFINITY;
  for (const size of known) {
    const target = sizeParameters(size);
    if (target === null) continue;
    const ratio = Math.max(parameters, target) / Math.min(parameters, target);
    if (ratio < bestRatio) [best, bestRatio] = [size, ratio];
  }
  return bestRatio <= 1.35 ? best : null;
}

const SIZE_TOKEN = /^\d+(?:\.\d+)?[mb]$/;
const MOE_SIZE = /^\d+x\d+(?:\.\d+)?[mb]$/;
const ACTIVE_SIZE = /^a\d+(?:\.\d+)?b$/;

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function displaySize(size: string): string {
  return size.toUpperCase().replace(/(\d)X(\d)/, "$1x$2");
}

// ---------------------------------------------------------------------------------------------
// parsing a known model line from lower-case words

interface ParseContext {
  /** Ollama library tags are the instruct models unless they say otherwise. */
  defaultVariant: "base" | "instruct" | null;
  ollama: boolean;
  parameters: number | undefined;
}

interface Known {
  slug: string;
  name: string;
  family: string;
  version: string | null;
  size: string | null;
  variant: "base" | "instruct";
  /** Words the model line did not account for: a fine-tune's own name. */
  leftovers: string[];
}

/** Words with the family glued to its version split apart: "qwen2.5" → "qwen", "2.5"; "meta-llama" → "llama". */
function words(tokens: readonly string[]): string[] {
  const out: string[] = [];
  for (const token of tokens) {
    const lower = token.toLowerCase();
    const glued = /^(gemma|llama|phi|qwen|smollm|ministral|mistral)(\d+(?:\.\d+)?n?)$/.exec(lower);
    if (glued) out.push(glued[1] as string, glued[2] as string);
    else out.push(lower);
  }
  if (out[0] === "meta" && out[1] === "llama") out.shift();
  return out;
}

function take(rest: string[], test: (word: string) => boolean): string | null {
  const index = rest.findIndex(test);
  if (index < 0) return null;
  return rest.splice(index, 1)[0] as string;
}

function takeWord(rest: string[], ...options: string[]): string | null {
  return take(rest, (w) => options.includes(w));
}

function takeVariant(rest: string[]): "base" | "instruct" | null {
  const word = takeWord(rest, "it", "instruct", "chat", "base", "pt", "text");
  if (word === null) return null;
  return word === "base" || word === "pt" || word === "text" ? "base" : "instruct";
}

function takeDate(rest: string[]): string | null {
  return take(rest, (w) => /^\d{4}$/.test(w));
}

/** The size word, normalized to the family's spelling, with a MoE's active count ("30b", "a3b" → "30b-a3b"). */
function takeSize(rest: string[], known: readonly string[], context: ParseContext): string | null {
  const index = rest.findIndex((w) => SIZE_TOKEN.test(w) || MOE_SIZE.test(w) || known.includes(w));
  if (index < 0) return sizeFromParameters(context.parameters, known);
  let size = normalizeSize(rest.splice(index, 1)[0] as string, known);
  const active = rest[index];
  if (active !== undefined && ACTIVE_SIZE.test(active)) {
    rest.splice(index, 1);
    size = `${size}-${active}`;
  }
  return size;
}

const instructSuffix = (variant: "base" | "instruct") => (variant === "instruct" ? "-instruct" : "");
const instructWord = (variant: "base" | "instruct") => (variant === "instruct" ? " Instruct" : "");

const GEMMA_SIZES: Record<string, readonly string[]> = {
  "2": ["2b", "9b", "27b"],
  "3": ["270m", "1b", "4b", "12b", "27b"],
  "3n": ["e2b", "e4b"],
};

function parseGemma(w: string[], context: ParseContext): Known | null {
  const version = w[1] as string;
  const known = GEMMA_SIZES[version];
  if (!known) return null;
  const rest = w.slice(2);
  const size = takeSize(rest, known, context);
  if (!size) return null;
  const variant = takeVariant(rest) ?? context.defaultVariant ?? "base";
  return {
    slug: `gemma-${version}-${size}${instructSuffix(variant)}`,
    name: `Gemma ${version} ${displaySize(size)}${instructWord(variant)}`,
    family: "gemma",
    version,
    size,
    variant,
    leftovers: rest,
  };
}

const QWEN_SIZES: Record<string, readonly string[]> = {
  "1.5": ["0.5b", "1.8b", "4b", "7b", "14b", "32b", "72b", "110b"],
  "2": ["0.5b", "1.5b", "7b", "72b", "57b-a14b"],
  "2.5": ["0.5b", "1.5b", "3b", "7b", "14b", "32b", "72b"],
  "3": ["0.6b", "1.7b", "4b", "8b", "14b", "32b", "30b-a3b", "235b-a22b"],
};
/** The Qwen3 sizes with a July 2025 Instruct-2507 / Thinking-2507 release. */
const QWEN3_2507 = new Set(["4b", "30b-a3b", "235b-a22b"]);
const QWEN_SUBLINES = ["coder", "math", "vl"];

function parseQwen(w: string[], context: ParseContext): Known | null {
  const version = w[1];
  if (version === undefined || !/^\d+(?:\.\d+)?$/.test(version)) return null;
  const rest = w.slice(2);
  const sublines: string[] = [];
  for (let word = takeWord(rest, ...QWEN_SUBLINES); word; word = takeWord(rest, ...QWEN_SUBLINES)) sublines.push(word);
  const size = takeSize(rest, QWEN_SIZES[version] ?? [], context);
  if (!size) return null;
  const line = `qwen${version}${sublines.map((s) => `-${s}`).join("")}`;
  const lineName = `Qwen${version}${sublines.map((s) => ` ${s === "vl" ? "VL" : capitalize(s)}`).join("")}`;
  const said = takeVariant(rest);
  const thinking = takeWord(rest, "thinking") !== null;
  let date = takeDate(rest);
  // Qwen2.5-7B-Instruct-1M is Qwen's own million-token release, not a fine-tune.
  const million = version === "2.5" && takeWord(rest, "1m") !== null ? "-1m" : "";
  const known = (slugTail: string, nameTail: string, variant: "base" | "instruct"): Known => ({
    slug: `${line}-${size}${slugTail}`,
    name: `${lineName} ${displaySize(size)}${nameTail}`,
    family: "qwen",
    version,
    size,
    variant,
    leftovers: rest,
  });
  if (version === "3" && sublines.length === 0) {
    // Qwen3's bare name is the post-trained hybrid model; "-Base" is the base; 2507 releases are dated.
    if (said === "base") return known("-base", " Base", "base");
    if (said === "instruct" || thinking) {
      date ??= QWEN3_2507.has(size) ? "2507" : null;
      if (date)
        return thinking
          ? known(`-thinking-${date}`, ` Thinking ${date}`, "instruct")
          : known(`-instruct-${date}`, ` Instruct ${date}`, "instruct");
      return known("", "", "instruct");
    }
    if (date) rest.push(date);
    return known("", "", "instruct");
  }
  if (thinking) rest.push("thinking");
  const variant = said ?? context.defaultVariant ?? "base";
  return known(
    `${instructSuffix(variant)}${million}${date ? `-${date}` : ""}`,
    `${instructWord(variant)}${million ? " 1M" : ""}${date ? ` ${date}` : ""}`,
    variant,
  );
}

const LLAMA_SIZES = ["1b", "3b", "7b", "8b", "11b", "13b", "70b", "90b", "405b"];

function parseLlama(w: string[], context: ParseContext): Known | null {
  const version = w[1];
  if (version === undefined || !/^[23](?:\.\d)?$/.test(version)) return null;
  const rest = w.slice(2);
  const vision = takeWord(rest, "vision") !== null;
  const size = takeSize(rest, LLAMA_SIZES, context);
  if (!size) return null;
  const variant = takeVariant(rest) ?? context.defaultVariant ?? "base";
  return {
    slug: `llama-${version}-${size}${vision ? "-vision" : ""}${instructSuffix(variant)}`,
    name: `Llama ${version} ${displaySize(size)}${vision ? " Vision" : ""}${instructWord(variant)}`,
    family: "llama",
    version,
    size,
    variant,
    leftovers: rest,
  };
}

// Microsoft names Phi sizes with words; Ollama tags use parameter counts. Both map to the word.
const PHI_WORD_BY_SIZE: Record<string, Record<string, string>> = {
  "3": { "3.8b": "mini", "7b": "small", "14b": "medium" },
  "3.5": { "3.8b": "mini", "16x3.8b": "moe", "42b": "moe", "4.2b": "vision" },
  "4": { "3.8b": "mini", "14b": "", "5.6b": "multimodal" },
};
const PHI_SIZE_BY_WORD: Record<string, string> = {
  mini: "3.8b",
  small: "7b",
  medium: "14b",
  moe: "16x3.8b",
  vision: "4.2b",
};

function parsePhi(w: string[], context: ParseContext): Known | null {
  const version = w[1];
  if (version === undefined) return null;
  const rest = w.slice(2);
  const base = (slug: string, name: string, size: string | null, variant: "base" | "instruct"): Known => ({
    slug,
    name,
    family: "phi",
    version,
    size,
    variant,
    leftovers: rest,
  });
  if (version === "2") {
    takeSize(rest, ["2.7b"], context);
    return base("phi-2", "Phi-2", "2.7b", "base");
  }
  const bySize = PHI_WORD_BY_SIZE[version];
  if (!bySize) return null;
  let word = takeWord(rest, "mini", "small", "medium", "moe", "vision", "multimodal");
  const numeric = take(rest, (x) => SIZE_TOKEN.test(x) || MOE_SIZE.test(x));
  if (numeric !== null && word === null) {
    // A size label computed from the parameter count can round differently ("15B" for Phi-4's 14.7B).
    const normalized = normalizeSize(numeric, Object.keys(bySize), 0.1);
    const mapped = bySize[normalized];
    if (mapped === undefined) rest.push(numeric);
    else word = mapped || null;
  }
  const said = takeVariant(rest);
  if (said === "base") rest.push("base");
  if (version === "3") {
    word ??= "mini";
    if (!["mini", "small", "medium"].includes(word)) return null;
    const contextLength = take(rest, (x) => /^\d+k$/.test(x)) ?? (word === "small" ? "8k" : "4k");
    return base(
      `phi-3-${word}-${contextLength}-instruct`,
      `Phi-3 ${capitalize(word)} ${contextLength.toUpperCase()} Instruct`,
      PHI_SIZE_BY_WORD[word] ?? null,
      "instruct",
    );
  }
  if (version === "3.5") {
    word ??= "mini";
    if (!["mini", "moe", "vision"].includes(word)) return null;
    const label = word === "moe" ? "MoE" : capitalize(word);
    return base(`phi-3.5-${word}-instruct`, `Phi-3.5 ${label} Instruct`, PHI_SIZE_BY_WORD[word] ?? null, "instruct");
  }
  // Phi-4: 14B with no size word; "mini" is 3.8B; reasoning models are their own releases.
  const reasoning = takeWord(rest, "reasoning") !== null;
  const plus = reasoning && takeWord(rest, "plus") !== null;
  const flash = takeWord(rest, "flash") !== null;
  if (word === "multimodal") return base("phi-4-multimodal-instruct", "Phi-4 Multimodal Instruct", "5.6b", "instruct");
  if (word === "mini") {
    if (reasoning) {
      return base(
        `phi-4-mini${flash ? "-flash" : ""}-reasoning`,
        `Phi-4 Mini${flash ? " Flash" : ""} Reasoning`,
        "3.8b",
        "instruct",
      );
    }
    if (flash) rest.push("flash");
    return base("phi-4-mini-instruct", "Phi-4 Mini Instruct", "3.8b", "instruct");
  }
  if (word !== null) return null;
  if (flash) rest.push("flash");
  if (reasoning)
    return base(`phi-4-reasoning${plus ? "-plus" : ""}`, `Phi-4 Reasoning${plus ? " Plus" : ""}`, "14b", "instruct");
  return base("phi-4", "Phi-4", "14b", "instruct");
}

const SMOLLM_SIZES: Record<string, readonly string[]> = {
  "1": ["135m", "360m", "1.7b"],
  "2": ["135m", "360m", "1.7b"],
  "3": ["3b"],
};

function parseSmolLM(w: string[], context: ParseContext): Known | null {
  const explicit = w[1] !== undefined && /^\d$/.test(w[1]) ? w[1] : null;
  const version = explicit ?? "1";
  const known = SMOLLM_SIZES[version];
  if (!known) return null;
  const rest = w.slice(explicit ? 2 : 1);
  const size = takeSize(rest, known, context);
  if (!size) return null;
  const said = takeVariant(rest);
  const line = version === "1" ? "smollm" : `smollm${version}`;
  const lineName = version === "1" ? "SmolLM" : `SmolLM${version}`;
  // SmolLM3-3B is the post-trained (hybrid reasoning) model, SmolLM3-3B-Base the base; SmolLM2 names the base bare.
  const variant = version === "3" ? (said ?? "instruct") : (said ?? context.defaultVariant ?? "base");
  const [slugTail, nameTail] =
    version === "3"
      ? variant === "base"
        ? ["-base", " Base"]
        : ["", ""]
      : [instructSuffix(variant), instructWord(variant)];
  return {
    slug: `${line}-${size}${slugTail}`,
    name: `${lineName} ${displaySize(size)}${nameTail}`,
    family: "smollm",
    version,
    size,
    variant,
    leftovers: rest,
  };
}

function parseMistral(w: string[], context: ParseContext): Known | null {
  const rest = w.slice(1);
  const mistral = (
    slug: string,
    name: string,
    version: string | null,
    size: string | null,
    variant: "base" | "instruct",
  ): Known => ({ slug, name, family: "mistral", version, size, variant, leftovers: rest });
  const variantWord = (variant: "base" | "instruct") => (variant === "base" ? "Base" : "Instruct");
  if (w[0] === "ministral") {
    // Ministral-8B-Instruct-2410; Ministral 3 (December 2025) as Ministral-3-8B-Instruct-2512 / -Base-2512.
    const generation = takeWord(rest, "3");
    const size = takeSize(rest, ["3b", "8b", "14b"], context);
    if (!size) return null;
    const variant = takeVariant(rest) ?? "instruct";
    const date = takeDate(rest);
    const line = generation ? `ministral-${generation}` : "ministral";
    const word = variantWord(variant);
    return mistral(
      `${line}-${size}-${word.toLowerCase()}${date ? `-${date}` : ""}`,
      `Ministral${generation ? ` ${generation}` : ""} ${displaySize(size)} ${word}${date ? ` ${date}` : ""}`,
      generation ?? date,
      size,
      variant,
    );
  }
  if (takeWord(rest, "nemo") !== null) {
    // Mistral-Nemo-Instruct-2407 and Mistral-Nemo-Base-2407, both 12B.
    takeSize(rest, ["12b"], context);
    const variant = takeVariant(rest) ?? "instruct";
    const date = takeDate(rest) ?? "2407";
    const word = variantWord(variant);
    return mistral(`mistral-nemo-${word.toLowerCase()}-${date}`, `Mistral Nemo ${word} ${date}`, date, "12b", variant);
  }
  if (takeWord(rest, "small") !== null) {
    // Mistral-Small-24B-Instruct-2501, Mistral-Small-3.1-24B-Instruct-2503.
    const generation = take(rest, (x) => /^\d+\.\d+$/.test(x));
    const size = takeSize(rest, ["22b", "24b"], context);
    if (!size) return null;
    const variant = takeVariant(rest) ?? "instruct";
    const date = takeDate(rest);
    const word = variantWord(variant);
    return mistral(
      `mistral-small${generation ? `-${generation}` : ""}-${size}-${word.toLowerCase()}${date ? `-${date}` : ""}`,
      `Mistral Small${generation ? ` ${generation}` : ""} ${displaySize(size)} ${word}${date ? ` ${date}` : ""}`,
      generation ?? date,
      size,
      variant,
    );
  }
  // Mistral 7B: Mistral-7B-v0.3 is the base, Mistral-7B-Instruct-v0.3 the instruct; Ollama's is v0.3.
  const size = takeSize(rest, ["7b"], context);
  if (size !== "7b") return null;
  const variant = takeVariant(rest) ?? context.defaultVariant ?? "base";
  const tag = take(rest, (x) => /^v\d+(?:\.\d+)?$/.test(x)) ?? (context.ollama ? "v0.3" : null);
  return mistral(
    `mistral-7b${instructSuffix(variant)}${tag ? `-${tag}` : ""}`,
    `Mistral 7B${instructWord(variant)}${tag ? ` ${tag}` : ""}`,
    tag ? tag.slice(1) : null,
    "7b",
    variant,
  );
}

const R1_QWEN_SIZES = ["1.5b", "7b", "14b", "32b"];
const R1_LLAMA_SIZES = ["8b", "70b"];

function parseDeepSeek(w: string[], context: ParseContext): Known | null {
  if (w[1] !== "r1") return null;
  const rest = w.slice(2);
  takeWord(rest, "distill");
  const date = takeDate(rest);
  const llama = takeWord(rest, "llama") !== null;
  const qwen = takeWord(rest, "qwen") !== null;
  const qwen3 = qwen && takeWord(rest, "3") !== null;
  const size = takeSize(rest, [...R1_QWEN_SIZES, ...R1_LLAMA_SIZES, "671b"], context);
  const distill = (base: "qwen" | "llama", distillSize: string): Known => ({
    slug: `deepseek-r1-distill-${base}-${distillSize}`,
    name: `DeepSeek R1 Distill ${base === "qwen" ? "Qwen" : "Llama"} ${displaySize(distillSize)}`,
    family: `deepseek-r1-distill-${base}`,
    version: null,
    size: distillSize,
    variant: "instruct",
    leftovers: rest,
  });
  const qwen3Distill = (): Known => ({
    slug: "deepseek-r1-0528-qwen3-8b",
    name: "DeepSeek R1 0528 Qwen3 8B",
    family: "deepseek-r1-distill-qwen",
    version: "0528",
    size: "8b",
    variant: "instruct",
    leftovers: rest,
  });
  if (qwen3 || (date === "0528" && size === "8b")) return size === null || size === "8b" ? qwen3Distill() : null;
  if (llama) return size && R1_LLAMA_SIZES.includes(size) ? distill("llama", size) : null;
  if (qwen) return size && R1_QWEN_SIZES.includes(size) ? distill("qwen", size) : null;
  if (size && R1_QWEN_SIZES.includes(size)) return distill("qwen", size);
  if (size === "70b") return distill("llama", size);
  if (size === "8b") return context.ollama ? qwen3Distill() : null;
  if (size === null || size === "671b") {
    const release = date ?? (context.ollama ? "0528" : null);
    return {
      slug: `deepseek-r1${release ? `-${release}` : ""}`,
      name: `DeepSeek R1${release ? ` ${release}` : ""}`,
      family: "deepseek-r1",
      version: release,
      size: "671b",
      variant: "instruct",
      leftovers: rest,
    };
  }
  return null;
}

const PARSERS: Record<string, (w: string[], context: ParseContext) => Known | null> = {
  gemma: parseGemma,
  qwen: parseQwen,
  llama: parseLlama,
  phi: parsePhi,
  smollm: parseSmolLM,
  mistral: parseMistral,
  ministral: parseMistral,
  deepseek: parseDeepSeek,
};

function parseKnown(tokens: readonly string[], context: ParseContext): Known | null {
  const w = words(tokens);
  const parser = PARSERS[w[0] ?? ""];
  return parser ? parser(w, context) : null;
}

// ---------------------------------------------------------------------------------------------
// tool conventions: Ollama tags and llama-bench model_type

// What each Ollama library name's :latest tag is (Ollama library pages, 2025).
const OLLAMA_LATEST: Record<string, string> = {
  gemma3: "4b",
  gemma3n: "e4b",
  gemma2: "9b",
  qwen3: "8b",
  "qwen2.5": "7b",
  "qwen2.5-coder": "7b",
  qwen2: "7b",
  "llama3.3": "70b",
  "llama3.2": "3b",
  "llama3.1": "8b",
  llama3: "8b",
  llama2: "7b",
  phi3: "mini",
  "phi3.5": "mini",
  phi4: "14b",
  "phi4-mini": "3.8b",
  "phi4-reasoning": "14b",
  "phi4-mini-reasoning": "3.8b",
  smollm2: "1.7b",
  smollm: "1.7b",
  mistral: "7b",
  "mistral-nemo": "12b",
  "deepseek-r1": "8b",
};

const OLLAMA_LIBRARY_TAG =
  /^(?:(?:registry\.ollama\.ai\/)?library\/)?([a-z0-9][a-z0-9._-]*)(?::([a-z0-9][a-z0-9._-]*))?$/i;

function ollamaLibrary(name: string, sourceTool: string | undefined): { library: string; tag: string } | null {
  const text = name.trim();
  // Without the tool named, only "name:tag" reads as an Ollama tag.
  if (sourceTool !== "ollama" && !/^[a-z0-9][a-z0-9._-]*:[a-z0-9][a-z0-9._-]*$/i.test(text)) return null;
  const match = OLLAMA_LIBRARY_TAG.exec(text);
  if (!match) return null;
  return { library: (match[1] as string).toLowerCase(), tag: match[2] ?? "latest" };
}

// llama.cpp architecture names (general.architecture) and the family they belong to.
const ARCHITECTURES: Record<string, { family: string; version: string | null }> = {
  gemma: { family: "gemma", version: null },
  gemma2: { family: "gemma", version: "2" },
  gemma3: { family: "gemma", version: "3" },
  gemma3n: { family: "gemma", version: "3n" },
  qwen2: { family: "qwen", version: null },
  qwen2moe: { family: "qwen", version: null },
  qwen3: { family: "qwen", version: "3" },
  qwen3moe: { family: "qwen", version: "3" },
  llama: { family: "llama", version: null },
  phi2: { family: "phi", version: "2" },
  phi3: { family: "phi", version: null },
  smollm3: { family: "smollm", version: "3" },
};

// Where llama.cpp's size bucket is exact for the architecture: every 32-layer phi3 model is 3.8B.
const EXACT_BUCKETS: Record<string, string> = { "phi3 3b": "3.8b" };

interface ArchOnly {
  architecture: string;
  bucket: string;
  quantization: string | null;
}

/** llama-bench's model_type, "<arch> <size> <ftype>": "gemma3 270M Q4_K - Medium", "llama 7B mostly Q4_0". */
function modelType(name: string): ArchOnly | null {
  const match =
    /^([a-z][a-z0-9_]*) (\?B|\d+(?:\.\d+)?[KMBT](?:\.A\d+(?:\.\d+)?B)?|\d+x\d+(?:\.\d+)?[MB]|E\d+B) (.+)$/.exec(
      name.trim(),
    );
  if (!match) return null;
  const quantization = normalizeQuantization(match[3] as string);
  if (!quantization) return null;
  return { architecture: match[1] as string, bucket: match[2] as string, quantization };
}

// ---------------------------------------------------------------------------------------------
// reading each source

type Reading =
  | { kind: "known"; known: Known; tokens: string[]; quantization: string | null }
  | { kind: "unknown"; tokens: string[]; quantization: string | null }
  | { kind: "arch"; arch: ArchOnly; quantization: string | null }
  | { kind: "empty"; quantization: string | null };

function readTokens(cleaned: Cleaned, context: ParseContext): Reading {
  const { tokens, quantization } = cleaned;
  if (tokens.length === 0 || tokens.every((t) => GENERIC.has(t.toLowerCase()))) return { kind: "empty", quantization };
  const known = parseKnown(tokens, context);
  return known ? { kind: "known", known, tokens, quantization } : { kind: "unknown", tokens, quantization };
}

const PLAIN: Omit<ParseContext, "parameters"> = { defaultVariant: null, ollama: false };

function readName(text: string, sourceTool: string | undefined, parameters: number | undefined): Reading {
  const arch = modelType(text);
  if (arch) return { kind: "arch", arch, quantization: arch.quantization };
  const ollama = ollamaLibrary(text, sourceTool);
  if (ollama) {
    const tag = clean(ollama.tag);
    const hasSize = tag.tokens.some((t) => /^(?:\d+(?:\.\d+)?[mb]|e\d+b|mini|medium|small)$/i.test(t));
    const latest = OLLAMA_LATEST[ollama.library];
    const tokens = [...clean(ollama.library).tokens, ...tag.tokens, ...(hasSize || !latest ? [] : [latest])];
    return readTokens(
      { tokens, quantization: tag.quantization },
      { defaultVariant: "instruct", ollama: true, parameters },
    );
  }
  return readTokens(clean(text), { ...PLAIN, parameters });
}

function metadataName(metadata: NonNullable<ModelNameSources["metadata"]>): string | null {
  if (!metadata.basename) return null;
  const parts = [metadata.basename];
  const version = metadata.version;
  // general.version is the model version when the heuristic split it off the basename ("Phi" + "4"),
  // a release tag otherwise ("v0.3", "2507"), which goes last.
  const leading = version !== undefined && /^\d{1,2}(?:\.\d+)?$/.test(version) && !/\d$/.test(metadata.basename);
  if (leading) parts.push(version);
  if (metadata.sizeLabel) parts.push(metadata.sizeLabel);
  if (metadata.finetune) parts.push(metadata.finetune);
  if (version && !leading) parts.push(version);
  return parts.join("-");
}

// ---------------------------------------------------------------------------------------------
// the identity

function fromKnown(known: Known, quantization: string | null): ModelIdentity {
  return {
    slug: known.slug,
    name: known.name,
    family: known.family,
    version: known.version,
    size: known.size,
    variant: known.variant,
    baseSlug: null,
    quantization,
    recognized: true,
  };
}

/** A base model reference ("google/gemma-3-1b-it", a base_model URL or name) as a known model, if it is one. */
function knownBase(reference: string | undefined): Known | null {
  if (!reference?.trim()) return null;
  const reading = readTokens(clean(reference), { ...PLAIN, parameters: undefined });
  return reading.kind === "known" && reading.known.leftovers.length === 0 ? reading.known : null;
}

function firstWordFamily(tokens: readonly string[]): string {
  const first = slugify(tokens[0] ?? "").replace(/[\d.]+$/, "");
  return first || "unknown";
}

function variantWord(tokens: readonly string[]): string {
  const lower = tokens.map((t) => t.toLowerCase());
  if (lower.some((t) => ["it", "instruct", "chat"].includes(t))) return "instruct";
  if (lower.some((t) => ["base", "pt"].includes(t))) return "base";
  return "unknown";
}

function sizeWord(tokens: readonly string[], parameters: number | undefined): string | null {
  const token = tokens.find((t) => SIZE_TOKEN.test(t.toLowerCase()));
  if (token) return normalizeSize(token, []);
  if (!parameters || parameters <= 0) return null;
  return parameters >= 1e9 ? `${Number((parameters / 1e9).toFixed(1))}b` : `${Math.round(parameters / 1e6)}m`;
}

const METHOD_NAMES: Record<string, string> = { lora: "LoRA", qlora: "QLoRA", full: "full fine-tune" };

export function canonicalModel(sources: ModelNameSources): ModelIdentity {
  const { parameters, sourceTool } = sources;
  const readings: Reading[] = [];
  const fromMetadata = sources.metadata ? metadataName(sources.metadata) : null;
  if (fromMetadata) readings.push(readTokens(clean(fromMetadata), { ...PLAIN, parameters }));
  if (sources.huggingFaceRepo) readings.push(readTokens(clean(sources.huggingFaceRepo), { ...PLAIN, parameters }));
  readings.push(readName(sources.name, sourceTool, parameters));
  if (sources.fileName) readings.push(readTokens(clean(sources.fileName), { ...PLAIN, parameters }));

  const declared = sources.quantization ? normalizeQuantization(sources.quantization) : null;
  const quantization = declared ?? readings.find((r) => r.quantization !== null)?.quantization ?? null;

  const primary = readings.find((r) => r.kind === "known" || r.kind === "unknown");
  const declaredBase = [sources.baseModel, ...(sources.metadata?.baseModels ?? [])]
    .map(knownBase)
    .find((k): k is Known => k !== null);

  if (sources.fineTune) {
    // The bundle says it is a fine-tune. Named after its base (or naming nothing), it gets
    // "<base>-<method>-<task>"; named otherwise, its own name decides below.
    const named = primary?.kind === "known" && primary.known.leftovers.length === 0 ? primary.known : null;
    const base = declaredBase ?? named;
    if (base && (named || !primary)) {
      const method = sources.fineTune.method === "other" ? "fine-tune" : sources.fineTune.method;
      const task = sources.fineTune.task?.trim();
      const own = slugify([method, task].filter(Boolean).join(" "));
      return {
        ...fromKnown(base, quantization),
        slug: slugify(`${base.slug}-${own}`),
        name: `${base.name} ${METHOD_NAMES[method] ?? method}${task ? `: ${task}` : ""}`,
        variant: own,
        baseSlug: base.slug,
      };
    }
  }

  if (primary?.kind === "known") {
    const { known } = primary;
    if (known.leftovers.length === 0) return fromKnown(known, quantization);
    // A known model plus words of its own: a community fine-tune of that model.
    const own = slugify(known.leftovers.join("-"));
    return {
      ...fromKnown(known, quantization),
      slug: slugify(`${known.slug}-${own}`),
      name: `${known.name} ${known.leftovers.join(" ")}`,
      variant: own,
      baseSlug: declaredBase?.slug ?? known.slug,
    };
  }

  if (primary?.kind === "unknown") {
    const slug = slugify(primary.tokens.join("-"));
    const name = primary.tokens.join("-");
    if (declaredBase) {
      return { ...fromKnown(declaredBase, quantization), slug, name, variant: slug, baseSlug: declaredBase.slug };
    }
    return {
      slug,
      name,
      family: firstWordFamily(primary.tokens),
      version: null,
      size: sizeWord(primary.tokens, parameters),
      variant: variantWord(primary.tokens),
      baseSlug: null,
      quantization,
      recognized: false,
    };
  }

  const archReading = readings.find((r) => r.kind === "arch");
  if (archReading?.kind === "arch") {
    const { architecture, bucket } = archReading.arch;
    const lowerBucket = bucket.toLowerCase().replace(".a", "-a");
    const family = ARCHITECTURES[architecture] ?? { family: architecture, version: null };
    return {
      slug: slugify(`${architecture}-${lowerBucket === "?b" ? "unknown" : lowerBucket}`),
      name: `${architecture} ${bucket}`,
      family: family.family,
      version: family.version,
      size:
        lowerBucket === "?b"
          ? null
          : (EXACT_BUCKETS[`${architecture} ${lowerBucket}`] ?? normalizeSize(lowerBucket, [])),
      variant: "unknown",
      baseSlug: null,
      quantization,
      recognized: false,
    };
  }

  // Nothing but packaging or a generic word: the name itself, without its path and extension.
  const bare = sources.name.trim().split(/[\\/]/).pop() ?? "";
  const slug = slugify(bare.replace(/\.(?:gguf|ggml|bin|rkllm|safetensors|onnx|pte|tflite|llamafile|pth?)$/i, ""));
  return {
    slug,
    name: sources.name.trim() || slug,
    family: slug.split("-")[0] || "unknown",
    version: null,
    size: sizeWord([], parameters),
    variant: "unknown",
    baseSlug: null,
    quantization,
    recognized: false,
  };
}
