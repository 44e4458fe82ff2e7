// Reference data the registry trusts more than a submitter's claims: the peak memory bandwidth of
// known hardware (the physics behind the decode-speed bound) and the other names people give it.
// Peak figures are the memory interface's theoretical maximum (transfer rate × bus width), so real
// runs stay well below them; where a family spans memory configurations, the fastest one is used.
import type { Device } from "./bundle.ts";

export interface KnownHardware {
  /** The canonical hardware slug. */
  slug: string;
  /** Matches the device's board, SoC or CPU name. */
  match: RegExp;
  /** Peak bandwidth of the memory the model is read from on this hardware, bytes/s. */
  peakBandwidthBytesPerSec: number;
  /** Where the figure comes from, in a few words. */
  basis: string;
  /** Other slugs that mean this hardware. */
  aliases: string[];
}

const GB = 1e9;

export const KNOWN_HARDWARE: readonly KnownHardware[] = [
  {
    slug: "raspberry-pi-5",
    match: /raspberry pi 5|bcm2712/i,
    peakBandwidthBytesPerSec: 17.1 * GB,
    basis: "LPDDR4X-4267, 32-bit",
    aliases: ["rpi5", "pi-5", "raspberry-pi-5b"],
  },
  {
    slug: "raspberry-pi-4",
    match: /raspberry pi 4|raspberry pi 400|bcm2711/i,
    peakBandwidthBytesPerSec: 12.8 * GB,
    basis: "LPDDR4-3200, 32-bit",
    aliases: ["rpi4", "pi-4", "raspberry-pi-4b", "raspberry-pi-4-model-b"],
  },
  {
    slug: "raspberry-pi-3",
    match: /raspberry pi 3|bcm2837/i,
    peakBandwidthBytesPerSec: 3.6 * GB,
    basis: "LPDDR2-900, 32-bit",
    aliases: ["rpi3", "pi-3"],
  },
  {
    slug: "rockchip-rk3588",
    match: /rk3588/i,
    peakBandwidthBytesPerSec: 51.2 * GB,
    basis: "LPDDR5-6400, 64-bit (boards with LPDDR4X reach 34 GB/s)",
    aliases: ["rk3588"],
  },
  {
    slug: "nvidia-jetson-agx-orin",
    match: /jetson agx orin/i,
    peakBandwidthBytesPerSec: 204.8 * GB,
    basis: "LPDDR5-6400, 256-bit",
    aliases: ["agx-orin"],
  },
  {
    slug: "nvidia-jetson-orin-nx",
    match: /jetson orin nx/i,
    peakBandwidthBytesPerSec: 102.4 * GB,
    basis: "LPDDR5-6400, 128-bit",
    aliases: ["orin-nx"],
  },
  {
    slug: "nvidia-jetson-orin-nano",
    match: /jetson orin nano/i,
    peakBandwidthBytesPerSec: 102 * GB,
    basis: "LPDDR5, 128-bit (Orin Nano Super)",
    aliases: ["orin-nano"],
  },
  {
    // A report that says only "Jetson Orin": the fastest module of the family bounds it.
    slug: "nvidia-jetson-orin",
    match: /jetson orin|tegra234/i,
    peakBandwidthBytesPerSec: 204.8 * GB,
    basis: "the fastest Orin module (AGX, 204.8 GB/s)",
    aliases: ["jetson-orin"],
  },
  { slug: "apple-m4-max", match: /\bm4 max\b/i, peakBandwidthBytesPerSec: 546 * GB, basis: "Apple spec", aliases: [] },
  { slug: "apple-m4-pro", match: /\bm4 pro\b/i, peakBandwidthBytesPerSec: 273 * GB, basis: "Apple spec", aliases: [] },
  { slug: "apple-m4", match: /\bm4\b/i, peakBandwidthBytesPerSec: 120 * GB, basis: "Apple spec", aliases: [] },
  { slug: "apple-m3-max", match: /\bm3 max\b/i, peakBandwidthBytesPerSec: 400 * GB, basis: "Apple spec", aliases: [] },
  { slug: "apple-m3-pro", match: /\bm3 pro\b/i, peakBandwidthBytesPerSec: 150 * GB, basis: "Apple spec", aliases: [] },
  { slug: "apple-m3", match: /\bm3\b/i, peakBandwidthBytesPerSec: 100 * GB, basis: "Apple spec", aliases: [] },
  {
    slug: "apple-m2-ultra",
    match: /\bm2 ultra\b/i,
    peakBandwidthBytesPerSec: 800 * GB,
    basis: "Apple spec",
    aliases: [],
  },
  { slug: "apple-m2-max", match: /\bm2 max\b/i, peakBandwidthBytesPerSec: 400 * GB, basis: "Apple spec", aliases: [] },
  { slug: "apple-m2-pro", match: /\bm2 pro\b/i, peakBandwidthBytesPerSec: 200 * GB, basis: "Apple spec", aliases: [] },
  { slug: "apple-m2", match: /\bm2\b/i, peakBandwidthBytesPerSec: 100 * GB, basis: "Apple spec", aliases: [] },
  {
    slug: "apple-m1-ultra",
    match: /\bm1 ultra\b/i,
    peakBandwidthBytesPerSec: 800 * GB,
    basis: "Apple spec",
    aliases: [],
  },
  { slug: "apple-m1-max", match: /\bm1 max\b/i, peakBandwidthBytesPerSec: 400 * GB, basis: "Apple spec", aliases: [] },
  { slug: "apple-m1-pro", match: /\bm1 pro\b/i, peakBandwidthBytesPerSec: 200 * GB, basis: "Apple spec", aliases: [] },
  { slug: "apple-m1", match: /\bm1\b/i, peakBandwidthBytesPerSec: 68.25 * GB, basis: "Apple spec", aliases: [] },
];

/** The known hardware a device is, by its board, then SoC, then CPU name. */
export function knownHardware(device: Device): KnownHardware | undefined {
  for (const name of [device.board, device.soc, device.cpu?.model]) {
    if (!name) continue;
    const found = KNOWN_HARDWARE.find((k) => k.match.test(name));
    if (found) return found;
  }
  return undefined;
}

/** Built-in aliases: every alias slug of the catalog, mapped to its canonical slug. */
export const BUILTIN_HARDWARE_ALIASES: ReadonlyMap<string, string> = new Map(
  KNOWN_HARDWARE.flatMap((k) => k.aliases.map((alias) => [alias, k.slug] as const)),
);
