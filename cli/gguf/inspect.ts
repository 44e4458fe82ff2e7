// Reads a model file's identity from its GGUF header, and checks what llama.cpp needs before a user's
// file gets anywhere near it: llama.cpp aborts the whole process on some malformed files (a missing
// llama.feed_forward_length trips a GGML_ASSERT) and answers others with a bare "Failed to load
// model". Everything here is plain JavaScript reading (node-llama-cpp's readGgufFileInfo); llama.cpp
// itself is never loaded.
import { open, stat } from "node:fs/promises";
import { type GgufFileInfo, GgufFileType, type GgufTensorInfo, readGgufFileInfo } from "node-llama-cpp";
import type { Model } from "../../schema/bundle.ts";
import { CliError } from "../errors.ts";
import { GGML_TYPES } from "./ggml-types.ts";

/** The model's naming metadata as its file states it (GGUF general.*): the bundle's `model.metadata`. */
export type NamingMetadata = NonNullable<Model["metadata"]>;

export interface ModelIdentity {
  readonly path: string;
  readonly ggufVersion: number;
  readonly architecture: string;
  /** general.name, if the file has one. */
  readonly name: string | null;
  /** Parameter count: the elements of every tensor, from the tensor shapes. */
  readonly parameters: number;
  /** e.g. "Q8_0", "Q4_K_M", "F16"; from general.file_type, else the most common weight type. */
  readonly fileType: string;
  readonly contextLength: number;
  readonly embeddingLength: number;
  readonly blockCount: number;
  readonly vocabSize: number;
  /** tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (BPE), ... */
  readonly tokenizer: string;
  readonly tensorCount: number;
  readonly fileBytes: number;
  /** Bytes of tensor data, alignment padding excluded: what one token's decode reads. */
  readonly tensorBytes: number;
  readonly metadata: NamingMetadata;
}

/**
 * A model file llama.cpp should not be given; the message names the file and the problem. A CliError,
 * so wherever it surfaces the user sees that one line (exit code 1), not a stack trace.
 */
export class ModelFileError extends CliError {
  readonly file: string;
  readonly problem: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "ModelFileError";
    this.file = file;
    this.problem = problem;
  }
}

// Architectures built like llama (attention plus a gated FFN with one width for every layer), whose
// hyperparameters llama.cpp reads without defaults. A missing feed_forward_length or head_count makes
// it create zero-sized tensors and abort on an assertion, rather than throw.
const LLAMA_LIKE = new Set([
  "llama",
  "mistral",
  "qwen2",
  "qwen3",
  "gemma",
  "gemma2",
  "gemma3",
  "phi3",
  "granite",
  "internlm2",
  "deepseek",
  "olmo",
  "olmo2",
  "minicpm",
  "exaone",
  "stablelm",
  "starcoder2",
  "command-r",
  "cohere2",
  "baichuan",
  "orion",
  "smollm3",
]);
// Of those, the ones with RMS norm, whose epsilon llama.cpp requires.
const RMS_NORM = new Set([
  "llama",
  "mistral",
  "qwen2",
  "qwen3",
  "gemma",
  "gemma2",
  "gemma3",
  "phi3",
  "granite",
  "internlm2",
  "deepseek",
  "olmo2",
  "minicpm",
  "exaone",
  "baichuan",
  "smollm3",
]);

/** The metadata keys llama.cpp requires for `arch`, beyond general.architecture. */
export function requiredKeys(arch: string): string[] {
  const keys = [`${arch}.context_length`, `${arch}.embedding_length`, `${arch}.block_count`];
  if (LLAMA_LIKE.has(arch)) keys.push(`${arch}.feed_forward_length`, `${arch}.attention.head_count`);
  if (RMS_NORM.has(arch)) keys.push(`${arch}.attention.layer_norm_rms_epsilon`);
  keys.push("tokenizer.ggml.model");
  return keys;
}

