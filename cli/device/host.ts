// What systeminformation knows about the real host, in one plain shape. The fingerprint reads Linux
// files itself (under a root, so they can be tested); this fills what files cannot tell: macOS and
// Windows (CPU brand, physical cores, P/E split, OS release, system model, chassis, battery) and gaps on
// Linux. Tests pass their own facts, so nothing about the machine running the tests leaks into them.
import { execFile } from "node:child_process";
import { cpus } from "node:os";

export interface HostFacts {
  /** The raw CPU brand string, e.g. "11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz" or "Apple M2 Pro". */
  cpuBrand?: string;
  cpuManufacturer?: string;
  physicalCores?: number;
  threads?: number;
  performanceCores?: number;
  efficiencyCores?: number;
  /** Feature flags, lowercase, as the platform names them (cpuinfo flags, sysctl features). */
  cpuFlags?: string[];
  osName?: string;
  osVersion?: string;
  kernel?: string;
  hostname?: string;
  systemManufacturer?: string;
  /** The machine identifier, e.g. "Mac14,9" (hw.model) or a DMI product name. */
  systemModel?: string;
  /** A friendlier product name when known, e.g. "MacBook Pro (14-inch, M2 Pro, 2023)". */
  systemName?: string;
  /** Chassis as systeminformation names it: "Notebook", "Desktop", … */
  chassis?: string;
  hasBattery?: boolean;
  serial?: string;
}

export type HostProbe = () => Promise<HostFacts>;

export const emptyProbe: HostProbe = async () => ({});

const useful = (s: string | undefined): string | undefined => {
  const t = s?.trim();
  return t && t !== "-" && t.toLowerCase() !== "unknown" ? t : undefined;
};

/**
 * The real host through systeminformation. Each call is guarded: a probe that fails (a missing tool,
 * a sandbox) leaves its facts out rather than failing the fingerprint.
 */
export const systemInformationProbe: HostProbe = async () => {
  const si = await import("systeminformation");
  const linux = process.platform === "linux";
  const [cpu, osInfo, system, battery, armFlags] = await Promise.all([
    si.cpu().catch(() => undefined),
    si.osInfo().catch(() => undefined),
    // On Linux the fingerprint reads DMI itself; si.system() would shell out to dmidecode for nothing.
    linux ? undefined : si.system().catch(() => undefined),
    linux ? undefined : si.battery().catch(() => undefined),
    process.platform === "darwin" && process.arch === "arm64" ? darwinArmFeatures() : undefined,
  ]);
  const chassis = system && "type" in system && typeof system.type === "string" ? system.type : undefined;
  const appleName = system?.version && !/unknown/i.test(system.version) ? system.version : undefined;
  return {
    // The raw brand string: systeminformation's `brand` drops the first word, which turns
    // "11th Gen Intel(R) Core(TM) i7-1165G7" into "Gen Intel® Core™ i7-1165G7".
    cpuBrand: useful(cpus()[0]?.model),
    cpuManufacturer: useful(cpu?.manufacturer),
    physicalCores: cpu?.physicalCores || undefined,
    threads: cpu?.cores || undefined,
    performanceCores: cpu?.performanceCores || undefined,
    efficiencyCores: cpu?.efficiencyCores || undefined,
    cpuFlags: armFlags ?? (cpu?.flags ? cpu.flags.toLowerCase().split(/\s+/).filter(Boolean) : undefined),
    osName: useful(osInfo?.distro),
    osVersion: useful(osInfo?.release),
    kernel: useful(osInfo?.kernel),
    hostname: useful(osInfo?.hostname),
    systemManufacturer: useful(system?.manufacturer),
    systemModel: useful(system?.model),
    systemName: process.platform === "darwin" ? appleName : useful(system?.version),
    chassis: useful(chassis),
    hasBattery: battery?.hasBattery,
    serial: useful(system?.serial),
  };
};

/**
 * Apple Silicon reports no CPU flags to systeminformation; `sysctl hw.optional` lists the ARM features
 * (FEAT_DotProd, FEAT_I8MM, …) that decide which llama.cpp kernels run.
 */
function darwinArmFeatures(): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    execFile("sysctl", ["hw.optional"], { timeout: 3000 }, (error, stdout) => {
      if (error) return resolve(undefined);
      const flags: string[] = [];
      for (const line of stdout.split("\n")) {
        const match = /^hw\.optional\.(?:arm\.)?(\w+):\s*1\s*$/.exec(line.trim());
        if (match?.[1]) flags.push(match[1].toLowerCase());
      }
      resolve(flags);
    });
  });
}
