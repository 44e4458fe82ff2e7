// What llama.cpp's and Ollama's log lines say about the device that ran the weights, for the importers
// whose input may be a console capture or a server log: the GPUs llama.cpp enumerates (ggml_cuda_init,
// ggml_vulkan, ggml_metal), the devices a model was loaded on ("using device CUDA0 (…)"), how many
// layers went to them ("offloaded 29/29 layers to GPU"), the model's block count and GGUF naming
// metadata, and Ollama's "inference compute" and "offload" lines. Every shape is cited in
// test/fixtures/import/*/SOURCES.md.
import type { Accelerator, Model } from "../../../schema/bundle.ts";
import { type Backend, backendOfWord, isHardwareName } from "../hardware.ts";

type ModelMetadata = NonNullable<Model["metadata"]>;
type MetadataKey = Exclude<keyof ModelMetadata, "baseModels">;

/** A GPU as a backend enumerated it. */
interface LogGpu {
  line: number;
  /** What identifies it within one enumeration: "cuda 0", an Ollama GPU id. */
  key: string;
  name: string;
  backend?: Backend | undefined;
  memoryBytes?: number | undefined;
  unifiedMemory?: boolean | undefined;
  driver?: string | undefined;
}

interface Offload {
  offloaded: number;
  /**
   * llama.cpp's denominator: the model's blocks plus the output layer (n_layer + 1); Ollama's
   * layers.model counts the same way. 2023 CUDA builds added the K and V caches (n_layer + 3).
   */
  total: number;
  backend?: Backend | undefined;
}

interface Entry<T> {
  line: number;
  value: T;
}

export interface DeviceLog {
  gpus: LogGpu[];
  /** "using device CUDA0 (NVIDIA GeForce RTX 4090) …": the devices a model was actually loaded on. */
  used: Array<Entry<{ id: string; name: string }>>;
  /** llama.cpp's "offloaded X/Y layers to GPU". */
  offloads: Entry<Offload>[];
  /** Ollama's estimate before it starts its runner (msg=offload … layers.offload=…). */
  planned: Entry<Offload>[];
  blockCounts: Entry<number>[];
  metadata: Array<Entry<[MetadataKey, string]>>;
  /** Ollama found no GPU ("inference compute" … library=cpu). */
  cpuOnly: boolean;
  /** 2023 CUDA builds counted the K and V caches as offloadable layers: Y − 1 is not the block count. */
  cacheCountedAsLayers: boolean;
  /** Lines where llama.cpp starts loading a model: each begins a new set of load facts. */
  loads: number[];
}

// llama.cpp: ggml-cuda's ggml_cuda_init (ggml_init_cublas in 2023), for CUDA, ROCm (HIP) and MUSA builds.
const FOUND_CUDA = /\bfound \d+ (CUDA|ROCm|MUSA) devices:/;
const CUDA_DEVICE =
  /\bDevice (\d+): (.+?), (?:compute capability \d+\.\d+|(gfx\w+) \(0x[0-9a-f]+\))(?:, VMM: \w+)?(?:, Wave Size: \d+)?(?:, VRAM: (\d+) MiB)?/;
// ggml-vulkan: "ggml_vulkan: 0 = NAME (DRIVER) | uma: 0 | …" (2024-), "Vulkan0: NAME | uma: 0 | …" (mid
// 2024), "ggml_vulkan: Using NAME | uma: 0 | …" (early 2024).
const VULKAN_DEVICE = /\bggml_vulkan: (\d+) = (.+) \(([^()]*)\) \| uma: (\d)/;
const VULKAN_DEVICE_NO_DRIVER = /\bggml_vulkan: (\d+) = (.+?) \| uma: (\d)/;
const VULKAN_DEVICE_2024 = /(?:^|\s)Vulkan(\d+): (.+?) \| uma: (\d)/;
const VULKAN_USING = /\bggml_vulkan: Using (.+?) \| uma: (\d)/;

