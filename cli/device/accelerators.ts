// Accelerators: the GPUs the inference engine reports, plus the NPUs and TPUs a board shows in /dev,
// /sys and its device tree. Presence is all that is claimed: no memory size or core count is filled in
// unless a file states it.
import type { Device } from "../../schema/bundle.ts";
import { exists, list, readText } from "./sysfs.ts";

export type Accelerator = NonNullable<Device["accelerators"]>[number];

/** A GPU as node-llama-cpp reports it. */
export interface GpuInput {
  name: string;
  vramBytes?: number;
  unifiedMemory?: boolean;
  backend?: string;
}

const GPU_VENDORS: Array<[RegExp, string]> = [
  [/nvidia|geforce|quadro|tesla|\brtx\b|\bgtx\b|jetson|orin|tegra/i, "NVIDIA"],
  [/\bamd\b|radeon|instinct|\bati\b/i, "AMD"],
  [/intel|\barc\b|iris|\buhd\b/i, "Intel"],
  [/apple/i, "Apple"],
  [/mali|immortalis/i, "Arm"],
  [/adreno|qualcomm/i, "Qualcomm"],
  [/videocore|\bv3d\b|broadcom/i, "Broadcom"],
  [/powervr|imagination/i, "Imagination"],
];

export function gpuAccelerators(gpus: GpuInput[]): Accelerator[] {
  return gpus
    .filter((g) => g.name.trim() !== "")
    .map((g) => {
      const vendor = GPU_VENDORS.find(([pattern]) => pattern.test(g.name))?.[1];
      const accelerator: Accelerator = { type: "gpu", model: g.name.trim().slice(0, 200) };
      if (vendor) accelerator.vendor = vendor;
      // The schema keeps memoryBytes for dedicated memory; a unified-memory GPU shares system RAM.
      if (g.unifiedMemory) accelerator.unifiedMemory = true;
      else if (g.vramBytes !== undefined && Number.isSafeInteger(g.vramBytes) && g.vramBytes > 0) {
        accelerator.memoryBytes = g.vramBytes;
      }
      if (g.backend) accelerator.notes = `reported by node-llama-cpp (${g.backend} backend)`;
      return accelerator;
    });
}

// Drivers of the Linux accel subsystem (/dev/accel/accelN) → what the device is.
const ACCEL_DRIVERS: Record<string, Pick<Accelerator, "type" | "vendor" | "model">> = {
  intel_vpu: { type: "npu", vendor: "Intel", model: "Intel NPU" },
  amdxdna: { type: "npu", vendor: "AMD", model: "AMD XDNA NPU" },
  qaic: { type: "npu", vendor: "Qualcomm", model: "Qualcomm Cloud AI" },
  rocket: { type: "npu", vendor: "Rockchip", model: "Rockchip NPU" },
  ethosu: { type: "npu", vendor: "Arm", model: "Arm Ethos-U" },
  habanalabs: { type: "other", vendor: "Intel", model: "Intel Gaudi" },
};

interface Platform {
  root: string;
  platform: NodeJS.Platform;
  arch: string;
  /** The device tree's compatible list, to name the vendor of an NPU found only by its devfreq node. */
  compatible: string[];
}

export async function detectNpus({ root, platform, arch, compatible }: Platform): Promise<Accelerator[]> {
  if (platform === "darwin") {
    // Every Apple Silicon Mac has a Neural Engine; its core count is not exposed without private APIs.
    return arch === "arm64" ? [{ type: "npu", vendor: "Apple", model: "Apple Neural Engine" }] : [];
  }
  if (platform !== "linux") return [];
  const found: Accelerator[] = [];
  const accel = await accelDevices(root);
  found.push(...accel);
  if (!accel.some((a) => a.vendor === "Rockchip")) {
    const rockchip = await rockchipNpu(root, compatible);
    if (rockchip) found.push(rockchip);
  }
  const dla = await nvidiaDla(root);
  if (dla) found.push(dla);
  found.push(...(await edgeTpus(root)));
  const hailo = (await list(root, "/dev")).filter((d) => /^hailo\d+$/.test(d));
  if (hailo.length > 0) {
    found.push({ type: "npu", vendor: "Hailo", notes: `/dev/${hailo.join(", /dev/")}` });
  }
  return found;
}

async function accelDevices(root: string): Promise<Accelerator[]> {
  const found: Accelerator[] = [];
  for (const dev of await list(root, "/dev/accel")) {
    if (!/^accel\d+$/.test(dev)) continue;
    const uevent = await readText(root, `/sys/class/accel/${dev}/device/uevent`);
    const driver = uevent ? /^DRIVER=(.+)$/m.exec(uevent)?.[1]?.trim() : undefined;
    const known = driver ? ACCEL_DRIVERS[driver] : undefined;
    found.push({
      ...(known ?? { type: "other" }),
      notes: `/dev/accel/${dev}${driver ? ` (driver ${driver})` : ""}`,
    });
  }
  return found;
}

