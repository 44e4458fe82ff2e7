// What machine is this: the Device section of a bundle, measured rather than typed in. On Linux (every
// SBC, Jetson and most PCs) it reads /proc, /sys, /dev and /etc under `root`, so tests run it against
// fake trees; systeminformation answers for macOS and Windows and fills gaps. A field nothing states
// is left out: no guessed board, no invented memory size.
import { execFileSync } from "node:child_process";
import {
  availableParallelism,
  release as kernelRelease,
  arch as nodeArch,
  hostname as nodeHostname,
  totalmem,
} from "node:os";
import { Device } from "../../schema/bundle.ts";
import { type Accelerator, DT_VENDORS, detectNpus, type GpuInput, gpuAccelerators } from "./accelerators.ts";
import {
  type Arch,
  armModel,
  cleanBrand,
  commonFlags,
  cpuinfoPhysicalCores,
  featureList,
  parseCpuinfo,
  physicalCoresSync,
  processorBlocks,
  readTopology,
  schemaArch,
} from "./cpu.ts";
import { emptyProbe, type HostFacts, type HostProbe, systemInformationProbe } from "./host.ts";
import { readThermal, readThrottled } from "./sensors.ts";
import { exists, list, readStringList, readText } from "./sysfs.ts";

export type { GpuInput } from "./accelerators.ts";
export type { HostFacts, HostProbe } from "./host.ts";

export interface DetectOptions {
  /** Prefix of every /proc, /sys, /dev and /etc path; "/" (the default) is this machine. */
  root?: string;
  /** Leave out what identifies this one machine (hostname, serial). */
  anon?: boolean;
  /** GPUs as the inference engine (node-llama-cpp) reports them. */
  gpus?: GpuInput[];
  /** process.platform and os.arch() by default; set for fake roots, which describe another machine. */
  platform?: NodeJS.Platform;
  arch?: string;
  /** Facts systeminformation knows; by default the real host's under root "/", none under a fake root. */
  probe?: HostProbe;
}

const clip = (s: string | undefined, max = 200): string | undefined => {
  const t = s?.replace(/\s+/g, " ").trim();
  return t ? t.slice(0, max) : undefined;
};

function compact<T extends object>(value: T): T | undefined {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return entries.length > 0 ? (Object.fromEntries(entries) as T) : undefined;
}

export async function detectDevice(options: DetectOptions = {}): Promise<Device> {
  const root = options.root ?? "/";
  const host = root === "/";
  const platform = options.platform ?? process.platform;
  const arch = schemaArch(options.arch ?? nodeArch(), options.arch === undefined ? armVersion() : undefined);
  const facts: HostFacts = await (options.probe ?? (host ? systemInformationProbe : emptyProbe))().catch(() => ({}));
  const linux = platform === "linux";

  const dtBase = (await exists(root, "/proc/device-tree")) ? "/proc/device-tree" : "/sys/firmware/devicetree/base";
  const dtModel = linux ? clip(await readText(root, `${dtBase}/model`)) : undefined;
  const compatible = linux ? await readStringList(root, `${dtBase}/compatible`) : [];
  const jetson = /jetson/i.test(dtModel ?? "") || compatible.some((c) => c.startsWith("nvidia,tegra"));

  const cpu = await detectCpu(root, linux, arch, facts);
  const gpus = gpuAccelerators(options.gpus ?? []);
  const npus = await detectNpus({ root, platform, arch: options.arch ?? nodeArch(), compatible });
  const accelerators: Accelerator[] = [...gpus, ...npus].slice(0, 16);
  const thermal = linux ? await readThermal(root) : [];
  const battery = linux
    ? (await list(root, "/sys/class/power_supply")).some((d) => /^BAT\d*$/.test(d))
    : facts.hasBattery === true;

  const device: Device = {
    board:
      dtModel ??
      (linux
        ? await dmiBoard(root)
        : clip(facts.systemName ?? joinVendor(facts.systemManufacturer, facts.systemModel))),
    formFactor: await formFactor({ root, linux, dtModel, jetson, battery, arch, facts }),
    soc: socName(compatible) ?? appleSoc(platform, arch, facts),
    cpu: compact({ ...cpu, arch }),
    ramBytes: linux ? await memTotal(root) : undefined,
    accelerators: accelerators.length > 0 ? accelerators : undefined,
    os: compact(await detectOs(root, linux, facts)),
    powerMode: linux ? await powerMode(root) : undefined,
    cooling: linux ? await cooling(root) : undefined,
    thermal: thermal.length > 0 ? thermal : undefined,
    throttled: linux ? await readThrottled(root) : undefined,
    identity: options.anon ? undefined : compact(await identity(root, linux, dtBase, facts)),
  };
  if (device.ramBytes === undefined && host) device.ramBytes = totalmem();
  // Parsing drops nothing (every field above is built to fit); it fails loudly if a change breaks that.
  return Device.parse(compact(device) ?? {});
}

