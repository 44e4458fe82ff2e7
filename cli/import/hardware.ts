// Which printed names are hardware. Tools print other things where a reader expects a CPU, board or
// GPU name: llama-bench's cpu_info is the description of every CPU-type ggml device joined with ", ",
// so a BLAS build on a CPU whose /proc/cpuinfo has no "model name" (a Raspberry Pi 4 on 64-bit
// Linux) prints "OpenBLAS, CPU": a backend list. Ollama names a GPU "CUDA0" (its ggml device) or by a
// PCI id ("1002:73bf"); lscpu prints "-"; DMI prints "To Be Filled By O.E.M.". None of these may
// become a board, SoC, CPU or GPU: the registry would file runs under them.
import { Accelerator, type Device, type Runtime } from "../../schema/bundle.ts";

export type Backend = NonNullable<Runtime["backend"]>;

/** ggml backend and library names as tools print them, lowercased, with the bundle backend each means. */
const BACKEND_WORDS: Record<string, Backend> = {
  cpu: "cpu",
  blas: "cpu",
  openblas: "cpu",
  blis: "cpu",
  accelerate: "cpu",
  mkl: "cpu",
  nvpl: "cpu",
  amx: "cpu",
  cuda: "cuda",
  cublas: "cuda",
  metal: "metal",
  mtl: "metal",
  vulkan: "vulkan",
  rocm: "rocm",
  hip: "rocm",
  hipblas: "rocm",
  sycl: "sycl",
  oneapi: "sycl",
  opencl: "opencl",
  gpuopencl: "opencl",
  clblast: "opencl",
  cann: "npu",
  kompute: "other",
  musa: "other",
  rpc: "other",
  webgpu: "other",
  zdnn: "other",
};

/** Words that name a kind of device, never one device. */
const KIND_WORDS = new Set(["gpu", "igpu", "dgpu", "npu", "accel", "device", "host"]);

/** What tools print when they have no name. Compared lowercased, without surrounding brackets or quotes. */
const PLACEHOLDERS = new Set([
  "unknown",
  "n/a",
  "na",
  "none",
  "null",
  "nil",
  "undefined",
  "not available",
  "not specified",
  "not applicable",
  "unspecified",
  "default",
  "default string",
  "generic",
  "other",
  "to be filled by o.e.m.",
  "to be filled by oem",
  "system product name",
  "system manufacturer",
  "o.e.m.",
  "oem",
  "cpu_info",
  "gpu_info",
  "model name",
]);

/** A ggml device or buffer name ("CUDA0", "MTL0", "CPU_Mapped", "RPC[10.0.0.2:50052]") → its backend word. */
function backendWord(token: string): string {
  return token
    .toLowerCase()
    .replace(/\[.*\]$/, "")
    .replace(/_(mapped|host|repack|private)$/, "")
    .replace(/\d+$/, "");
}

/** The bundle backend a printed backend or device name stands for ("CUDA", "ROCm0", "Metal"); undefined if none. */
export function backendOfWord(word: string): Backend | undefined {
  const key = backendWord(word.trim());
  return Object.hasOwn(BACKEND_WORDS, key) ? BACKEND_WORDS[key] : undefined;
}

export type NotHardware = "empty" | "placeholder" | "backend" | "pci";

/** Why a printed name is not the name of a piece of hardware, or undefined when it is one. */
export function notHardware(name: string | undefined): NotHardware | undefined {
  const trimmed = (name ?? "").trim();
  if (trimmed === "") return "empty";
  if (!/[\p{L}\p{N}]/u.test(trimmed)) return "placeholder";
  const bare = trimmed
    .replace(/^["'([<{]+|["')\]>}]+$/g, "")
    .trim()
    .toLowerCase();
  if (PLACEHOLDERS.has(bare)) return "placeholder";
  if (/^[0-9a-f]{4}:[0-9a-f]{4}$/i.test(bare)) return "pci";
  const tokens = trimmed.split(/[\s,;+/|&]+/).filter(Boolean);
  if (tokens.every((t) => backendOfWord(t) !== undefined || KIND_WORDS.has(backendWord(t)))) return "backend";
  return undefined;
}

export function isHardwareName(name: string | undefined): name is string {
  return notHardware(name) === undefined;
}

/** The reason as a message ends it: `"OpenBLAS, CPU" names a backend, not a CPU`. */
export function notHardwareMessage(why: NotHardware, noun: string): string {
  switch (why) {
    case "empty":
      return "is empty";
    case "placeholder":
      return `is a placeholder, not the name of a ${noun}`;
    case "backend":
      return `names a backend, not a ${noun}`;
    case "pci":
      return `is a PCI id, not the name of a ${noun}`;
  }
}

/**
 * The hardware in a printed list: llama-bench joins its CPU-type devices with ", " ("OpenBLAS, AMD
 * Ryzen 9 7950X 16-Core Processor"), so the entries that are backends or placeholders are dropped and
 * the rest kept as printed. Undefined when no entry is hardware.
 */
export function hardwareOfList(printed: string): string | undefined {
  const parts = printed.split(/\s*,\s*/);
  if (parts.length === 1) return isHardwareName(printed) ? printed.trim() : undefined;
  const kept = parts.filter(isHardwareName);
  if (kept.length === parts.length) return printed.trim();
  return kept.length ? kept.join(", ") : undefined;
}

// ---------------------------------------------------------------------------------------------
// GPU names and the schema's name rule

const NAME_CHAR = /[\p{L}\p{N} ()[\]\-_.,+/@:®™#]/u;
const acceleratorModel = Accelerator.shape.model;

/**
 * A GPU's name for accelerators[].model: as printed when the schema accepts it (parenthesised parts
 * such as "(RADV NAVI31)" included); else the printed name without the groups and characters the
 * schema refuses, the printed text going to notes. Undefined for a name that is not hardware.
 */
export function acceleratorName(printed: string): { model: string; notes?: string } | undefined {
  const name = printed.replace(/\s+/g, " ").trim();
  if (!isHardwareName(name)) return undefined;
  if (acceleratorModel.safeParse(name).success) return { model: name };
  const allowed = (text: string) => [...text].every((c) => NAME_CHAR.test(c));
  // A bracketed part holding characters a name may not have goes whole: it is an annotation.
  const unannotated = name.replace(/\s*(\([^()]*\)|\[[^[\]]*\])/g, (group) => (allowed(group) ? group : ""));
  const cleaned = [...unannotated]
    .filter((c) => NAME_CHAR.test(c))
    .join("")
    .replace(/^[^\p{L}\p{N}]+/u, "")
    .replace(/\s+/g, " ")
    .trim();
  const notes = `printed as "${printed.trim().slice(0, 500)}"`;
  if (isHardwareName(cleaned) && acceleratorModel.safeParse(cleaned).success) return { model: cleaned, notes };
  return undefined;
}

/** Accelerators as a file states them, with names checked: an entry whose name is not hardware is dropped. */
export function checkedAccelerators(accelerators: Device["accelerators"]): Accelerator[] {
  const checked: Accelerator[] = [];
  for (const accelerator of accelerators ?? []) {
    if (accelerator.model === undefined) {
      checked.push(accelerator);
      continue;
    }
    const name = acceleratorName(accelerator.model);
    if (!name) continue;
    const notes = [accelerator.notes, name.notes].filter(Boolean).join("; ");
    checked.push({ ...accelerator, model: name.model, ...(notes ? { notes } : {}) });
  }
  return checked;
}