/**
 * Rockchip's RKNPU: the vendor driver makes /dev/rknpu (misc-device builds) or debugfs entries, and its
 * devfreq node is named after the NPU's address (fdab0000.npu on the RK3588). debugfs, readable as
 * root, also states the driver version and the core count.
 */
async function rockchipNpu(root: string, compatible: string[]): Promise<Accelerator | undefined> {
  const devfreq = (await list(root, "/sys/class/devfreq")).filter((d) => /npu/i.test(d));
  const signals = [
    ...((await exists(root, "/dev/rknpu")) ? ["/dev/rknpu"] : []),
    ...((await exists(root, "/sys/kernel/debug/rknpu")) ? ["/sys/kernel/debug/rknpu"] : []),
    ...devfreq.map((d) => `/sys/class/devfreq/${d}`),
  ];
  if (signals.length === 0) return undefined;
  const rockchip = compatible.some((c) => c.startsWith("rockchip,")) || signals.some((s) => s.includes("rknpu"));
  const accelerator: Accelerator = rockchip
    ? { type: "npu", vendor: "Rockchip", model: "RKNPU" }
    : { type: "npu", ...(vendorOf(compatible) ? { vendor: vendorOf(compatible) } : {}) };
  const version = await readText(root, "/sys/kernel/debug/rknpu/version");
  const driver = version ? /v?\d+(?:\.\d+)+/.exec(version)?.[0] : undefined;
  if (driver) accelerator.driver = `RKNPU driver ${driver.startsWith("v") ? driver : `v${driver}`}`;
  // The load file lists one "CoreN: x%" per NPU core.
  const load = await readText(root, "/sys/kernel/debug/rknpu/load");
  const cores = load ? new Set(load.match(/Core\d+/g) ?? []).size : 0;
  if (cores > 0) accelerator.computeUnits = cores;
  accelerator.notes = `detected by ${signals.join(", ")}`;
  return accelerator;
}

/** NVIDIA's DLA engines (Jetson Xavier/Orin), as device-tree nodes under host1x that are enabled. */
async function nvidiaDla(root: string): Promise<Accelerator | undefined> {
  const base = (await exists(root, "/proc/device-tree")) ? "/proc/device-tree" : "/sys/firmware/devicetree/base";
  const enabled: string[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    for (const node of await list(root, dir)) {
      const path = `${dir}/${node}`;
      if (/^nvdla\d*@/.test(node)) {
        const status = await readText(root, `${path}/status`);
        // A node without a status property is enabled (device-tree specification, "status").
        if (status === undefined || status === "okay" || status === "ok") enabled.push(node);
      } else if (depth < 3 && node.includes("@") && /^(bus|host1x)/.test(node)) {
        await visit(path, depth + 1);
      }
    }
  };
  await visit(base, 0);
  if (enabled.length === 0) return undefined;
  return {
    type: "npu",
    vendor: "NVIDIA",
    model: "NVDLA",
    computeUnits: enabled.length,
    notes: `device-tree ${enabled.join(", ")}`,
  };
}

/** Coral Edge TPUs: PCIe/M.2 ones through the apex driver, USB ones by their USB ids. */
async function edgeTpus(root: string): Promise<Accelerator[]> {
  const found: Accelerator[] = [];
  const apex = (await list(root, "/dev")).filter((d) => /^apex_\d+$/.test(d));
  for (const dev of apex) found.push({ type: "tpu", vendor: "Google", model: "Coral Edge TPU", notes: `/dev/${dev}` });
  for (const dev of await list(root, "/sys/bus/usb/devices")) {
    const vendor = await readText(root, `/sys/bus/usb/devices/${dev}/idVendor`);
    const product = await readText(root, `/sys/bus/usb/devices/${dev}/idProduct`);
    // 1a6e:089a before its firmware is loaded, 18d1:9302 after.
    if ((vendor === "1a6e" && product === "089a") || (vendor === "18d1" && product === "9302")) {
      found.push({ type: "tpu", vendor: "Google", model: "Coral USB Accelerator", notes: `USB ${vendor}:${product}` });
    }
  }
  return found;
}

export const DT_VENDORS: Record<string, string> = {
  allwinner: "Allwinner",
  amlogic: "Amlogic",
  brcm: "Broadcom",
  fsl: "NXP",
  mediatek: "MediaTek",
  nvidia: "NVIDIA",
  nxp: "NXP",
  qcom: "Qualcomm",
  rockchip: "Rockchip",
  samsung: "Samsung",
  sophgo: "Sophgo",
  starfive: "StarFive",
  thead: "T-Head",
  ti: "Texas Instruments",
};

/** The SoC vendor's name from a device-tree compatible list ("rockchip,rk3588" → "Rockchip"). */
export function vendorOf(compatible: string[]): string | undefined {
  const prefix = compatible[compatible.length - 1]?.split(",")[0];
  return prefix ? DT_VENDORS[prefix] : undefined;
}
