// Seeded random numbers built from integer arithmetic only, so the same seed gives the same bytes on
// every machine and Node version (Math.log and Math.cos are not guaranteed bit-identical).

/** FNV-1a over a string's UTF-16 code units: turns a tensor name into a stream id. */
function hash32(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: 32 bits of state, plenty for the few million values one tensor draws. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

// The two 16-bit halves of one draw summed give a triangular distribution on (-1, 1) with
// variance 1/6; scaled by sqrt(6) it has unit variance. Bell-shaped enough for weights whose only
// job is to be small and unstructured.
const TRIANGULAR_SCALE = Math.sqrt(6) / 65536;

/** A stream of normal-ish values with mean 0 and standard deviation `std`, keyed by seed and name. */
export function weightStream(seed: number, name: string, std: number): (out: Float32Array) => void {
  const next = mulberry32(hash32(name, seed));
  const scale = std * TRIANGULAR_SCALE;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      const u = next();
      out[i] = ((u & 0xffff) + (u >>> 16) - 65535) * scale;
    }
  };
}
