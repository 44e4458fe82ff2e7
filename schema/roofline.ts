// The decode-speed bound physics allows a run: the bandwidth of the memory its weights are read from,
// divided by the bytes read per generated token. On a GPU run that memory is the GPU's (HBM, GDDR);
// on a partial offload both memories are read in turn; on a CPU or unified-memory run it is the
// system's RAM. The bound comes from the catalog's published peak figures where the hardware is
// known, else from the bandwidth the device measured; with neither, there is no bound, and no run is
// ranked apart for lack of one. The Worker's plausibility check and the run page use this one rule.
import { amountValue, type Bundle } from "./bundle.ts";
import { type KnownHardware, knownHardware } from "./hardware-catalog.ts";
import { hardwareIdentity } from "./hardware-identity.ts";

/** A bandwidth the device measured itself is trusted less than a catalog's peak figure. */
export const DECLARED_BANDWIDTH_SLACK = 1.5;

// Mixture-of-experts models read only their active experts per token: the file size overstates it.
const MIXTURE_OF_EXPERTS = /moe|mixtral|-a\d+(\.\d+)?b\b|\ba\d+b\b/i;

/** Bits per weight by quantization name, for models whose file size is not given. */
function bitsPerWeight(quantization: string | undefined): number | undefined {
  if (!quantization) return undefined;
  const q = quantization.toLowerCase();
  const table: Array<[RegExp, number]> = [
    [/f32|fp32/, 32],
    [/f16|fp16|bf16/, 16],
    [/q8|int8|w8a8|8-?bit/, 8.5],
    [/q6/, 6.6],
    [/q5/, 5.5],
    [/q4|int4|w4a16|4-?bit/, 4.5],
    [/q3/, 3.4],
    [/q2/, 2.6],
    [/1\.58|ternary|b1\.58/, 1.58],
  ];
  return table.find(([pattern]) => pattern.test(q))?.[1];
}

/** Bytes of weights read to generate one token by a dense model. */
export function bytesPerToken(bundle: Pick<Bundle, "model">): number | undefined {
  const file = amountValue(bundle.model.fileBytes);
  if (file) return file;
  const bits = bitsPerWeight(bundle.model.quantization);
  return bundle.model.parameters && bits ? (bundle.model.parameters * bits) / 8 : undefined;
}

/** One memory a bound is computed from. */
export interface MemorySource {
  /** e.g. "NVIDIA H200 (141 GB HBM3e)", "Raspberry Pi 5", "this device's measured RAM bandwidth". */
  label: string;
  bandwidthBytesPerSec: number;
  /** Where the figure comes from: the catalog's basis, or "measured by the device". */
  basis: string;
  /** The public source of a catalog figure. */
  url: string | null;
  /** The share of the weights read from this memory. */
  share: number;
}

export interface RooflineBound {
  bandwidthBytesPerSec: number;
  bytesPerToken: number;
  decodeUpperBoundTps: number;
  /** Whether the bandwidth is published peak figures only, or includes the device's own measurement. */
  basis: "catalog" | "declared";
  memories: MemorySource[];
}

export type RooflineResult = { bound: RooflineBound; reason?: undefined } | { bound: null; reason: string };

function fromCatalog(known: KnownHardware, share: number, count = 1): MemorySource {
  return {
    label: `${count > 1 ? `${count}× ` : ""}${known.name}${known.memory ? ` (${known.memory})` : ""}`,
    bandwidthBytesPerSec: known.peakBandwidthBytesPerSec * count,
    basis: known.basis,
    url: known.source,
    share,
  };
}

/** The host's memory: the catalog's board or SoC, else what the device measured (with slack). */
function hostMemory(bundle: Pick<Bundle, "device">, share: number): MemorySource | undefined {
  const known = knownHardware(bundle.device);
  if (known) return fromCatalog(known, share);
  const declared = bundle.device.memoryBandwidthBytesPerSec;
  if (!declared) return undefined;
  return {
    label: "this device's RAM",
    bandwidthBytesPerSec: declared * DECLARED_BANDWIDTH_SLACK,
    basis: `measured by the device (${(declared / 1e9).toFixed(1)} GB/s) × ${DECLARED_BANDWIDTH_SLACK} slack`,
    url: null,
    share,
  };
}

type RooflineSource = Pick<Bundle, "device" | "runtime" | "model"> & { config?: Bundle["config"] | undefined };

export function rooflineBound(bundle: RooflineSource): RooflineResult {
  const bytes = bytesPerToken(bundle);
  if (!bytes)
    return {
      bound: null,
      reason: "the bytes read per token are unknown (no file size, or no parameters and quantization)",
    };
  if (MIXTURE_OF_EXPERTS.test(bundle.model.name)) {
    return { bound: null, reason: "a mixture-of-experts model reads only its active experts per token" };
  }
  const identity = hardwareIdentity(bundle);
  // The share of the weights on discrete GPUs: all of a GPU run whose offload is unstated.
  const gpuShare = identity.gpus.length ? (identity.offloadFraction ?? 1) : 0;
  const memories: MemorySource[] = [];
  if (gpuShare > 0) {
    const unknown = identity.gpus.filter((g) => !g.known).map((g) => g.name);
    if (unknown.length && identity.kind === "gpu") {
      return {
        bound: null,
        reason: `${unknown.join(", ")} is not in the accelerator catalog: its memory bandwidth is unknown, so no bound applies`,
      };
    }
    // An unknown GPU holding a minority of the layers: the host's share alone still bounds the run from above.
    if (!unknown.length) {
      // Several GPUs: their bandwidths add up (an upper bound: a layer split reads them in turn).
      const parts = identity.gpus.map((g) => fromCatalog(g.known as KnownHardware, gpuShare, g.count));
      memories.push(
        parts.length === 1
          ? (parts[0] as MemorySource)
          : {
              label: parts.map((m) => m.label).join(" + "),
              bandwidthBytesPerSec: parts.reduce((sum, m) => sum + m.bandwidthBytesPerSec, 0),
              basis: parts.map((m) => m.basis).join("; "),
              url: parts[0]?.url ?? null,
              share: gpuShare,
            },
      );
    }
  }
  if (gpuShare < 1) {
    const host = hostMemory(bundle, 1 - gpuShare);
    // Without the host's bandwidth, the GPU's share alone still bounds a partial offload (from above).
    if (host) memories.push(host);
    else if (memories.length === 0) {
      return { bound: null, reason: "neither the catalog nor the device gives this hardware's memory bandwidth" };
    }
  }
  // Per token, each memory serves its share of the weights in turn: the times add up.
  const secondsPerToken = memories.reduce((sum, m) => sum + (bytes * m.share) / m.bandwidthBytesPerSec, 0);
  const decodeUpperBoundTps = 1 / secondsPerToken;
  return {
    bound: {
      bandwidthBytesPerSec: bytes * decodeUpperBoundTps,
      bytesPerToken: bytes,
      decodeUpperBoundTps,
      basis: memories.some((m) => m.url === null) ? "declared" : "catalog",
      memories,
    },
  };
}