const FILE_TYPE_NAMES = new Map<number, string>(
  Object.entries(GgufFileType)
    .filter((entry): entry is [string, number] => typeof entry[1] === "number")
    .map(([name, id]) => [id, name.replace(/^(MOSTLY|ALL)_/, "")]),
);

type Metadata = GgufFileInfo["metadata"];

/**
 * A value by its flat GGUF key. readGgufFileInfo nests keys at their dots, except where a key is both
 * a value and a prefix of other keys, which stays flat; this walks both forms.
 */
function metadataValue(metadata: Metadata, key: string): unknown {
  const lookup = (node: unknown, parts: readonly string[]): unknown => {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    for (const [name, value] of Object.entries(node)) {
      const nameParts = name.split(".");
      if (nameParts.length > parts.length || nameParts.some((p, i) => p !== parts[i])) continue;
      if (nameParts.length === parts.length) return value;
      const found = lookup(value, parts.slice(nameParts.length));
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return lookup(metadata, key.split("."));
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  return undefined;
}

/** The bundle's bounds on these strings: a longer value is left out rather than cut. */
const SHORT_TEXT = 200;
const LABEL_TEXT = 40;
const MAX_BASE_MODELS = 8;

function textValue(value: unknown, max = SHORT_TEXT): string | undefined {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= max ? trimmed : undefined;
}

/** The naming keys of general.* (the GGUF naming convention), from metadata as readGgufFileInfo gives it. */
export function namingMetadata(metadata: Metadata): NamingMetadata {
  const get = (key: string, max?: number) => textValue(metadataValue(metadata, `general.${key}`), max);
  const baseModels: string[] = [];
  const declared = asNumber(metadataValue(metadata, "general.base_model.count"));
  const count = Math.min(declared ?? MAX_BASE_MODELS, MAX_BASE_MODELS);
  for (let i = 0; i < count; i++) {
    const url = get(`base_model.${i}.repo_url`);
    const name = get(`base_model.${i}.name`);
    const organization = get(`base_model.${i}.organization`);
    const named = name && organization ? textValue(`${organization}/${name}`) : name;
    const base = url ?? named;
    if (base) baseModels.push(base);
  }
  const out: NamingMetadata = {};
  const set = (field: Exclude<keyof NamingMetadata, "baseModels">, value: string | undefined) => {
    if (value !== undefined) out[field] = value;
  };
  set("name", get("name"));
  set("basename", get("basename"));
  set("sizeLabel", get("size_label", LABEL_TEXT));
  set("finetune", get("finetune"));
  set("version", get("version", LABEL_TEXT));
  set("organization", get("organization"));
  if (baseModels.length) out.baseModels = baseModels;
  return out;
}

const printable = (bytes: Buffer) =>
  [...bytes]
    .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`))
    .join("");

// Smallest possible metadata entry (8-byte key length, type, 1-byte value) and tensor info (name
// length, dim count, one dim, type, offset): a header declaring more than fit in the file is corrupt
// or cut short, and must not be walked entry by entry.
const MIN_KV_BYTES = 13;
const MIN_TENSOR_INFO_BYTES = 32;
const HEADER_BYTES = 24;

async function readFixedHeader(path: string, fileBytes: number) {
  const fail = (problem: string) => new ModelFileError(path, problem);
  const head = Buffer.alloc(HEADER_BYTES);
  const file = await open(path, "r");
  try {
    await file.read(head, 0, HEADER_BYTES, 0);
  } finally {
    await file.close();
  }
  if (fileBytes < 4 || head.toString("latin1", 0, 4) !== "GGUF") {
    if (fileBytes === 0) throw fail("not a GGUF file: it is empty");
    const start = printable(head.subarray(0, Math.min(fileBytes, 8)));
    throw fail(`not a GGUF file: it starts with "${start}" instead of "GGUF"`);
  }
  if (fileBytes < HEADER_BYTES) throw fail(`truncated: ${fileBytes} bytes, shorter than a GGUF header`);
  const version = head.readUInt32LE(4);
  if (version !== 2 && version !== 3) {
    const bigEndian = head.readUInt32BE(4);
    if (bigEndian === 2 || bigEndian === 3)
      throw fail("a big-endian GGUF file; llama.cpp here reads little-endian files");
    throw fail(`unsupported GGUF version ${version} (llama.cpp reads versions 2 and 3)`);
  }
  const tensorCount = head.readBigUInt64LE(8);
  const kvCount = head.readBigUInt64LE(16);
  const minimum = BigInt(HEADER_BYTES) + kvCount * BigInt(MIN_KV_BYTES) + tensorCount * BigInt(MIN_TENSOR_INFO_BYTES);
  if (minimum > BigInt(fileBytes))
    throw fail(
      `truncated or corrupt: the header declares ${kvCount} metadata keys and ${tensorCount} tensors, more than ${fileBytes} bytes can hold`,
    );
  return { version };
}

function checkTensors(path: string, tensors: readonly GgufTensorInfo[], alignment: number, fileBytes: number) {
  const fail = (problem: string) => new ModelFileError(path, problem);
  let parameters = 0;
  let tensorBytes = 0;
  const names = new Set<string>();
  const elementsByType = new Map<string, number>();
  for (const tensor of tensors) {
    if (names.has(tensor.name)) throw fail(`tensor ${tensor.name} appears twice`);
    names.add(tensor.name);
    const traits = GGML_TYPES.get(tensor.ggmlType);
    if (!traits) throw fail(`tensor ${tensor.name} has unknown ggml type ${tensor.ggmlType}`);
    const dims = tensor.dimensions.map(Number);
    if (dims.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw fail(`tensor ${tensor.name} has a bad shape [${dims.join(", ")}]`);
    const elements = dims.reduce((a, b) => a * b, 1);
    if ((dims[0] ?? 0) % traits.blockSize !== 0)
      throw fail(
        `tensor ${tensor.name} rows of ${dims[0]} do not fill whole ${traits.name} blocks of ${traits.blockSize}`,
      );
    const bytes = (elements / traits.blockSize) * traits.typeSize;
    const start = Number(tensor.fileOffset);
    if (Number(tensor.offset) % alignment !== 0)
      throw fail(`tensor ${tensor.name} data offset ${tensor.offset} is not a multiple of the alignment ${alignment}`);
    if (start + bytes > fileBytes)
      throw fail(
        `truncated: tensor ${tensor.name} data ends at byte ${start + bytes}, past the end of the file (${fileBytes} bytes)`,
      );
    parameters += elements;
    tensorBytes += bytes;
    if (dims.length >= 2) elementsByType.set(traits.name, (elementsByType.get(traits.name) ?? 0) + elements);
  }
  const commonest = [...elementsByType].sort((a, b) => b[1] - a[1])[0]?.[0];
  return { parameters, tensorBytes, commonest };
}

function checkVocabulary(path: string, metadata: Metadata, tokenizer: string): number | undefined {
  const fail = (problem: string) => new ModelFileError(path, problem);
  const tokens = metadataValue(metadata, "tokenizer.ggml.tokens");
  if (tokenizer === "none") return Array.isArray(tokens) ? tokens.length : undefined;
  if (!Array.isArray(tokens)) throw fail("missing required metadata key tokenizer.ggml.tokens");
  for (const key of ["tokenizer.ggml.scores", "tokenizer.ggml.token_type"]) {
    const values = metadataValue(metadata, key);
    if (values !== undefined && (!Array.isArray(values) || values.length !== tokens.length))
      throw fail(`${key} has ${Array.isArray(values) ? values.length : "no"} entries for ${tokens.length} tokens`);
  }
  if (tokenizer === "llama") {
    // SentencePiece falls back to byte tokens; llama.cpp looks them up unchecked and aborts without them.
    const present = new Set(tokens);
    for (let b = 0; b < 256; b++) {
      const piece = `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
      if (!present.has(piece)) throw fail(`SentencePiece vocabulary lacks the byte token ${piece}`);
    }
  }
  return tokens.length;
}