/** The device without what identifies this one machine. */
export function anonymize(device: Device): Device {
  const { identity: _identity, ...rest } = device;
  return rest;
}

/**
 * How many threads to run by default: the physical cores (llama.cpp gains nothing from SMT siblings),
 * never more than this process may run on, never less than one.
 */
export function physicalCores(root = "/"): number {
  const cores = physicalCoresSync(root) ?? (root === "/" ? darwinPhysicalCores() : undefined);
  if (root !== "/") return Math.max(1, cores ?? 1);
  // CPU affinity (taskset, a cpuset) can leave this process fewer CPUs than the machine has.
  return Math.max(1, Math.min(cores ?? availableParallelism(), availableParallelism()));
}

/** macOS has no sysfs; sysctl answers in a few milliseconds. Elsewhere (Windows) logical CPUs stand in. */
function darwinPhysicalCores(): number | undefined {
  if (process.platform !== "darwin") return undefined;
  try {
    const n = Number(execFileSync("sysctl", ["-n", "hw.physicalcpu"], { encoding: "utf8", timeout: 2000 }).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function armVersion(): string | undefined {
  const value = (process.config.variables as Record<string, unknown>).arm_version;
  return value === undefined ? undefined : String(value);
}

type Cpu = Omit<NonNullable<Device["cpu"]>, "arch">;

async function detectCpu(root: string, linux: boolean, arch: Arch, facts: HostFacts): Promise<Cpu> {
  if (!linux) {
    const performance = facts.performanceCores;
    const efficiency = facts.efficiencyCores;
    const split = performance && efficiency ? ` (${performance}P + ${efficiency}E)` : "";
    const brand = cleanBrand(facts.cpuBrand);
    const features = facts.cpuFlags ? featureList(facts.cpuFlags, arch) : [];
    return {
      model: brand ? clip(`${brand}${split}`) : undefined,
      cores: facts.physicalCores,
      threads: facts.threads,
      features: features.length > 0 ? features : undefined,
    };
  }
  const processors = processorBlocks(parseCpuinfo(await readText(root, "/proc/cpuinfo")));
  const topology = await readTopology(root);
  const first = processors[0];
  let model: string | undefined;
  if (processors.some((p) => p["cpu part"] !== undefined)) model = armModel(processors, topology);
  model ??= cleanBrand(first?.["model name"]) ?? first?.uarch ?? cleanBrand(facts.cpuBrand);
  if (model && topology.performanceCores && topology.efficiencyCores) {
    model = `${model} (${topology.performanceCores}P + ${topology.efficiencyCores}E)`;
  }
  const flags = processors.length > 0 ? commonFlags(processors) : (facts.cpuFlags ?? []);
  const features = featureList(flags, arch);
  const khz = Math.max(0, ...topology.maxFrequencyKhz.values());
  const firstOnline = topology.online[0] ?? 0;
  return {
    model: clip(model),
    cores: topology.physicalCores ?? cpuinfoPhysicalCores(processors) ?? facts.physicalCores,
    threads: topology.online.length || processors.length || facts.threads,
    maxFrequencyMhz: khz > 0 ? khz / 1000 : undefined,
    governor: clip(await readText(root, `/sys/devices/system/cpu/cpu${firstOnline}/cpufreq/scaling_governor`), 40),
    features: features.length > 0 ? features : undefined,
  };
}

// Device-tree compatible strings of SoCs → the name the vendor sells them under.
const SOCS: Record<string, string> = {
  "brcm,bcm2835": "Broadcom BCM2835",
  "brcm,bcm2836": "Broadcom BCM2836",
  "brcm,bcm2837": "Broadcom BCM2837",
  "brcm,bcm2711": "Broadcom BCM2711",
  "brcm,bcm2712": "Broadcom BCM2712",
  "rockchip,rk3588": "Rockchip RK3588",
  "rockchip,rk3588s": "Rockchip RK3588S",
  "rockchip,rk3576": "Rockchip RK3576",
  "rockchip,rk3568": "Rockchip RK3568",
  "rockchip,rk3566": "Rockchip RK3566",
  "rockchip,rk3399": "Rockchip RK3399",
  "nvidia,tegra210": "NVIDIA Tegra210 (Tegra X1)",
  "nvidia,tegra186": "NVIDIA Tegra186 (Parker)",
  "nvidia,tegra194": "NVIDIA Tegra194 (Xavier)",
  "nvidia,tegra234": "NVIDIA Tegra234 (Orin)",
  "nvidia,tegra264": "NVIDIA Tegra264 (Thor)",
  "amlogic,g12b": "Amlogic G12B (S922X/A311D)",
  "amlogic,sm1": "Amlogic SM1 (S905X3)",
  "allwinner,sun50i-a64": "Allwinner A64",
  "allwinner,sun50i-h6": "Allwinner H6",
  "allwinner,sun50i-h616": "Allwinner H616",
  "allwinner,sun50i-h618": "Allwinner H618",
  "starfive,jh7110": "StarFive JH7110",
  "sophgo,sg2042": "Sophgo SG2042",
  "mediatek,mt8195": "MediaTek MT8195",
  "qcom,qcs6490": "Qualcomm QCS6490",
};

/**
 * The SoC from the device tree's compatible list (board first, SoC last). Unknown SoCs are named from
 * the last entry: "rockchip,rk3528" → "Rockchip RK3528".
 */
export function socName(compatible: string[]): string | undefined {
  for (const entry of compatible) {
    const known = SOCS[entry];
    if (known) return known;
  }
  const last = compatible[compatible.length - 1];
  const [vendor, chip] = last?.split(",") ?? [];
  if (!vendor || !chip) return undefined;
  return clip(`${DT_VENDORS[vendor] ?? vendor} ${chip.toUpperCase()}`);
}

function appleSoc(platform: NodeJS.Platform, arch: Arch, facts: HostFacts): string | undefined {
  const brand = cleanBrand(facts.cpuBrand);
  return platform === "darwin" && arch === "arm64" && brand?.startsWith("Apple") ? brand : undefined;
}

// Strings firmware vendors leave in DMI fields they did not fill.
const PLACEHOLDERS = new Set([
  "",
  "0",
  "0123456789",
  "123456789",
  "default string",
  "invalid",
  "n/a",
  "none",
  "not applicable",
  "not available",
  "not specified",
  "o.e.m.",
  "oem",
  "system manufacturer",
  "system product name",
  "system serial number",
  "system version",
  "to be filled by o.e.m.",
  "to be filled by oem",
  "type1productconfigid",
  "unknown",
  "x.x",
]);

const meaningful = (s: string | undefined): string | undefined => {
  const t = clip(s);
  return t && !PLACEHOLDERS.has(t.toLowerCase()) ? t : undefined;
};

const VENDOR_NAMES: Array<[RegExp, string]> = [
  [/^lenovo\b/i, "Lenovo"],
  [/^dell\b/i, "Dell"],
  [/^(?:hp|hewlett-packard)\b/i, "HP"],
  [/^asustek\b|^asus\b/i, "ASUS"],
  [/^micro-star\b/i, "MSI"],
  [/^gigabyte\b/i, "Gigabyte"],
  [/^asrock\b/i, "ASRock"],
  [/^acer\b/i, "Acer"],
  [/^microsoft\b/i, "Microsoft"],
  [/^apple\b/i, "Apple"],
  [/^framework\b/i, "Framework"],
  [/^samsung\b/i, "Samsung"],
  [/^intel\b/i, "Intel"],
];

export function vendorName(vendor: string | undefined): string | undefined {
  const v = meaningful(vendor);
  if (!v) return undefined;
  const known = VENDOR_NAMES.find(([pattern]) => pattern.test(v))?.[1];
  return known ?? v.replace(/,?\s+(?:inc\.?|corp\.?|corporation|co\.,?\s*ltd\.?|ltd\.?|gmbh)$/i, "").trim();
}

function joinVendor(vendor: string | undefined, product: string | undefined): string | undefined {
  const v = vendorName(vendor);
  const p = meaningful(product);
  if (!p) return undefined;
  return v && !p.toLowerCase().startsWith(v.toLowerCase()) ? `${v} ${p}` : p;
}

/**
 * The product from DMI. Lenovo puts a machine-type code in product_name ("20XWCTO1WW") and the name
 * people know in product_version ("ThinkPad X1 Carbon Gen 9"). Self-built desktops often leave the
 * product as a placeholder, and the motherboard is then what identifies them.
 */
async function dmiBoard(root: string): Promise<string | undefined> {
  const dmi = (field: string) => readText(root, `/sys/class/dmi/id/${field}`);
  const vendor = await dmi("sys_vendor");
  const version = meaningful(await dmi("product_version"));
  const product = /^lenovo/i.test(vendor ?? "") && version ? version : await dmi("product_name");
  return joinVendor(vendor, product) ?? joinVendor(await dmi("board_vendor"), await dmi("board_name"));
}

// SMBIOS chassis types (DSP0134, 7.4.1) that say what the machine is; the rest ("Other", "Unknown") do not.
const CHASSIS: Record<number, Device["formFactor"]> = {
  3: "desktop",
  4: "desktop",
  5: "desktop",
  6: "desktop",
  7: "desktop",
  8: "laptop",
  9: "laptop",
  10: "laptop",
  13: "desktop",
  14: "laptop",
  15: "desktop",
  16: "desktop",
  17: "server",
  23: "server",
  25: "server",
  28: "server",
  29: "server",
  30: "tablet",
  31: "laptop",
  32: "laptop",
  35: "desktop",
  36: "desktop",
};

async function formFactor(c: {
  root: string;
  linux: boolean;
  dtModel: string | undefined;
  jetson: boolean;
  battery: boolean;
  arch: Arch;
  facts: HostFacts;
}): Promise<Device["formFactor"]> {
  if (c.jetson) return "embedded_module";
  if (c.battery) return "laptop";
  if (c.dtModel && c.arch !== "x86_64") return "sbc";
  if (c.linux) {
    const chassis = Number(await readText(c.root, "/sys/class/dmi/id/chassis_type"));
    return CHASSIS[chassis];
  }
  if (/notebook|laptop/i.test(c.facts.chassis ?? "")) return "laptop";
  if (/desktop|tower/i.test(c.facts.chassis ?? "")) return "desktop";
  return undefined;
}

async function memTotal(root: string): Promise<number | undefined> {
  const meminfo = await readText(root, "/proc/meminfo");
  const kb = meminfo ? /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo)?.[1] : undefined;
  return kb ? Number(kb) * 1024 : undefined;
}

function osRelease(text: string | undefined): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text?.split("\n") ?? []) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) fields[match[1]] = match[2].replace(/^["']|["']$/g, "");
  }
  return fields;
}

