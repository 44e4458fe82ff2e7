// Which hardware a run is filed under: the device that held the weights. A run with all or most of
// its layers on a discrete GPU is that GPU's ("NVIDIA H200", "2× NVIDIA GeForce RTX 3090"), with the
// host CPU and RAM kept as attributes; unified-memory systems (Apple M-series, Jetson, phones, SBCs)
// and CPU-only runs are the board, else the SoC, else the CPU, as before. One rule for measured and
// imported bundles, applied by the Worker on ingest and by the re-key of stored runs.
import type { Accelerator, Bundle } from "./bundle.ts";
import { acceleratorDisplayName, type KnownHardware, knownAccelerator } from "./hardware-catalog.ts";
import { slugify, hardwareName as systemName, hardwareSlug as systemSlug } from "./slug.ts";

/** Backends that run layers on a GPU; with none of them (or none stated and no offload) it is a CPU run. */
const GPU_BACKENDS = new Set(["cuda", "vulkan", "rocm", "sycl", "opencl", "metal", "mps"]);

export type HardwareKind = "gpu" | "system";

export interface GpuGroup {
  /** The name people use, e.g. "NVIDIA GeForce RTX 3090". */
  name: string;
  count: number;
  known: KnownHardware | undefined;
}

export interface HardwareIdentity {
  slug: string;
  name: string;
  /** "gpu": filed under discrete GPUs; "system": the board, SoC or CPU. */
  kind: HardwareKind;
  /**
   * The discrete GPUs that held layers, identical ones counted together: the hardware itself of a GPU
   * run; on a system run with a minority offload, where some of the weights were read from.
   */
  gpus: GpuGroup[];
  /** The host's CPU and RAM: attributes of a GPU run, the hardware itself of a CPU run. */
  hostCpu: string | null;
  hostRamBytes: number | null;
  /** Layers offloaded to the GPU (llama.cpp -ngl) and the model's layers, when stated. */
  gpuLayers: number | null;
  modelLayers: number | null;
  /**
   * The share of the weights on the GPU: 1 when every layer is, a fraction for a partial offload, 0 for
   * none, null when the bundle does not say (a GPU run whose offload is unstated is taken as whole).
   */
  offloadFraction: number | null;
  /** The hardware name as the source gave it (the GPU's printed name, or the board/SoC/CPU). */
  sourceName: string;
}

// GPUs built into a SoC or CPU share the system's RAM even when a tool does not say so: their runs
// stay the system's (Intel UHD/Iris, AMD's "Radeon Graphics" APUs, Arm Mali, Adreno, VideoCore, Apple).
const INTEGRATED_GPU =
  /\b(uhd|iris|hd graphics|radeon(\(tm\))? (graphics|vega \d+ graphics|\d{3}m)|mali|adreno|powervr|videocore|apple|tegra|orin|(nv|ga)10b|img bxm)\b|\(integrated\)|llvmpipe|swiftshader/i;

function isDiscreteGpu(a: Accelerator): boolean {
  if (a.type !== "gpu" || !a.model || a.unifiedMemory || INTEGRATED_GPU.test(a.model)) return false;
  const known = knownAccelerator(a.model);
  return known ? !known.unifiedMemory : true;
}

/** The share of layers offloaded: llama.cpp counts the output layer too, so -ngl ≥ layers means all. */
export function offloadFraction(gpuLayers: number | undefined, modelLayers: number | undefined): number | null {
  if (gpuLayers === undefined) return null;
  if (gpuLayers === 0) return 0;
  if (modelLayers === undefined) return null;
  return Math.min(1, gpuLayers / modelLayers);
}

function groupGpus(gpus: Accelerator[]): GpuGroup[] {
  const groups = new Map<string, GpuGroup>();
  for (const gpu of gpus) {
    const name = acceleratorDisplayName(gpu.model ?? "");
    const group = groups.get(name);
    if (group) group.count++;
    else groups.set(name, { name, count: 1, known: knownAccelerator(gpu.model ?? "") });
  }
  return [...groups.values()];
}

/** "NVIDIA H200", "2× NVIDIA GeForce RTX 3090", "NVIDIA GeForce RTX 4090 + NVIDIA GeForce RTX 3090". */
export function gpuGroupsName(groups: readonly GpuGroup[]): string {
  return groups.map((g) => (g.count > 1 ? `${g.count}× ${g.name}` : g.name)).join(" + ");
}

type IdentitySource = Pick<Bundle, "device" | "runtime"> & {
  config?: Pick<NonNullable<Bundle["config"]>, "gpuLayers"> | undefined;
  model?: Pick<Bundle["model"], "layers"> | undefined;
};

/** Which discrete GPUs held layers, and what share of them; undefined when none did. */
function offload(bundle: IdentitySource): { gpus: GpuGroup[]; fraction: number | null } | undefined {
  const discrete = (bundle.device.accelerators ?? []).filter(isDiscreteGpu);
  if (discrete.length === 0) return undefined;
  const backend = bundle.runtime.backend;
  const gpuLayers = bundle.config?.gpuLayers;
  if (gpuLayers === 0) return undefined;
  if (backend !== undefined && !GPU_BACKENDS.has(backend)) return undefined;
  if (backend === undefined && !gpuLayers) return undefined;
  return { gpus: groupGpus(discrete), fraction: offloadFraction(gpuLayers, bundle.model?.layers) };
}

export function hardwareIdentity(bundle: IdentitySource): HardwareIdentity {
  const device = bundle.device;
  const hostCpu = device.cpu?.model ?? null;
  const common = {
    hostCpu,
    hostRamBytes: device.ramBytes ?? null,
    gpuLayers: bundle.config?.gpuLayers ?? null,
    modelLayers: bundle.model?.layers ?? null,
  };
  const gpu = offload(bundle);
  // All or most layers on the GPU (or an offload the bundle does not quantify): the GPU's run. Fewer
  // than half: the host's memory bounds it, and its hardware stays the host.
  if (gpu && (gpu.fraction === null || gpu.fraction >= 0.5)) {
    const name = gpuGroupsName(gpu.gpus);
    const printed = (device.accelerators ?? []).filter(isDiscreteGpu).map((a) => a.model ?? "");
    return {
      ...common,
      slug: slugify(name),
      name,
      kind: "gpu",
      gpus: gpu.gpus,
      offloadFraction: gpu.fraction,
      sourceName: [...new Set(printed)].join(", "),
    };
  }
  return {
    ...common,
    slug: systemSlug(device),
    name: systemName(device),
    kind: "system",
    gpus: gpu?.gpus ?? [],
    offloadFraction: offloadFraction(bundle.config?.gpuLayers, bundle.model?.layers),
    sourceName: systemName(device),
  };
}
