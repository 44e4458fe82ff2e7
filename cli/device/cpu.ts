// The CPU as llama.cpp sees it: the cores it can run threads on, and the instruction-set features that
// pick its kernels. On Linux everything comes from /proc/cpuinfo and /sys/devices/system/cpu, which on
// ARM boards is the only place the core types are named at all (cpuinfo there has no "model name").
import type { Device } from "../../schema/bundle.ts";
import { list, listSync, parseCpuList, readInt, readText, readTextSync } from "./sysfs.ts";

export type Arch = NonNullable<NonNullable<Device["cpu"]>["arch"]>;

export type CpuInfoBlock = Record<string, string>;

/** /proc/cpuinfo as one key→value record per blank-line separated block (keys lowercased). */
export function parseCpuinfo(text: string | undefined): CpuInfoBlock[] {
  if (!text) return [];
  const blocks: CpuInfoBlock[] = [];
  for (const chunk of text.split(/\n\s*\n/)) {
    const block: CpuInfoBlock = {};
    for (const line of chunk.split("\n")) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      block[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (Object.keys(block).length > 0) blocks.push(block);
  }
  return blocks;
}

export const processorBlocks = (blocks: CpuInfoBlock[]): CpuInfoBlock[] =>
  blocks.filter((b) => b.processor !== undefined && /^\d+$/.test(b.processor));

/** Node's os.arch() in the schema's terms. */
export function schemaArch(nodeArch: string, armVersion?: string): Arch {
  switch (nodeArch) {
    case "arm64":
      return "arm64";
    case "x64":
      return "x86_64";
    case "riscv64":
      return "riscv64";
    case "arm":
      // 32-bit ARM is armv7l on every board this targets; an ARMv6 (Pi Zero/1) is something else.
      return armVersion === undefined || Number(armVersion) >= 7 ? "armv7l" : "other";
    default:
      return "other";
  }
}

// MIDR implementer → part → core name, from the Arm and vendor technical reference manuals (the same
// table util-linux's lscpu carries). Only cores that run Linux boards people benchmark LLMs on.
const CPU_PARTS: Record<string, Record<string, string>> = {
  "0x41": {
    "0xc07": "Cortex-A7",
    "0xc09": "Cortex-A9",
    "0xc0d": "Cortex-A12",
    "0xc0e": "Cortex-A17",
    "0xc0f": "Cortex-A15",
    "0xd01": "Cortex-A32",
    "0xd02": "Cortex-A34",
    "0xd03": "Cortex-A53",
    "0xd04": "Cortex-A35",
    "0xd05": "Cortex-A55",
    "0xd06": "Cortex-A65",
    "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72",
    "0xd09": "Cortex-A73",
    "0xd0a": "Cortex-A75",
    "0xd0b": "Cortex-A76",
    "0xd0c": "Neoverse-N1",
    "0xd0d": "Cortex-A77",
    "0xd0e": "Cortex-A76AE",
    "0xd40": "Neoverse-V1",
    "0xd41": "Cortex-A78",
    "0xd42": "Cortex-A78AE",
    "0xd43": "Cortex-A65AE",
    "0xd44": "Cortex-X1",
    "0xd46": "Cortex-A510",
    "0xd47": "Cortex-A710",
    "0xd48": "Cortex-X2",
    "0xd49": "Neoverse-N2",
    "0xd4a": "Neoverse-E1",
    "0xd4b": "Cortex-A78C",
    "0xd4c": "Cortex-X1C",
    "0xd4d": "Cortex-A715",
    "0xd4e": "Cortex-X3",
    "0xd4f": "Neoverse-V2",
    "0xd80": "Cortex-A520",
    "0xd81": "Cortex-A720",
    "0xd82": "Cortex-X4",
    "0xd84": "Neoverse-V3",
    "0xd85": "Cortex-X925",
    "0xd87": "Cortex-A725",
    "0xd8e": "Neoverse-N3",
  },
  "0x4e": { "0x003": "NVIDIA Denver 2", "0x004": "NVIDIA Carmel" },
  "0x51": {
    "0x001": "Qualcomm Oryon",
    "0x802": "Kryo 3XX Gold",
    "0x803": "Kryo 3XX Silver",
    "0x804": "Kryo 4XX Gold",
    "0x805": "Kryo 4XX Silver",
  },
  "0x61": { "0x022": "Apple Icestorm", "0x023": "Apple Firestorm" },
};

export function armCoreName(implementer: string | undefined, part: string | undefined): string | undefined {
  if (!part) return undefined;
  const imp = (implementer ?? "0x41").toLowerCase();
  const p = part.toLowerCase();
  return CPU_PARTS[imp]?.[p] ?? `CPU part ${p}${imp === "0x41" ? "" : ` (implementer ${imp})`}`;
}

/**
 * A brand string without trademarks and clock:
 * "11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz" → "11th Gen Intel Core i7-1165G7".
 */
export function cleanBrand(brand: string | undefined): string | undefined {
  if (!brand) return undefined;
  const clean = brand
    .replace(/\((?:R|TM|C)\)|[®™©]/gi, "")
    .replace(/\s*@\s*[\d.]+\s*[GM]Hz\s*$/i, "")
    .replace(/\bCPU\b/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return clean === "" ? undefined : clean;
}

interface CpuTopology {
  /** Logical CPUs the kernel has online. */
  online: number[];
  /** Distinct physical cores among them (SMT siblings counted once), when sysfs tells. */
  physicalCores?: number;
  performanceCores?: number;
  efficiencyCores?: number;
  maxFrequencyKhz: Map<number, number>;
  capacity: Map<number, number>;
}

const CPU_DIR = "/sys/devices/system/cpu";

async function distinctCores(root: string, cpus: number[]): Promise<number | undefined> {
  const cores = new Set<string>();
  for (const cpu of cpus) {
    // core_cpus_list is the 5.3+ name; thread_siblings_list is what older kernels (and still this one) have.
    const siblings =
      (await readText(root, `${CPU_DIR}/cpu${cpu}/topology/core_cpus_list`)) ??
      (await readText(root, `${CPU_DIR}/cpu${cpu}/topology/thread_siblings_list`));
    if (siblings === undefined) return undefined;
    cores.add(siblings);
  }
  return cores.size || undefined;
}

export async function readTopology(root: string): Promise<CpuTopology> {
  let online = parseCpuList(await readText(root, `${CPU_DIR}/online`));
  if (online.length === 0) {
    online = (await list(root, CPU_DIR))
      .map((name) => /^cpu(\d+)$/.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number);
  }
  const maxFrequencyKhz = new Map<number, number>();
  const capacity = new Map<number, number>();
  for (const cpu of online) {
    const khz = await readInt(root, `${CPU_DIR}/cpu${cpu}/cpufreq/cpuinfo_max_freq`);
    if (khz !== undefined && khz > 0) maxFrequencyKhz.set(cpu, khz);
    const cap = await readInt(root, `${CPU_DIR}/cpu${cpu}/cpu_capacity`);
    if (cap !== undefined) capacity.set(cpu, cap);
  }
  // Intel hybrid parts (Alder Lake and later) expose one PMU per core type, each listing its CPUs.
  const pCpus = parseCpuList(await readText(root, "/sys/devices/cpu_core/cpus")).filter((c) => online.includes(c));
  const eCpus = parseCpuList(await readText(root, "/sys/devices/cpu_atom/cpus")).filter((c) => online.includes(c));
  return {
    online,
    physicalCores: online.length > 0 ? await distinctCores(root, online) : undefined,
    performanceCores: pCpus.length > 0 && eCpus.length > 0 ? await distinctCores(root, pCpus) : undefined,
    efficiencyCores: pCpus.length > 0 && eCpus.length > 0 ? await distinctCores(root, eCpus) : undefined,
    maxFrequencyKhz,
    capacity,
  };
}

/**
 * Distinct physical cores among the online CPUs, synchronously (it feeds a default argument):
 * SMT siblings share one core_cpus_list. Falls back to cpuinfo; undefined when neither exists (not Linux).
 */
export function physicalCoresSync(root: string): number | undefined {
  let online = parseCpuList(readTextSync(root, `${CPU_DIR}/online`));
  if (online.length === 0) {
    online = listSync(root, CPU_DIR)
      .map((name) => /^cpu(\d+)$/.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number);
  }
  const cores = new Set<string>();
  for (const cpu of online) {
    const siblings =
      readTextSync(root, `${CPU_DIR}/cpu${cpu}/topology/core_cpus_list`) ??
      readTextSync(root, `${CPU_DIR}/cpu${cpu}/topology/thread_siblings_list`);
    if (siblings === undefined) {
      cores.clear();
      break;
    }
    cores.add(siblings);
  }
  if (cores.size > 0) return cores.size;
  return cpuinfoPhysicalCores(processorBlocks(parseCpuinfo(readTextSync(root, "/proc/cpuinfo"))));
}

/** Physical cores from cpuinfo alone: distinct (physical id, core id) on x86; one per processor on ARM. */
export function cpuinfoPhysicalCores(processors: CpuInfoBlock[]): number | undefined {
  if (processors.length === 0) return undefined;
  const withIds = processors.filter((p) => p["core id"] !== undefined);
  if (withIds.length === processors.length) {
    return new Set(withIds.map((p) => `${p["physical id"] ?? 0}:${p["core id"]}`)).size;
  }
  return processors.length;
}

/**
 * On ARM, the core types by "CPU part", big cores first: "Cortex-A72", or for big.LITTLE
 * "4× Cortex-A76 + 4× Cortex-A55". Big is decided by cpu_capacity, then by maximum frequency.
 */
export function armModel(
  processors: CpuInfoBlock[],
  topology: Pick<CpuTopology, "maxFrequencyKhz" | "capacity">,
): string | undefined {
  const groups = new Map<string, { count: number; capacity: number; khz: number; first: number }>();
  for (const p of processors) {
    const name = armCoreName(p["cpu implementer"], p["cpu part"]);
    if (!name) continue;
    const index = Number(p.processor);
    const group = groups.get(name) ?? { count: 0, capacity: 0, khz: 0, first: index };
    group.count++;
    group.capacity = Math.max(group.capacity, topology.capacity.get(index) ?? 0);
    group.khz = Math.max(group.khz, topology.maxFrequencyKhz.get(index) ?? 0);
    groups.set(name, group);
  }
  if (groups.size === 0) return undefined;
  const sorted = [...groups.entries()].sort(
    ([, a], [, b]) => b.capacity - a.capacity || b.khz - a.khz || a.first - b.first,
  );
  if (sorted.length === 1) return sorted[0]?.[0];
  return sorted.map(([name, g]) => `${g.count}× ${name}`).join(" + ");
}

// The flags that decide llama.cpp's CPU kernels (ggml's GGML_* build options and runtime checks),
// under the names /proc/cpuinfo uses. Everything else in the flags line is noise for this purpose.
const X86_FEATURES = [
  "sse3",
  "ssse3",
  "avx",
  "avx2",
  "fma",
  "f16c",
  "avx_vnni",
  "avx512f",
  "avx512bw",
  "avx512vl",
  "avx512vbmi",
  "avx512_vnni",
  "avx512_bf16",
  "avx512_fp16",
  "amx_tile",
  "amx_int8",
  "amx_bf16",
];
const ARM_FEATURES = ["neon", "fp16", "dotprod", "i8mm", "bf16", "sve", "sve2", "sme"];
const RISCV_FEATURES = ["rvv"];

// Kernel, sysctl and systeminformation spellings → the one name reported.
const ALIASES: Record<string, string> = {
  pni: "sse3",
  "avx1.0": "avx",
  asimd: "neon",
  advsimd: "neon",
  neon: "neon",
  // asimdhp is FP16 vector arithmetic, which ggml's FP16 kernels need; fphp (scalar) alone is not enough.
  asimdhp: "fp16",
  feat_fp16: "fp16",
  asimddp: "dotprod",
  feat_dotprod: "dotprod",
  feat_i8mm: "i8mm",
  feat_bf16: "bf16",
  feat_sme: "sme",
  feat_sve: "sve",
  feat_sve2: "sve2",
};

export function featureList(flags: Iterable<string>, arch: Arch): string[] {
  const have = new Set<string>();
  for (const raw of flags) {
    const flag = raw.toLowerCase();
    have.add(ALIASES[flag] ?? flag);
  }
  const wanted = arch === "x86_64" ? X86_FEATURES : arch === "riscv64" ? RISCV_FEATURES : ARM_FEATURES;
  return wanted.filter((f) => have.has(f));
}

/** Flags every processor has (llama.cpp threads run on all cores, so a feature only some have does not count). */
export function commonFlags(processors: CpuInfoBlock[]): string[] {
  let common: Set<string> | undefined;
  for (const p of processors) {
    const line = p.flags ?? p.features;
    if (line === undefined) continue;
    const set = new Set(line.split(/\s+/).filter(Boolean));
    common = common ? new Set([...common].filter((f) => set.has(f))) : set;
  }
  // RISC-V has no flags line, only an ISA string ("rv64imafdcv_zicsr…"), where V means vector (RVV).
  const riscv = processors.map((p) => p.isa).find((isa) => isa !== undefined);
  const result = common ? [...common] : [];
  if (riscv && /^rv(32|64)[a-z]*v/.test(riscv.split("_")[0] ?? "")) result.push("rvv");
  return result;
}
