// A GGUF v3 writer. The header (metadata and tensor infos) is built in memory; tensor data is
// streamed to the file tensor by tensor, chunk by chunk, so a model of any size needs only one
// chunk of values in memory at a time.
import { open, rename, rm } from "node:fs/promises";
import { TENSOR_TYPE_IDS, type TensorType } from "./ggml-types.ts";
import { encode, encodedBytes, QK } from "./quantize.ts";

export const GGUF_MAGIC = "GGUF";
export const GGUF_VERSION = 3;
export const DEFAULT_ALIGNMENT = 32;

/** gguf_type ids. */
const VALUE_TYPE = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

type NumberType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64";
type ArrayItemType = NumberType | "u64" | "i64" | "bool" | "string";

export type GgufValue =
  | { readonly type: NumberType; readonly value: number }
  | { readonly type: "u64" | "i64"; readonly value: number | bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "array"; readonly itemType: "string"; readonly value: readonly string[] }
  | { readonly type: "array"; readonly itemType: "bool"; readonly value: readonly boolean[] }
  | { readonly type: "array"; readonly itemType: NumberType; readonly value: ArrayLike<number> }
  | { readonly type: "array"; readonly itemType: "u64" | "i64"; readonly value: readonly (number | bigint)[] };

/** Constructors for metadata values, so call sites read `kv.u32(4)`. */
export const kv = {
  u8: (value: number): GgufValue => ({ type: "u8", value }),
  u32: (value: number): GgufValue => ({ type: "u32", value }),
  i32: (value: number): GgufValue => ({ type: "i32", value }),
  f32: (value: number): GgufValue => ({ type: "f32", value }),
  u64: (value: number | bigint): GgufValue => ({ type: "u64", value }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  string: (value: string): GgufValue => ({ type: "string", value }),
  strings: (value: readonly string[]): GgufValue => ({ type: "array", itemType: "string", value }),
  f32s: (value: ArrayLike<number>): GgufValue => ({ type: "array", itemType: "f32", value }),
  i32s: (value: ArrayLike<number>): GgufValue => ({ type: "array", itemType: "i32", value }),
  u32s: (value: ArrayLike<number>): GgufValue => ({ type: "array", itemType: "u32", value }),
};

export interface TensorSpec {
  readonly name: string;
  /** ggml order: shape[0] is the length of a contiguous row (a matrix's input dimension). */
  readonly shape: readonly number[];
  readonly type: TensorType;
  /**
   * The tensor's values in row-major order, in chunks whose lengths are multiples of 32 (a quantized
   * block never straddles two chunks). Called once, when the tensor's turn comes to be written.
   */
  readonly data: () => Iterable<Float32Array>;
}

export interface GgufWriteResult {
  readonly path: string;
  /** File size. */
  readonly bytes: number;
  /** Where tensor data starts. */
  readonly dataOffset: number;
  /** Bytes of tensor data, alignment padding excluded. */
  readonly tensorBytes: number;
  readonly parameters: number;
}

/** Grows as values are appended; the header of a 32k-token vocabulary is well under a megabyte. */
class ByteSink {
  private buffer = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const next = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + n));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
  u8(v: number): void {
    this.reserve(1);
    this.buffer.writeUInt8(v, this.length);
    this.length += 1;
  }
  i8(v: number): void {
    this.reserve(1);
    this.buffer.writeInt8(v, this.length);
    this.length += 1;
  }
  u16(v: number): void {
    this.reserve(2);
    this.buffer.writeUInt16LE(v, this.length);
    this.length += 2;
  }
  i16(v: number): void {
    this.reserve(2);
    this.buffer.writeInt16LE(v, this.length);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.buffer.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.buffer.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number | bigint): void {
    this.reserve(8);
    this.buffer.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  i64(v: number | bigint): void {
    this.reserve(8);
    this.buffer.writeBigInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.reserve(4);
    this.buffer.writeFloatLE(v, this.length);
    this.length += 4;
  }
  f64(v: number): void {
    this.reserve(8);
    this.buffer.writeDoubleLE(v, this.length);
    this.length += 8;
  }
  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }
  /** gguf_string: u64 byte length, then UTF-8 bytes, no terminator. */
  string(v: string): void {
    const bytes = Buffer.from(v, "utf8");
    this.u64(bytes.length);
    this.reserve(bytes.length);
    bytes.copy(this.buffer, this.length);
    this.length += bytes.length;
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.reserve(pad);
    this.buffer.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function writeScalar(sink: ByteSink, type: Exclude<ArrayItemType, "string" | "bool">, value: number | bigint): void {
  if (type === "u64") sink.u64(value);
  else if (type === "i64") sink.i64(value);
  else sink[type](Number(value));
}

function writeValue(sink: ByteSink, value: GgufValue): void {
  sink.u32(VALUE_TYPE[value.type]);
  if (value.type === "string") sink.string(value.value);
  else if (value.type === "bool") sink.bool(value.value);
  else if (value.type !== "array") writeScalar(sink, value.type, value.value);
  else {
    sink.u32(VALUE_TYPE[value.itemType]);
    sink.u64(value.value.length);
    if (value.itemType === "string") for (const s of value.value) sink.string(s);
    else if (value.itemType === "bool") for (const b of value.value) sink.bool(b);
    else if (value.itemType === "u64" || value.itemType === "i64")
      for (const v of value.value) writeScalar(sink, value.itemType, v);
    else for (let i = 0; i < value.value.length; i++) writeScalar(sink, value.itemType, value.value[i] ?? 0);
  }
}

function checkTensor(tensor: TensorSpec): number {
  if (tensor.shape.length < 1 || tensor.shape.length > 4) throw new Error(`${tensor.name}: ggml tensors have 1-4 dims`);
  if (!tensor.shape.every((n) => Number.isSafeInteger(n) && n > 0))
    throw new Error(`${tensor.name}: bad shape [${tensor.shape.join(", ")}]`);
  const rowLength = tensor.shape[0] ?? 0;
  if ((tensor.type === "Q8_0" || tensor.type === "Q4_0") && rowLength % QK !== 0)
    throw new Error(`${tensor.name}: a ${tensor.type} row must be a multiple of ${QK} long, not ${rowLength}`);
  return tensor.shape.reduce((a, b) => a * b, 1);
}

const FLUSH_BYTES = 1 << 22;

/**
 * Writes a GGUF v3 file. `general.alignment` is always written (readers default to 32 without it);
 * every tensor's data starts on an alignment boundary and is zero-padded to the next one. The file appears at `path` only once complete.
 */
export async function writeGguf(
  path: string,
  model: {
    readonly metadata: ReadonlyArray<readonly [string, GgufValue]>;
    readonly tensors: readonly TensorSpec[];
    readonly alignment?: number;
  },
): Promise<GgufWriteResult> {
  const alignment = model.alignment ?? DEFAULT_ALIGNMENT;
  // llama.cpp refuses any other alignment.
  if (!Number.isSafeInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0)
    throw new Error(`alignment ${alignment} is not a power of two`);
  const names = new Set<string>();
  for (const [key] of model.metadata) {
    if (names.has(key)) throw new Error(`duplicate metadata key ${key}`);
    names.add(key);
  }
  const metadata = [...model.metadata];
  if (!names.has("general.alignment")) metadata.push(["general.alignment", kv.u32(alignment)]);

  const header = new ByteSink();
  for (const c of GGUF_MAGIC) header.u8(c.charCodeAt(0));
  header.u32(GGUF_VERSION);
  header.u64(model.tensors.length);
  header.u64(metadata.length);
  for (const [key, value] of metadata) {
    header.string(key);
    writeValue(header, value);
  }

  // Offsets are relative to the start of the data section, each padded to the alignment.
  let offset = 0;
  let parameters = 0;
  let tensorBytes = 0;
  const layout: { tensor: TensorSpec; elements: number; bytes: number }[] = [];
  const tensorNames = new Set<string>();
  for (const tensor of model.tensors) {
    if (tensorNames.has(tensor.name)) throw new Error(`duplicate tensor ${tensor.name}`);
    tensorNames.add(tensor.name);
    const elements = checkTensor(tensor);
    const bytes = encodedBytes(tensor.type, elements);
    header.string(tensor.name);
    header.u32(tensor.shape.length);
    for (const n of tensor.shape) header.u64(n);
    header.u32(TENSOR_TYPE_IDS[tensor.type]);
    header.u64(offset);
    layout.push({ tensor, elements, bytes });
    offset += bytes + ((alignment - (bytes % alignment)) % alignment);
    parameters += elements;
    tensorBytes += bytes;
  }
  header.padTo(alignment);
  const dataOffset = header.length;

  const partial = `${path}.partial-${process.pid}`;
  const file = await open(partial, "w");
  try {
    let pending: Buffer[] = [header.bytes()];
    let pendingBytes = header.length;
    let position = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const { bytesWritten } = await file.writev(pending);
      if (bytesWritten !== pendingBytes) throw new Error(`short write to ${partial}`);
      position += pendingBytes;
      pending = [];
      pendingBytes = 0;
    };
    const push = async (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= FLUSH_BYTES) await flush();
    };
    for (const { tensor, elements, bytes } of layout) {
      let seen = 0;
      for (const values of tensor.data()) {
        if (values.length % QK !== 0 && seen + values.length !== elements)
          throw new Error(`${tensor.name}: chunks must be multiples of ${QK} values`);
        seen += values.length;
        if (seen > elements) throw new Error(`${tensor.name}: more than ${elements} values`);
        const out = Buffer.allocUnsafe(encodedBytes(tensor.type, values.length));
        encode(tensor.type, values, out);
        await push(out);
      }
      if (seen !== elements) throw new Error(`${tensor.name}: ${seen} values, expected ${elements}`);
      const pad = (alignment - (bytes % alignment)) % alignment;
      if (pad) await push(Buffer.alloc(pad));
    }
    await flush();
    await file.close();
    await rename(partial, path);
    return { path, bytes: position, dataOffset, tensorBytes, parameters };
  } catch (error) {
    await file.close().catch(() => {});
    await rm(partial, { force: true });
    throw error;
  }
}
