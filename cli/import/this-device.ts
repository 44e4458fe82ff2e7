// --this-device: this machine as the device of an imported file that does not say what hardware it ran
// on, fingerprinted as `edgebench run` does (cli/device/fingerprint.ts). Only what describes the
// hardware is kept: temperatures, throttling, the governor and the power mode are read now, not when
// the file's run happened, and the machine's identity (hostname, serial) is left out.
import type { Device } from "../../schema/bundle.ts";
import { hardwareOfList, isHardwareName } from "./hardware.ts";

export async function thisDevice(): Promise<Device> {
  // Loaded only for --this-device: the fingerprint reads /proc, /sys and systeminformation.
  const { detectDevice } = await import("../device/fingerprint.ts");
  const {
    thermal: _thermal,
    throttled: _throttled,
    powerMode: _powerMode,
    identity: _identity,
    ...device
  } = await detectDevice({ anon: true });
  if (device.cpu) {
    const { governor: _governor, model, ...cpu } = device.cpu;
    // A DMI or cpuinfo placeholder ("To Be Filled By O.E.M.", "-") names nothing, here as in files.
    const kept = model === undefined ? undefined : hardwareOfList(model);
    device.cpu = { ...cpu, ...(kept ? { model: kept } : {}) };
    if (Object.keys(device.cpu).length === 0) delete device.cpu;
  }
  if (device.board !== undefined && !isHardwareName(device.board)) delete device.board;
  if (device.soc !== undefined && !isHardwareName(device.soc)) delete device.soc;
  return device;
}

/**
 * `"Raspberry Pi 5 Model B Rev 1.0" (Cortex-A76, 4 cores, 7.9 GiB RAM)`, with `GPU NVIDIA H200` or
 * `NPU RK3588 NPU` when the device has one: what --this-device tells the user the bundles will say.
 */
export function describeDevice(device: Device): string {
  const name = device.board ?? device.soc ?? device.cpu?.model;
  if (!name) return "a machine its fingerprint does not name";
  const details = [
    device.board && device.soc ? device.soc : undefined,
    name !== device.cpu?.model ? device.cpu?.model : undefined,
    device.cpu?.cores ? `${device.cpu.cores} cores` : undefined,
    device.ramBytes ? `${(device.ramBytes / 1024 ** 3).toFixed(1)} GiB RAM` : undefined,
    ...(device.accelerators ?? []).map((a) => [a.type.toUpperCase(), a.model ?? a.vendor ?? "(unnamed)"].join(" ")),
  ].filter(Boolean);
  return `"${name}"${details.length ? ` (${details.join(", ")})` : ""}`;
}