async function detectOs(root: string, linux: boolean, facts: HostFacts): Promise<NonNullable<Device["os"]>> {
  if (!linux) return { name: clip(facts.osName), version: clip(facts.osVersion), kernel: clip(facts.kernel) };
  const fields = osRelease((await readText(root, "/etc/os-release")) ?? (await readText(root, "/usr/lib/os-release")));
  let version = fields.VERSION_ID ?? fields.VERSION ?? facts.osVersion;
  // On a Jetson the L4T release (JetPack) matters more than the Ubuntu underneath it.
  const tegra = await readText(root, "/etc/nv_tegra_release");
  const l4t = tegra ? /^#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)/.exec(tegra) : null;
  if (l4t) version = `${version ? `${version} ` : ""}(L4T R${l4t[1]}.${l4t[2]})`;
  return {
    name: clip(fields.NAME ?? facts.osName),
    version: clip(version),
    kernel: clip(
      (await readText(root, "/proc/sys/kernel/osrelease")) ??
        facts.kernel ??
        (root === "/" ? kernelRelease() : undefined),
    ),
  };
}

/**
 * The power mode where the platform has named ones: Jetson's nvpmodel (the active mode id in
 * /var/lib/nvpmodel/status, its name in /etc/nvpmodel.conf) or the ACPI platform profile on PCs.
 */