/**
 * The identity of a GGUF model file, after checking that llama.cpp can be given it. Throws
 * ModelFileError naming the file and the problem.
 */
export async function inspectModelFile(path: string): Promise<ModelIdentity> {
  const fail = (problem: string) => new ModelFileError(path, problem);
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw fail(error.code === "ENOENT" ? "no such file" : `cannot read (${error.code ?? error.message})`);
  });
  if (!stats.isFile()) throw fail("not a file");
  const fileBytes = stats.size;
  const { version } = await readFixedHeader(path, fileBytes);

  let info: GgufFileInfo;
  try {
    info = await readGgufFileInfo(path, { sourceType: "filesystem", logWarnings: false, spliceSplitFiles: false });
  } catch (error) {
    throw fail(`unreadable GGUF metadata (${error instanceof Error ? error.message : String(error)})`);
  }
  // The reader fills bytes past the end of the file with zeros, so a cut-off header still parses;
  // where it ends tells.
  const headerEnd = info.infoEndOffset ?? 0;
  if (headerEnd > fileBytes) throw fail(`truncated: the header needs ${headerEnd} bytes, the file has ${fileBytes}`);

  const metadata = info.metadata;
  const splitCount = asNumber(metadataValue(metadata, "split.count")) ?? 1;
  if (splitCount > 1)
    throw fail(`one part of a model split in ${splitCount} files; merge them first (llama-gguf-split --merge)`);
  const architecture = metadataValue(metadata, "general.architecture");
  if (typeof architecture !== "string" || architecture === "")
    throw fail("missing required metadata key general.architecture");
  for (const key of requiredKeys(architecture))
    if (metadataValue(metadata, key) === undefined) throw fail(`missing required metadata key ${key}`);

  const alignmentValue = metadataValue(metadata, "general.alignment");
  const alignment = alignmentValue === undefined ? 32 : asNumber(alignmentValue);
  if (alignment === undefined || alignment < 1 || !Number.isInteger(Math.log2(alignment)))
    throw fail(`general.alignment ${String(alignmentValue)} is not a power of two`);

  const tensors = checkTensors(path, info.tensorInfo ?? [], alignment, fileBytes);
  const tokenizer = String(metadataValue(metadata, "tokenizer.ggml.model"));
  const tokenCount = checkVocabulary(path, metadata, tokenizer);
  const number = (key: string) => {
    const value = asNumber(metadataValue(metadata, key));
    if (value === undefined || !Number.isFinite(value) || value < 0) throw fail(`${key} is not a number`);
    return value;
  };
  const vocabSize = asNumber(metadataValue(metadata, `${architecture}.vocab_size`)) ?? tokenCount;
  if (vocabSize === undefined) throw fail("no vocabulary size: neither tokens nor a vocab_size key");
  const fileTypeId = asNumber(metadataValue(metadata, "general.file_type"));
  const name = metadataValue(metadata, "general.name");

  return {
    path,
    ggufVersion: version,
    architecture,
    name: typeof name === "string" ? name : null,
    parameters: tensors.parameters,
    fileType:
      (fileTypeId !== undefined ? FILE_TYPE_NAMES.get(fileTypeId) : undefined) ?? tensors.commonest ?? "unknown",
    contextLength: number(`${architecture}.context_length`),
    embeddingLength: number(`${architecture}.embedding_length`),
    blockCount: number(`${architecture}.block_count`),
    vocabSize,
    tokenizer,
    tensorCount: Number(info.tensorCount),
    fileBytes,
    tensorBytes: tensors.tensorBytes,
    metadata: namingMetadata(metadata),
  };
}