function vulkanDevice(line: string): { id: string; name: string; driver?: string; uma: string } | undefined {
  const current = VULKAN_DEVICE.exec(line);
  if (current)
    return {
      id: current[1] as string,
      name: current[2] as string,
      driver: current[3] as string,
      uma: current[4] as string,
    };
  const plain = VULKAN_DEVICE_NO_DRIVER.exec(line) ?? VULKAN_DEVICE_2024.exec(line);
  if (plain) return { id: plain[1] as string, name: plain[2] as string, uma: plain[3] as string };
  const early = VULKAN_USING.exec(line);
  return early ? { id: "0", name: early[1] as string, uma: early[2] as string } : undefined;
}
// ggml-metal: "ggml_metal_init: found device: Apple M2 Max", "GPU name:   Apple M2 Max", "hasUnifiedMemory = true".
const METAL_DEVICE = /\bggml_metal(?:_device)?_init: (?:found device:|GPU name:)\s+(.+?)\s*$/;
const METAL_UNIFIED = /\bhasUnifiedMemory\s*=\s*(true|false)/;
// llama.cpp (2024-): one line per device a model is loaded on; the id in parentheses since 2025.
const USING_DEVICE_ID = /\busing device (\S+) \((.*)\) \([^()]*\) - \d+ MiB free/;
const USING_DEVICE = /\busing device (\S+) \((.*)\) - \d+ MiB free/;
const OFFLOADED = /\boffloaded (\d+)\/(\d+) layers to GPU\b/;
// Printed only by the 2023 builds whose denominator was n_layer + 3.
const CACHE_AS_LAYERS = /\boffloading [vk] cache to GPU\b|\btotal VRAM used:/;
const LOADING = /\bloaded meta data with \d+ key-value pairs/;
const N_LAYER = /\b(?:print_info|llm_load_print_meta): n_layer\s+=\s+(\d+)\s*$/;
const BLOCK_COUNT = /\bkv\s+\d+:\s+[\w.-]+\.block_count\s+u32\s+=\s+(\d+)\s*$/;
const GENERAL_KV =
  /\bkv\s+\d+:\s+general\.(name|basename|size_label|finetune|version|organization)\s+str\s+=\s+(.+?)\s*$/;
// Ollama's slog lines (logfmt): msg="inference compute" per device; msg=offload (or "offload to cuda").
const OLLAMA_COMPUTE = /\bmsg="inference compute"/;
const OLLAMA_OFFLOAD = /\bmsg=(?:offload\b|"offload to \w+")/;

const METADATA_KEYS: Record<string, MetadataKey> = {
  name: "name",
  basename: "basename",
  size_label: "sizeLabel",
  finetune: "finetune",
  version: "version",
  organization: "organization",
};
/** The schema's length limits of these fields: a longer value is not a name and is left out. */
const METADATA_MAX: Partial<Record<MetadataKey, number>> = { sizeLabel: 40, version: 40 };

/** key=value pairs of a logfmt line; quoted values unescaped. */
export function logfmt(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const match of line.matchAll(/(?:^|\s)([\w.]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = match[2] as string;
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        value = raw.slice(1, -1);
      }
    }
    fields.set(match[1] as string, value);
  }
  return fields;
}

const MIB = 1024 * 1024;
const LIBRARY_NAMES: Record<string, string> = { cuda: "CUDA", rocm: "ROCm", oneapi: "oneAPI", vulkan: "Vulkan" };

function ollamaDevice(line: number, fields: Map<string, string>): LogGpu | "cpu" | undefined {
  const library = fields.get("library") ?? "";
  if (library.toLowerCase() === "cpu") return "cpu";
  // Since 0.12 `name` is the ggml device (CUDA0) and `description` the GPU; before, `name` was the GPU
  // (or, for ROCm, a PCI id such as 1002:73bf, which is not a name).
  const name = [fields.get("description"), fields.get("name")].find(isHardwareName);
  if (!name) return undefined;
  const driver = fields.get("driver");
  const type = fields.get("type");
  return {
    line,
    key: `ollama ${fields.get("id") ?? name}`,
    name,
    backend: backendOfWord(library),
    ...(driver && !/^0(\.0)?$/.test(driver)
      ? { driver: `${LIBRARY_NAMES[library.toLowerCase()] ?? library} ${driver}`.trim() }
      : {}),
    ...(type === "iGPU" ? { unifiedMemory: true } : type === "discrete" ? { unifiedMemory: false } : {}),
  };
}

