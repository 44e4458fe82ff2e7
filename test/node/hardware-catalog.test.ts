// The accelerator catalog (issue 12): GPU names as tools print them find the right card, and each
// card its published memory bandwidth. The expected figures below are the vendors' own (NVIDIA, AMD,
// Intel and Apple spec pages, Raspberry Pi and Rockchip datasheets), written out here by hand, not
// read back from the catalog.
import { describe, expect, it } from "vitest";
import type { Device } from "../../schema/bundle.ts";
import {
  acceleratorDisplayName,
  BUILTIN_HARDWARE_ALIASES,
  KNOWN_HARDWARE,
  knownAccelerator,
  knownHardware,
} from "../../schema/hardware-catalog.ts";
import { SLUG_PATTERN, slugify } from "../../schema/slug.ts";

const GB = 1e9;
const TB = 1e12;

/** A printed GPU name, the slug it must find, and that card's published peak bandwidth (bytes/s). */
const PRINTED: Array<[string, string, number]> = [
  // nvidia-smi and CUDA
  ["NVIDIA H200", "nvidia-h200", 4.8 * TB],
  ["NVIDIA H200 NVL", "nvidia-h200-nvl", 4.8 * TB],
  ["NVIDIA H100 80GB HBM3", "nvidia-h100-sxm", 3.35 * TB],
  ["NVIDIA H100 PCIe", "nvidia-h100-pcie", 2 * TB],
  ["NVIDIA H100 NVL", "nvidia-h100-nvl", 3.9 * TB],
  ["NVIDIA A100-SXM4-80GB", "nvidia-a100-80gb-sxm", 2039 * GB],
  ["NVIDIA A100-SXM4-40GB", "nvidia-a100-40gb-sxm", 1555 * GB],
  ["NVIDIA A100-PCIE-40GB", "nvidia-a100-40gb-pcie", 1555 * GB],
  ["NVIDIA A100 80GB PCIe", "nvidia-a100-80gb-pcie", 1935 * GB],
  ["NVIDIA L4", "nvidia-l4", 300 * GB],
  ["GPU 0: NVIDIA L40S (UUID: GPU-6f0f4b6e-2b2a-4f7e-9d1c-000000000000)", "nvidia-l40s", 864 * GB],
  ["NVIDIA L40", "nvidia-l40", 864 * GB],
  ["NVIDIA A10", "nvidia-a10", 600 * GB],
  ["Tesla T4", "nvidia-t4", 320 * GB],
  ["Tesla V100-SXM2-16GB", "nvidia-v100", 900 * GB],
  ["NVIDIA GeForce RTX 4090", "nvidia-geforce-rtx-4090", 1008 * GB],
  ["  Device 0: NVIDIA GeForce RTX 4090, compute capability 8.9, VMM: yes", "nvidia-geforce-rtx-4090", 1008 * GB],
  ["NVIDIA GeForce RTX 4090, 24564 MiB", "nvidia-geforce-rtx-4090", 1008 * GB],
  ["GeForce RTX 3090", "nvidia-geforce-rtx-3090", 936 * GB],
  ["CUDA0: NVIDIA GeForce RTX 3090 (24GB)", "nvidia-geforce-rtx-3090", 936 * GB],
  ["NVIDIA GeForce RTX 3090 Ti", "nvidia-geforce-rtx-3090-ti", 1008 * GB],
  ["NVIDIA GeForce RTX 3080 Ti", "nvidia-geforce-rtx-3080-ti", 912 * GB],
  ["NVIDIA GeForce RTX 3070", "nvidia-geforce-rtx-3070", 448 * GB],
  ["NVIDIA GeForce RTX 3060", "nvidia-geforce-rtx-3060", 360 * GB],
  ["NVIDIA GeForce RTX 4080 SUPER", "nvidia-geforce-rtx-4080-super", 736 * GB],
  ["NVIDIA GeForce RTX 4080", "nvidia-geforce-rtx-4080", 716.8 * GB],
  ["NVIDIA GeForce RTX 4070 Ti SUPER", "nvidia-geforce-rtx-4070-ti-super", 672 * GB],
  ["NVIDIA GeForce RTX 4070 Ti", "nvidia-geforce-rtx-4070-ti", 504 * GB],
  ["NVIDIA GeForce RTX 4070 SUPER", "nvidia-geforce-rtx-4070-super", 504 * GB],
  ["NVIDIA GeForce RTX 4070", "nvidia-geforce-rtx-4070", 504 * GB],
  ["NVIDIA GeForce RTX 4060 Ti", "nvidia-geforce-rtx-4060-ti", 288 * GB],
  ["NVIDIA GeForce RTX 4060", "nvidia-geforce-rtx-4060", 272 * GB],
  ["NVIDIA GeForce RTX 5090", "nvidia-geforce-rtx-5090", 1792 * GB],
  ["NVIDIA GeForce RTX 5080", "nvidia-geforce-rtx-5080", 960 * GB],
  ["NVIDIA GeForce RTX 5070 Ti", "nvidia-geforce-rtx-5070-ti", 896 * GB],
  ["NVIDIA GeForce RTX 5060", "nvidia-geforce-rtx-5060", 448 * GB],
  ["NVIDIA RTX A6000", "nvidia-rtx-a6000", 768 * GB],
  ["NVIDIA RTX A4000", "nvidia-rtx-a4000", 448 * GB],
  ["NVIDIA RTX 6000 Ada Generation", "nvidia-rtx-6000-ada-generation", 960 * GB],
  ["NVIDIA RTX 4000 SFF Ada Generation", "nvidia-rtx-4000-sff-ada-generation", 280 * GB],
  ["Quadro RTX 6000", "nvidia-quadro-rtx-6000", 672 * GB],
  ["NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "nvidia-rtx-pro-6000-blackwell", 1792 * GB],
  // Vulkan deviceName as llama.cpp prints it
  [
    "ggml_vulkan: 0 = NVIDIA H200 (NVIDIA) | uma: 0 | fp16: 1 | bf16: 1 | warp size: 32 | shared memory: 49152 | int dot: 1 | matrix cores: NV_coopmat2",
    "nvidia-h200",
    4.8 * TB,
  ],
  [
    "ggml_vulkan: 0 = AMD Radeon RX 7900 XTX (RADV NAVI31) (radv) | uma: 0 | fp16: 1 | warp size: 64",
    "amd-radeon-rx-7900-xtx",
    960 * GB,
  ],
  ["AMD Radeon RX 7900 XTX (RADV NAVI31)", "amd-radeon-rx-7900-xtx", 960 * GB],
  [
    "ggml_vulkan: 0 = Intel(R) Arc(tm) B580 Graphics (BMG G21) (Intel open-source Mesa driver) | uma: 0 | fp16: 1",
    "intel-arc-b580",
    456 * GB,
  ],
  ["Vulkan0: NVIDIA GeForce RTX 5070 (12227 MiB, 11800 MiB free)", "nvidia-geforce-rtx-5070", 672 * GB],
  // AMD (ROCm, Vulkan) and Intel (SYCL)
  ["AMD Radeon RX 7900 XTX", "amd-radeon-rx-7900-xtx", 960 * GB],
  ["AMD Radeon RX 7900 XT", "amd-radeon-rx-7900-xt", 800 * GB],
  ["AMD Radeon RX 7900 GRE", "amd-radeon-rx-7900-gre", 576 * GB],
  ["  Device 0: AMD Radeon RX 7800 XT, gfx1101 (0x1101), VMM: no, Wave Size: 32", "amd-radeon-rx-7800-xt", 624 * GB],
  ["AMD Radeon RX 7600", "amd-radeon-rx-7600", 288 * GB],
  ["Radeon RX 9070 XT", "amd-radeon-rx-9070-xt", 640 * GB],
  ["AMD Radeon RX 9070", "amd-radeon-rx-9070", 640 * GB],
  ["AMD Radeon RX 9060 XT", "amd-radeon-rx-9060-xt", 320 * GB],
  ["AMD Instinct MI300X", "amd-instinct-mi300x", 5.3 * TB],
  ["ROCm0: AMD Instinct MI325X (262128 MiB)", "amd-instinct-mi325x", 6 * TB],
  ["Intel(R) Arc(TM) A770 Graphics", "intel-arc-a770", 560 * GB],
  ["Intel(R) Arc(TM) A380 Graphics", "intel-arc-a380", 186 * GB],
  ["Intel Arc B580", "intel-arc-b580", 456 * GB],
  ["Intel(R) Arc(TM) B570 Graphics", "intel-arc-b570", 380 * GB],
  // Metal
  ["Apple M2 Max", "apple-m2-max", 400 * GB],
  ["ggml_metal_init: GPU name:   Apple M3 Max", "apple-m3-max", 400 * GB],
  ["Apple M3 Pro", "apple-m3-pro", 150 * GB],
  ["Apple M3", "apple-m3", 100 * GB],
  ["Apple M3 Ultra", "apple-m3-ultra", 819 * GB],
  ["Apple M4 Pro", "apple-m4-pro", 273 * GB],
  ["Apple M1 Ultra", "apple-m1-ultra", 800 * GB],
];

describe("knownAccelerator", () => {
  it.each(PRINTED)("%j is %s", (printed, slug, bandwidth) => {
    const known = knownAccelerator(printed);
    expect(known?.slug).toBe(slug);
    expect(known?.peakBandwidthBytesPerSec).toBeCloseTo(bandwidth, -6);
  });

  it("covers at least 40 printed names", () => {
    expect(PRINTED.length).toBeGreaterThanOrEqual(40);
  });

  it.each([
    "NVIDIA GeForce RTX 4090 D", // the China-market card, not the RTX 4090
    "NVIDIA GeForce RTX 4090 Laptop GPU", // another chip, 576 GB/s
    "NVIDIA GeForce RTX 3080 Ti Laptop GPU",
    "AMD Radeon RX 7900", // no such card: XT, XTX or GRE
    "AMD Radeon RX 7600M XT",
    "Apple M4 Ultra", // there is no M4 Ultra
    "Tesla M4", // a Maxwell card, not the Apple M4
    "NVIDIA GH200 480GB",
    "Intel(R) UHD Graphics 770",
    "AMD Radeon Graphics (RADV GFX1103_R1)",
    "Moore Threads MTT S4000",
    "llvmpipe (LLVM 17.0.6, 256 bits)",
    "",
  ])("%j is not in the catalog", (printed) => {
    expect(knownAccelerator(printed)).toBeUndefined();
  });

  it("tells apart names that contain each other", () => {
    const slug = (name: string) => knownAccelerator(name)?.slug;
    expect(slug("AMD Radeon RX 7900 XT")).not.toBe(slug("AMD Radeon RX 7900 XTX"));
    expect(slug("NVIDIA RTX 6000 Ada Generation")).toBe("nvidia-rtx-6000-ada-generation");
    expect(slug("NVIDIA RTX A6000")).toBe("nvidia-rtx-a6000");
    expect(slug("Quadro RTX 6000")).toBe("nvidia-quadro-rtx-6000");
    expect(slug("NVIDIA RTX 4000 Ada Generation")).toBe("nvidia-rtx-4000-ada-generation");
    expect(slug("NVIDIA A100-SXM4-40GB")).not.toBe(slug("NVIDIA A100-SXM4-80GB"));
    expect(slug("NVIDIA A100")).toBe("nvidia-a100");
    expect(slug("NVIDIA H100")).toBe("nvidia-h100");
    expect(slug("NVIDIA A10")).toBe("nvidia-a10");
    expect(slug("NVIDIA A40")).toBe("nvidia-a40");
    expect(slug("Apple M2")).toBe("apple-m2");
    expect(slug("Apple M2 Pro")).toBe("apple-m2-pro");
    expect(slug("Apple M2 Ultra")).toBe("apple-m2-ultra");
  });
});

describe("acceleratorDisplayName", () => {
  it.each([
    ["NVIDIA H200", "NVIDIA H200"],
    ["NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM"],
    ["NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB SXM"],
    ["NVIDIA A100-PCIE-40GB", "NVIDIA A100 40GB PCIe"],
    ["GeForce RTX 3090", "NVIDIA GeForce RTX 3090"],
    ["CUDA0: NVIDIA GeForce RTX 3090 (24GB)", "NVIDIA GeForce RTX 3090"],
    ["Tesla T4", "NVIDIA T4"],
    ["Intel(R) Arc(TM) A770 Graphics", "Intel Arc A770"],
    ["AMD Radeon RX 7900 XTX (RADV NAVI31)", "AMD Radeon RX 7900 XTX"],
    ["h200", "NVIDIA H200"],
    ["nvidia geforce rtx 4090", "NVIDIA GeForce RTX 4090"],
  ])("a known card %j is %j", (raw, name) => {
    expect(acceleratorDisplayName(raw)).toBe(name);
  });

  it.each([
    ["CUDA0: NVIDIA GeForce GTX 1080 Ti (11264 MiB)", "NVIDIA GeForce GTX 1080 Ti"],
    ["GeForce GTX 1080", "NVIDIA GeForce GTX 1080"],
    ["Tesla P40", "NVIDIA Tesla P40"],
    ["RTX A4500", "NVIDIA RTX A4500"],
    ["Radeon RX 6800 XT", "AMD Radeon RX 6800 XT"],
    ["ROCm0: AMD Radeon RX 6800 XT (RADV NAVI21)", "AMD Radeon RX 6800 XT"],
    ["Vulkan0: AMD Radeon(TM) RX 6700 XT (24564 MiB)", "AMD Radeon RX 6700 XT"],
    ["  NVIDIA   GeForce RTX 4090 Laptop GPU  ", "NVIDIA GeForce RTX 4090 Laptop GPU"],
    ["NVIDIA GeForce RTX 4090 D", "NVIDIA GeForce RTX 4090 D"],
    ["Moore Threads MTT S4000", "Moore Threads MTT S4000"],
  ])("an unknown card %j is cleaned to %j", (raw, name) => {
    expect(acceleratorDisplayName(raw)).toBe(name);
  });

  it.each(["", "   ", "(RADV)", "CUDA0: ", "\u0000"])("is never empty, even for %j", (raw) => {
    expect(acceleratorDisplayName(raw).trim()).not.toBe("");
  });
});

describe("knownHardware", () => {
  it.each<[Device, string | undefined]>([
    [{ board: "Raspberry Pi 5 Model B Rev 1.0" }, "raspberry-pi-5"],
    [{ board: "Raspberry Pi 4 Model B Rev 1.4" }, "raspberry-pi-4"],
    [{ soc: "Rockchip RK3588", cpu: { model: "Cortex-A76" } }, "rockchip-rk3588"],
    [{ board: "NVIDIA Jetson AGX Orin Developer Kit" }, "nvidia-jetson-agx-orin"],
    [{ board: "NVIDIA Jetson AGX Orin 32GB" }, "nvidia-jetson-agx-orin-32gb"],
    [{ board: "NVIDIA Jetson Orin NX Engineering Reference Developer Kit" }, "nvidia-jetson-orin-nx"],
    [{ board: "NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super" }, "nvidia-jetson-orin-nano-super"],
    [{ board: "Unknown carrier", soc: "tegra234" }, "nvidia-jetson-orin"],
    [{ soc: "Apple M2 Max", cpu: { model: "Apple M2 Max" } }, "apple-m2-max"],
    [{ cpu: { model: "Apple M4" } }, "apple-m4"],
    [{ cpu: { model: "AMD Instinct MI300A Accelerator" } }, "amd-instinct-mi300a"],
    // The host CPU of a GPU machine is never taken for a GPU, nor Intel's Core m3 for an Apple M3.
    [{ cpu: { model: "Intel Xeon Processor" } }, undefined],
    [{ cpu: { model: "NVIDIA H200" } }, undefined],
    [{ board: "NVIDIA GeForce RTX 4090" }, undefined],
    [{ cpu: { model: "Intel(R) Core(TM) m3-7Y30 CPU @ 1.00GHz" } }, undefined],
  ])("%j is %s", (device, slug) => {
    expect(knownHardware(device)?.slug).toBe(slug);
  });

  it("keeps the published figures of the boards and SoCs", () => {
    const bandwidth = (device: Device) => knownHardware(device)?.peakBandwidthBytesPerSec;
    expect(bandwidth({ board: "Raspberry Pi 5" })).toBeCloseTo(17.1 * GB, -6);
    expect(bandwidth({ board: "Raspberry Pi 4" })).toBeCloseTo(12.8 * GB, -6);
    expect(bandwidth({ board: "NVIDIA Jetson AGX Orin 64GB" })).toBeCloseTo(204.8 * GB, -6);
    expect(bandwidth({ board: "NVIDIA Jetson Orin NX 16GB" })).toBeCloseTo(102.4 * GB, -6);
    expect(bandwidth({ board: "NVIDIA Jetson Orin Nano 4GB" })).toBeCloseTo(51 * GB, -6);
    expect(bandwidth({ soc: "Apple M1" })).toBeCloseTo(68.25 * GB, -6);
  });
});

describe("the catalog", () => {
  it("gives every entry the slug of its display name", () => {
    for (const k of KNOWN_HARDWARE) {
      expect(k.slug, k.name).toBe(slugify(k.name));
      expect(k.slug, k.name).toMatch(SLUG_PATTERN);
    }
  });

  it("gives no two entries the same slug or alias, and no alias is another entry's slug", () => {
    const slugs = KNOWN_HARDWARE.map((k) => k.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
    const aliases = KNOWN_HARDWARE.flatMap((k) => k.aliases);
    expect(new Set(aliases).size).toBe(aliases.length);
    for (const alias of aliases) {
      expect(slugs, alias).not.toContain(alias);
      expect(alias).toMatch(SLUG_PATTERN);
    }
  });

  it("maps every alias to its entry", () => {
    for (const k of KNOWN_HARDWARE)
      for (const alias of k.aliases) expect(BUILTIN_HARDWARE_ALIASES.get(alias)).toBe(k.slug);
    expect(BUILTIN_HARDWARE_ALIASES.get("h200")).toBe("nvidia-h200");
    expect(BUILTIN_HARDWARE_ALIASES.get("rtx-4090")).toBe("nvidia-geforce-rtx-4090");
    expect(BUILTIN_HARDWARE_ALIASES.get("rpi5")).toBe("raspberry-pi-5");
  });

  it("cites a public https page for every figure, and says what memory and basis it is", () => {
    for (const k of KNOWN_HARDWARE) {
      const url = new URL(k.source);
      expect(url.protocol, k.name).toBe("https:");
      expect(k.memory.trim(), k.name).not.toBe("");
      expect(k.basis.trim(), k.name).not.toBe("");
      expect(k.peakBandwidthBytesPerSec, k.name).toBeGreaterThan(1 * GB);
      expect(k.peakBandwidthBytesPerSec, k.name).toBeLessThan(10 * TB);
    }
  });

  it("marks boards, SoCs, Apple silicon and Jetson as unified memory, discrete cards as not", () => {
    for (const k of KNOWN_HARDWARE) {
      if (k.kind === "soc" || k.kind === "board" || k.kind === "apple_silicon")
        expect(k.unifiedMemory, k.name).toBe(true);
      if (k.kind === "discrete_gpu") expect(k.unifiedMemory, k.name).toBe(false);
    }
    const unified = (slug: string) => KNOWN_HARDWARE.find((k) => k.slug === slug)?.unifiedMemory;
    expect(unified("nvidia-jetson-agx-orin")).toBe(true);
    expect(unified("apple-m3-max")).toBe(true);
    expect(unified("nvidia-h200")).toBe(false);
    expect(unified("amd-instinct-mi300x")).toBe(false);
    expect(unified("nvidia-geforce-rtx-4090")).toBe(false);
    // The MI300A is an APU: CPU and GPU share its HBM.
    expect(unified("amd-instinct-mi300a")).toBe(true);
  });

  it("writes the display names people use", () => {
    const name = (slug: string) => KNOWN_HARDWARE.find((k) => k.slug === slug)?.name;
    expect(name("nvidia-h200")).toBe("NVIDIA H200");
    expect(name("nvidia-geforce-rtx-4090")).toBe("NVIDIA GeForce RTX 4090");
    expect(name("apple-m3-max")).toBe("Apple M3 Max");
    expect(name("raspberry-pi-5")).toBe("Raspberry Pi 5");
    expect(name("rockchip-rk3588")).toBe("Rockchip RK3588");
  });
});
