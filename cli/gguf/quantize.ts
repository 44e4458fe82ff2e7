// Encoders for the tensor types the writer produces, following ggml's reference quantizers
// (quantize_row_q8_0_ref, quantize_row_q4_0_ref) step by step in float32, so a block written here holds
// the bytes llama.cpp's own quantizer would write. Decoders exist for the tests.
import type { TensorType } from "./ggml-types.ts";

export const QK = 32;
export const Q8_0_BLOCK_BYTES = 2 + QK;
export const Q4_0_BLOCK_BYTES = 2 + QK / 2;

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
const { fround } = Math;

/** IEEE half-precision bits of a number, rounded to nearest even (what ggml's FP32_TO_FP16 does). */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  const x = f32Bits[0] ?? 0;
  const sign = (x >>> 16) & 0x8000;
  const exp32 = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp32 === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const exp = exp32 - 127 + 15;
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    // Subnormal half: the value is mant16 * 2^-24.
    if (exp < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - exp;
    let half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  // A carry out of the mantissa correctly bumps the exponent (and overflows to infinity).
  let half = (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** C's roundf: halves away from zero (Math.round sends -2.5 to -2). */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/** Bytes `count` values take in `type`; `count` must be a multiple of 32 for the quantized types. */
export function encodedBytes(type: TensorType, count: number): number {
  switch (type) {
    case "F32":
      return count * 4;
    case "F16":
      return count * 2;
    case "Q8_0":
      return (count / QK) * Q8_0_BLOCK_BYTES;
    case "Q4_0":
      return (count / QK) * Q4_0_BLOCK_BYTES;
  }
}

/** Encodes `values` into `out` (which must hold encodedBytes(type, values.length) bytes). */
export function encode(type: TensorType, values: Float32Array, out: Uint8Array): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  switch (type) {
    case "F32":
      for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] ?? 0, true);
      return;
    case "F16":
      for (let i = 0; i < values.length; i++) view.setUint16(i * 2, f32ToF16Bits(values[i] ?? 0), true);
      return;
    case "Q8_0":
      for (let b = 0; b * QK < values.length; b++) quantizeQ8_0Block(values, b * QK, view, b * Q8_0_BLOCK_BYTES);
      return;
    case "Q4_0":
      for (let b = 0; b * QK < values.length; b++) quantizeQ4_0Block(values, b * QK, view, b * Q4_0_BLOCK_BYTES);
      return;
  }
}

// block_q8_0 { ggml_half d; int8_t qs[32]; }: value = qs[j] * d.
function quantizeQ8_0Block(x: Float32Array, from: number, out: DataView, at: number): void {
  let amax = 0;
  for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[from + j] ?? 0));
  const d = fround(amax / 127);
  const id = d ? fround(1 / d) : 0;
  out.setUint16(at, f32ToF16Bits(d), true);
  for (let j = 0; j < QK; j++) out.setInt8(at + 2 + j, roundHalfAway(fround((x[from + j] ?? 0) * id)));
}

// block_q4_0 { ggml_half d; uint8_t qs[16]; }: byte j holds element j in its low nibble and element
// j + 16 in its high nibble; value = (q - 8) * d. The scale comes from the signed value of largest
// magnitude, so that value maps exactly to q = 0 (-8 * d).
function quantizeQ4_0Block(x: Float32Array, from: number, out: DataView, at: number): void {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < QK; j++) {
    const v = x[from + j] ?? 0;
    if (amax < Math.abs(v)) {
      amax = Math.abs(v);
      max = v;
    }
  }
  const d = fround(max / -8);
  const id = d ? fround(1 / d) : 0;
  out.setUint16(at, f32ToF16Bits(d), true);
  for (let j = 0; j < QK / 2; j++) {
    // (int8_t)(x + 8.5f) truncates toward zero; x * id is within [-8, 8], so this is a floor.
    const lo = Math.min(15, Math.trunc(fround(fround((x[from + j] ?? 0) * id) + 8.5)));
    const hi = Math.min(15, Math.trunc(fround(fround((x[from + QK / 2 + j] ?? 0) * id) + 8.5)));
    out.setUint8(at + 2 + j, lo | (hi << 4));
  }
}

/** Decodes `count` values of `type` from `bytes` (for tests and checks). */
export function decode(type: TensorType, bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  switch (type) {
    case "F32":
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case "F16":
      for (let i = 0; i < count; i++) out[i] = f16BitsToF32(view.getUint16(i * 2, true));
      break;
    case "Q8_0":
      for (let b = 0; b * QK < count; b++) {
        const at = b * Q8_0_BLOCK_BYTES;
        const d = f16BitsToF32(view.getUint16(at, true));
        for (let j = 0; j < QK; j++) out[b * QK + j] = view.getInt8(at + 2 + j) * d;
      }
      break;
    case "Q4_0":
      for (let b = 0; b * QK < count; b++) {
        const at = b * Q4_0_BLOCK_BYTES;
        const d = f16BitsToF32(view.getUint16(at, true));
        for (let j = 0; j < QK / 2; j++) {
          const q = view.getUint8(at + 2 + j);
          out[b * QK + j] = ((q & 0x0f) - 8) * d;
          out[b * QK + QK / 2 + j] = ((q >>> 4) - 8) * d;
        }
      }
      break;
  }
  return out;
}