export function scanDeviceLog(text: string): DeviceLog {
  const log: DeviceLog = {
    gpus: [],
    used: [],
    offloads: [],
    planned: [],
    blockCounts: [],
    metadata: [],
    cpuOnly: false,
    cacheCountedAsLayers: false,
    loads: [],
  };
  const gpus = new Map<string, LogGpu>();
  const addGpu = (gpu: LogGpu) => {
    // A device enumerated again (a restarted server) is the same device: the later line wins.
    gpus.set(gpu.key, { ...gpus.get(gpu.key), ...gpu });
  };
  let cudaBackend: Backend = "cuda";
  let metalUnified: boolean | undefined;
  for (const [index, line] of text.split("\n").entries()) {
    const number = index + 1;
    if (line.length > 2000) continue;
    const found = FOUND_CUDA.exec(line);
    if (found) cudaBackend = backendOfWord(found[1] as string) ?? "other";
    const cuda = CUDA_DEVICE.exec(line);
    if (cuda) {
      const backend = cuda[3] ? "rocm" : cudaBackend;
      addGpu({
        line: number,
        key: `${backend} ${cuda[1]}`,
        name: cuda[2] as string,
        backend,
        ...(cuda[4] ? { memoryBytes: Number(cuda[4]) * MIB } : {}),
      });
    }
    const vulkan = vulkanDevice(line);
    if (vulkan) {
      addGpu({
        line: number,
        key: `vulkan ${vulkan.id}`,
        name: vulkan.name,
        backend: "vulkan",
        unifiedMemory: vulkan.uma === "1",
        ...(vulkan.driver?.trim() ? { driver: `Vulkan (${vulkan.driver.trim()})` } : {}),
      });
    }
    const metal = METAL_DEVICE.exec(line);
    if (metal) addGpu({ line: number, key: "metal 0", name: metal[1] as string, backend: "metal" });
    const unified = METAL_UNIFIED.exec(line);
    if (unified) metalUnified = unified[1] === "true";

    const using = USING_DEVICE_ID.exec(line) ?? USING_DEVICE.exec(line);
    if (using) log.used.push({ line: number, value: { id: using[1] as string, name: (using[2] as string).trim() } });
    const offloaded = OFFLOADED.exec(line);
    if (offloaded) {
      log.offloads.push({
        line: number,
        value: { offloaded: Number(offloaded[1]), total: Number(offloaded[2]) },
      });
    }
    if (CACHE_AS_LAYERS.test(line)) log.cacheCountedAsLayers = true;
    if (LOADING.test(line)) log.loads.push(number);
    const blocks = N_LAYER.exec(line) ?? BLOCK_COUNT.exec(line);
    if (blocks && Number(blocks[1]) > 0) log.blockCounts.push({ line: number, value: Number(blocks[1]) });
    const kv = GENERAL_KV.exec(line);
    if (kv) {
      const key = METADATA_KEYS[kv[1] as string] as MetadataKey;
      const value = (kv[2] as string).trim();
      if (value && value.length <= (METADATA_MAX[key] ?? 200)) log.metadata.push({ line: number, value: [key, value] });
    }

    if (OLLAMA_COMPUTE.test(line)) {
      const device = ollamaDevice(number, logfmt(line));
      if (device === "cpu") log.cpuOnly = true;
      else if (device) addGpu(device);
    }
    if (OLLAMA_OFFLOAD.test(line)) {
      const fields = logfmt(line);
      const count = (key: string) => (/^\d+$/.test(fields.get(key) ?? "") ? Number(fields.get(key)) : undefined);
      const offload = count("layers.offload");
      const total = count("layers.model");
      const library = fields.get("library") ?? /msg="offload to (\w+)"/.exec(line)?.[1];
      if (offload !== undefined && total) {
        log.planned.push({
          line: number,
          value: { offloaded: offload, total, backend: library ? backendOfWord(library) : undefined },
        });
      }
    }
  }
  log.gpus = [...gpus.values()].map((gpu) =>
    gpu.backend === "metal" && metalUnified !== undefined ? { ...gpu, unifiedMemory: metalUnified } : gpu,
  );
  return log;
}

// ---------------------------------------------------------------------------------------------
// the facts that hold for one run