async function powerMode(root: string): Promise<string | undefined> {
  const status = await readText(root, "/var/lib/nvpmodel/status");
  const id = status ? /pmode:0*(\d+)/.exec(status)?.[1] : undefined;
  if (id !== undefined) {
    const conf = await readText(root, "/etc/nvpmodel.conf");
    const name = conf ? new RegExp(`<\\s*POWER_MODEL\\s+ID=${id}\\s+NAME=([\\w.-]+)`).exec(conf)?.[1] : undefined;
    return clip(name ? `${name} (nvpmodel ${id})` : `nvpmodel ${id}`);
  }
  const profile = await readText(root, "/sys/firmware/acpi/platform_profile");
  return profile ? clip(`${profile} (ACPI platform profile)`) : undefined;
}

/** A fan the kernel drives (pwm-fan, gpio-fan, ACPI Fan); passive cooling cannot be told from absence. */
async function cooling(root: string): Promise<string | undefined> {
  const fans = new Set<string>();
  for (const dev of await list(root, "/sys/class/thermal")) {
    if (!/^cooling_device\d+$/.test(dev)) continue;
    const type = await readText(root, `/sys/class/thermal/${dev}/type`);
    if (type && /fan/i.test(type)) fans.add(type);
  }
  return fans.size > 0 ? clip(`fan (${[...fans].join(", ")})`) : undefined;
}

async function identity(
  root: string,
  linux: boolean,
  dtBase: string,
  facts: HostFacts,
): Promise<NonNullable<Device["identity"]>> {
  const hostname = linux ? await readText(root, "/proc/sys/kernel/hostname") : undefined;
  let serial: string | undefined;
  if (linux) {
    serial =
      meaningful(await readText(root, `${dtBase}/serial-number`)) ??
      // Root-only on most distributions; without permission the serial is simply left out.
      meaningful(await readText(root, "/sys/class/dmi/id/product_serial"));
  } else serial = meaningful(facts.serial);
  return {
    hostname: clip(hostname ?? facts.hostname ?? (root === "/" ? nodeHostname() : undefined)),
    serial,
  };
}