export interface DeviceFacts {
  accelerators: Accelerator[];
  backend?: Backend | undefined;
  /** Layers offloaded, as llama.cpp counts them (the output layer is one): the same unit as -ngl. */
  gpuLayers?: number | undefined;
  /** The model's blocks (GGUF block_count): gpuLayers ≥ layers means every block is on the GPU. */
  layers?: number | undefined;
  metadata?: ModelMetadata | undefined;
}

/**
 * Which model load an entry belongs to. "using device" and Ollama's estimate come before llama.cpp
 * loads the model, the offload and block count after: so the former belong to the next load, the
 * latter to the one before them.
 */
function loadOf(loads: number[], line: number, before: boolean): number {
  if (loads.length === 0) return 0;
  if (before) {
    const next = loads.findIndex((start) => start >= line);
    return next < 0 ? loads.length - 1 : next;
  }
  const previous = loads.findLastIndex((start) => start <= line);
  return Math.max(0, previous);
}

function inLoad<T>(entries: Entry<T>[], loads: number[], load: number, before: boolean): T[] {
  return entries.filter((e) => loadOf(loads, e.line, before) === load).map((e) => e.value);
}

function accelerator(gpu: Pick<LogGpu, "name" | "memoryBytes" | "unifiedMemory" | "driver">): Accelerator {
  return {
    type: "gpu",
    model: gpu.name,
    ...(gpu.memoryBytes !== undefined && !gpu.unifiedMemory ? { memoryBytes: gpu.memoryBytes } : {}),
    ...(gpu.unifiedMemory !== undefined ? { unifiedMemory: gpu.unifiedMemory } : {}),
    ...(gpu.driver ? { driver: gpu.driver } : {}),
  };
}

function singleBackend(gpus: LogGpu[]): Backend | undefined {
  const backends = new Set(gpus.map((g) => g.backend));
  return backends.size === 1 ? [...backends][0] : undefined;
}

/** What the log says about the run at `line`: the load before it (or, for a log pasted after the runs, the first). */
export function deviceFactsAt(log: DeviceLog, line: number): DeviceFacts {
  const load = Math.max(
    0,
    log.loads.findLastIndex((start) => start < line),
  );
  const used = inLoad(log.used, log.loads, load, true);
  const offload = inLoad(log.offloads, log.loads, load, false).at(-1);
  const planned = inLoad(log.planned, log.loads, load, true).at(-1);
  const blocks = inLoad(log.blockCounts, log.loads, load, false).at(-1);

  let backend: Backend | undefined;
  const offloaded = offload ?? planned;
  if (offloaded?.offloaded === 0) backend = "cpu";
  else if (used.length) backend = backendOfWord(used[0]?.id ?? "");
  else if (planned?.backend) backend = planned.backend;
  else if (log.gpus.length) backend = singleBackend(log.gpus);
  else if (log.cpuOnly) backend = "cpu";

  // The devices the model was loaded on when the log says; else every GPU enumerated (of the
  // backend that ran, when several backends enumerated the same cards).
  let accelerators: Accelerator[];
  if (used.length) {
    const pool = [...log.gpus];
    accelerators = used
      .filter((u) => isHardwareName(u.name))
      .map((u) => {
        const index = pool.findIndex((g) => g.name === u.name && (!backend || g.backend === backend));
        const known = index >= 0 ? pool.splice(index, 1)[0] : undefined;
        return accelerator(known ?? { name: u.name });
      });
  } else {
    const ofBackend = log.gpus.filter((g) => g.backend === backend);
    const firstBackend = log.gpus[0]?.backend;
    const gpus = ofBackend.length ? ofBackend : log.gpus.filter((g) => g.backend === firstBackend);
    accelerators = gpus.filter((g) => isHardwareName(g.name)).map(accelerator);
  }

  const facts: DeviceFacts = { accelerators };
  if (backend) facts.backend = backend;
  if (offloaded) facts.gpuLayers = offloaded.offloaded;
  const layers =
    blocks ??
    (offload && !log.cacheCountedAsLayers ? offload.total - 1 : undefined) ??
    (planned ? planned.total - 1 : undefined);
  if (layers !== undefined && layers >= 1) facts.layers = layers;
  const metadata: ModelMetadata = {};
  for (const [key, value] of inLoad(log.metadata, log.loads, load, false)) {
    metadata[key] ??= value;
  }
  if (Object.keys(metadata).length) facts.metadata = metadata;
  return facts;
}
