// cli/device against fake /proc and /sys trees copied from real boards (test/fixtures/sysfs/<device>),
// and against this machine for what must hold anywhere: a valid Device, a thread count, a sane bandwidth.
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { measureMemoryBandwidth } from "../../cli/device/bandwidth.ts";
import { schemaArch } from "../../cli/device/cpu.ts";
import {
  anonymize,
  type DetectOptions,
  detectDevice,
  type HostProbe,
  physicalCores,
  socName,
} from "../../cli/device/fingerprint.ts";
import {
  type Clock,
  counterMeter,
  type Exec,
  integrate,
  openEnergyMeter,
  parseNvidiaSmiPower,
  parsePmicAdc,
  parseThrottled,
  powerMeter,
  readThermal,
  readThrottled,
  selectRails,
} from "../../cli/device/sensors.ts";
import { Device } from "../../schema/bundle.ts";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/sysfs");
const fixture = (name: string) => join(FIXTURES, name);

const arm = { platform: "linux", arch: "arm64" } satisfies DetectOptions;
const x86 = { platform: "linux", arch: "x64" } satisfies DetectOptions;

/** No tool exists under a fake root: what a board without vcgencmd or nvidia-smi answers. */
const noTools: Exec = async (file) => {
  throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: "ENOENT" });
};

/** A clock the test moves by hand; sleepers wake, in order, as it passes their deadline. */
function fakeClock(): Clock & { advance(ms: number): Promise<void>; set(ms: number): void } {
  let t = 0;
  const timers: Array<{ at: number; wake: () => void }> = [];
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    now: () => t,
    sleep: (ms) => new Promise<void>((wake) => timers.push({ at: t + ms, wake })),
    set(ms) {
      t = ms;
    },
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        t = next.at;
        next.wake();
        await flush();
      }
      t = end;
    },
  };
}

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A writable tree: a copy of a fixture, or an empty root, plus the given files. */
async function tree(files: Record<string, string>, from?: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "edgebench-sysfs-"));
  temps.push(root);
  if (from) await cp(fixture(from), root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

function expectValid(device: Device): void {
  const parsed = Device.safeParse(device);
  expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
}

describe("fingerprint of a Raspberry Pi 4 Model B Rev 1.4", () => {
  it("names the board, the BCM2711 and its Cortex-A72 cores from the device tree and cpuinfo", async () => {
    const device = await detectDevice({ root: fixture("rpi4b"), ...arm });
    expectValid(device);
    expect(device).toMatchObject({
      board: "Raspberry Pi 4 Model B Rev 1.4",
      formFactor: "sbc",
      soc: "Broadcom BCM2711",
      cpu: { model: "Cortex-A72", cores: 4, threads: 4, arch: "arm64", maxFrequencyMhz: 1800, governor: "ondemand" },
      ramBytes: 3885396 * 1024,
      os: { name: "Debian GNU/Linux", version: "12", kernel: "6.6.51+rpt-rpi-v8" },
      thermal: [{ zone: "thermal_zone0", type: "cpu-thermal", temperatureC: 47.225 }],
      identity: { hostname: "raspberrypi", serial: "10000000a1b2c3d4" },
    });
    // The A72 is ARMv8.0: NEON only, none of the dot-product or FP16 kernels.
    expect(device.cpu?.features).toEqual(["neon"]);
    // get_throttled is 50000: under-voltage happened since boot, but nothing is limited now.
    expect(device.throttled).toBe(false);
    expect(device.accelerators).toBeUndefined();
  });

  it("has no energy sensor: the Pi 4 has no PMIC ADC and nothing else is there", async () => {
    expect(await openEnergyMeter({ root: fixture("rpi4b"), exec: noTools })).toBeNull();
  });
});

describe("fingerprint of a Radxa ROCK 5B (RK3588)", () => {
  it("reports big.LITTLE cores big first, the A76/A55 features and the RKNPU", async () => {
    const device = await detectDevice({
      root: fixture("rock-5b"),
      ...arm,
      gpus: [{ name: "Mali-G610 MC4", backend: "vulkan" }],
    });
    expectValid(device);
    expect(device).toMatchObject({
      board: "Radxa ROCK 5B",
      formFactor: "sbc",
      soc: "Rockchip RK3588",
      cpu: {
        model: "4× Cortex-A76 + 4× Cortex-A55",
        cores: 8,
        threads: 8,
        arch: "arm64",
        maxFrequencyMhz: 2400,
        governor: "schedutil",
        features: ["neon", "fp16", "dotprod"],
      },
      cooling: "fan (pwm-fan)",
    });
    expect(device.accelerators).toEqual([
      { type: "gpu", vendor: "Arm", model: "Mali-G610 MC4", notes: "reported by node-llama-cpp (vulkan backend)" },
      expect.objectContaining({
        type: "npu",
        vendor: "Rockchip",
        model: "RKNPU",
        driver: "RKNPU driver v0.9.6",
        computeUnits: 3,
      }),
    ]);
    expect(device.accelerators?.some((a) => "memoryBytes" in a)).toBe(false);
    expect(device.thermal?.map((z) => z.type)).toEqual([
      "soc-thermal",
      "bigcore0-thermal",
      "bigcore1-thermal",
      "littlecore-thermal",
      "center-thermal",
      "gpu-thermal",
      "npu-thermal",
    ]);
    expect(device.throttled).toBeUndefined();
  });

  it("finds the NPU from its devfreq node alone when debugfs is not readable (not root)", async () => {
    const root = await tree({
      "proc/device-tree/compatible": "radxa,rock-5b\0rockchip,rk3588\0",
      "sys/class/devfreq/fdab0000.npu/governor": "rknpu_ondemand\n",
    });
    const device = await detectDevice({ root, ...arm });
    expect(device.accelerators).toEqual([
      { type: "npu", vendor: "Rockchip", model: "RKNPU", notes: "detected by /sys/class/devfreq/fdab0000.npu" },
    ]);
  });
});

describe("fingerprint of a Jetson Orin Nano Super", () => {
  it("is an embedded module with its Tegra234, Cortex-A78AE cores, nvpmodel mode and L4T release", async () => {
    const device = await detectDevice({
      root: fixture("jetson-orin-nano"),
      ...arm,
      gpus: [{ name: "Orin", unifiedMemory: true, vramBytes: 7989305344, backend: "cuda" }],
    });
    expectValid(device);
    expect(device).toMatchObject({
      board: "NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super",
      formFactor: "embedded_module",
      soc: "NVIDIA Tegra234 (Orin)",
      cpu: {
        model: "Cortex-A78AE",
        cores: 6,
        threads: 6,
        maxFrequencyMhz: 1728,
        features: ["neon", "fp16", "dotprod"],
      },
      os: { name: "Ubuntu", version: "22.04 (L4T R36.4.3)", kernel: "5.15.148-tegra" },
      powerMode: "MAXN_SUPER (nvpmodel 2)",
      identity: { serial: "1424223012345" },
    });
    // A unified-memory GPU shares system RAM: no dedicated memory is claimed for it.
    expect(device.accelerators).toEqual([
      {
        type: "gpu",
        vendor: "NVIDIA",
        model: "Orin",
        unifiedMemory: true,
        notes: "reported by node-llama-cpp (cuda backend)",
      },
    ]);
    // The Orin Nano's DLA nodes are disabled in its device tree, and its absent CV zones read -256 °C.
    expect(device.accelerators?.some((a) => a.type === "npu")).toBe(false);
    expect(device.thermal?.map((z) => z.type)).toEqual([
      "cpu-thermal",
      "gpu-thermal",
      "soc0-thermal",
      "soc1-thermal",
      "soc2-thermal",
      "tj-thermal",
    ]);
  });

  it("reports enabled DLA engines (AGX Orin) as an NPU with their count", async () => {
    const dla = "proc/device-tree/bus@0/host1x@13e00000";
    const root = await tree({
      "proc/device-tree/model": "NVIDIA Jetson AGX Orin Developer Kit\0",
      "proc/device-tree/compatible": "nvidia,p3737-0000+p3701-0005\0nvidia,p3701-0005\0nvidia,tegra234\0",
      [`${dla}/nvdla0@15880000/status`]: "okay\0",
      [`${dla}/nvdla1@158c0000/status`]: "okay\0",
    });
    const device = await detectDevice({ root, ...arm });
    expect(device.accelerators).toEqual([
      expect.objectContaining({ type: "npu", vendor: "NVIDIA", model: "NVDLA", computeUnits: 2 }),
    ]);
  });

  it("measures module power from the INA3221 VDD_IN rail alone, since the other rails are inside it", async () => {
    const clock = fakeClock();
    const meter = await openEnergyMeter({ root: fixture("jetson-orin-nano"), exec: noTools, clock });
    expect(meter?.source).toBe("ina3221");
    expect(meter?.notes).toContain("VDD_IN");
    expect(meter?.notes).not.toContain("VDD_SOC");
    await meter?.start();
    clock.set(500);
    const reading = await meter?.stop();
    const watts = (5064 * 1384) / 1e6; // in1_input mV × curr1_input mA
    expect(reading?.averageW).toBeCloseTo(watts, 9);
    expect(reading?.joules).toBeCloseTo(watts * 0.5, 9);
    expect(reading?.durationMs).toBe(500);
  });
});

describe("fingerprint of a ThinkPad X1 Carbon Gen 9 (x86 laptop)", () => {
  it("names the product from DMI, counts SMT siblings once and lists the AVX-512 features", async () => {
    const device = await detectDevice({ root: fixture("thinkpad-x1c9"), ...x86 });
    expectValid(device);
    expect(device).toMatchObject({
      // Lenovo's product_name is a machine-type code (20XWCTO1WW); product_version is the name.
      board: "Lenovo ThinkPad X1 Carbon Gen 9",
      formFactor: "laptop",
      cpu: {
        model: "11th Gen Intel Core i7-1165G7",
        cores: 4,
        threads: 8,
        arch: "x86_64",
        maxFrequencyMhz: 4700,
        governor: "powersave",
      },
      powerMode: "balanced (ACPI platform profile)",
      identity: { hostname: "x1c9", serial: "PF2XK7QM" },
    });
    expect(device.soc).toBeUndefined();
    expect(device.cpu?.features).toEqual([
      "sse3",
      "ssse3",
      "avx",
      "avx2",
      "fma",
      "f16c",
      "avx512f",
      "avx512bw",
      "avx512vl",
      "avx512vbmi",
      "avx512_vnni",
    ]);
    // iwlwifi_1 has no readable temperature while the radio is down: it is left out, not zero.
    expect(device.thermal?.map((z) => z.type)).toEqual(["acpitz", "INT3400 Thermal", "TCPU", "x86_pkg_temp"]);
    expect(physicalCores(fixture("thinkpad-x1c9"))).toBe(4);
  });

  it("opens RAPL on the package (not psys, not the MMIO duplicate) and counts across a wrap-around", async () => {
    const max = 262143328850;
    const root = await tree({}, "thinkpad-x1c9");
    const energy = join(root, "sys/class/powercap/intel-rapl:0/energy_uj");
    await writeFile(energy, `${max - 1_000_000}\n`);
    const clock = fakeClock();
    const meter = await openEnergyMeter({ root, clock, exec: noTools });
    expect(meter?.source).toBe("rapl");
    expect(meter?.notes).toContain("package-0");
    expect(meter?.notes).not.toContain("psys");
    await meter?.start();
    await writeFile(energy, "2500000\n");
    clock.set(1000);
    const reading = await meter?.stop();
    expect(reading).toEqual({ joules: 3.5, averageW: 3.5, durationMs: 1000, samples: 2 });
  });

  it("answers null, without throwing, when the counters cannot be read (root-only energy_uj)", async () => {
    const root = await tree({}, "thinkpad-x1c9");
    // A directory where the file should be fails to read as EACCES would, even when tests run as root.
    for (const zone of ["intel-rapl:0", "intel-rapl:1"]) {
      await rm(join(root, `sys/class/powercap/${zone}/energy_uj`));
      await mkdir(join(root, `sys/class/powercap/${zone}/energy_uj`));
    }
    expect(await openEnergyMeter({ root, exec: noTools })).toBeNull();
  });
});

describe("fingerprint of an Apple Silicon Mac (from systeminformation's facts)", () => {
  it("takes the chip, the P/E split, the sysctl ARM features and the Neural Engine", async () => {
    const probe: HostProbe = async () => ({
      cpuBrand: "Apple M2 Pro",
      cpuManufacturer: "Apple",
      physicalCores: 12,
      threads: 12,
      performanceCores: 8,
      efficiencyCores: 4,
      // sysctl hw.optional, lowercased, as host.ts collects it
      cpuFlags: ["advsimd", "neon", "feat_fp16", "feat_dotprod", "feat_i8mm", "feat_bf16", "floatingpoint"],
      osName: "macOS",
      osVersion: "14.5",
      kernel: "23.5.0",
      hostname: "studio-mbp",
      systemManufacturer: "Apple Inc.",
      systemModel: "Mac14,9",
      systemName: "MacBook Pro (14-inch, M2 Pro, 2023)",
      chassis: "Notebook",
      hasBattery: true,
      serial: "C02XXXXXXXXX",
    });
    const device = await detectDevice({ root: await tree({}), platform: "darwin", arch: "arm64", probe });
    expectValid(device);
    expect(device).toEqual({
      board: "MacBook Pro (14-inch, M2 Pro, 2023)",
      formFactor: "laptop",
      soc: "Apple M2 Pro",
      cpu: {
        model: "Apple M2 Pro (8P + 4E)",
        cores: 12,
        threads: 12,
        arch: "arm64",
        features: ["neon", "fp16", "dotprod", "i8mm", "bf16"],
      },
      accelerators: [{ type: "npu", vendor: "Apple", model: "Apple Neural Engine" }],
      os: { name: "macOS", version: "14.5", kernel: "23.5.0" },
      identity: { hostname: "studio-mbp", serial: "C02XXXXXXXXX" },
    });
  });
});

describe("identity", () => {
  it("is dropped entirely with anon, and by anonymize()", async () => {
    const named = await detectDevice({ root: fixture("rpi4b"), ...arm });
    expect(named.identity).toBeDefined();
    const anon = await detectDevice({ root: fixture("rpi4b"), ...arm, anon: true });
    expect(anon.identity).toBeUndefined();
    expect(anonymize(named)).toEqual(anon);
    expect(JSON.stringify(anon)).not.toContain("10000000a1b2c3d4");
    expect(JSON.stringify(anon)).not.toContain("raspberrypi");
  });
});

describe("accelerators under /dev", () => {
  it("names accel-subsystem devices by driver, and Coral Edge TPUs as TPUs", async () => {
    const root = await tree({
      "dev/accel/accel0": "",
      "sys/class/accel/accel0/device/uevent": "DRIVER=intel_vpu\nPCI_CLASS=120000\nPCI_ID=8086:7D1D\n",
      "dev/apex_0": "",
    });
    const device = await detectDevice({ root, ...x86 });
    expect(device.accelerators).toEqual([
      { type: "npu", vendor: "Intel", model: "Intel NPU", notes: "/dev/accel/accel0 (driver intel_vpu)" },
      { type: "tpu", vendor: "Google", model: "Coral Edge TPU", notes: "/dev/apex_0" },
    ]);
  });

  it("keeps a discrete GPU's memory as reported, never invents one", async () => {
    const device = await detectDevice({
      root: await tree({}),
      ...x86,
      gpus: [
        { name: "NVIDIA GeForce RTX 4090", vramBytes: 25757220864, backend: "cuda" },
        { name: "Some Accelerator" },
      ],
    });
    expect(device.accelerators).toEqual([
      {
        type: "gpu",
        vendor: "NVIDIA",
        model: "NVIDIA GeForce RTX 4090",
        memoryBytes: 25757220864,
        notes: "reported by node-llama-cpp (cuda backend)",
      },
      { type: "gpu", model: "Some Accelerator" },
    ]);
  });
});

describe("a bare tree", () => {
  it("gives a valid device with only what it can tell, and one thread at least", async () => {
    const root = await tree({});
    const device = await detectDevice({ root, ...x86 });
    expectValid(device);
    expect(device).toEqual({ cpu: { arch: "x86_64" } });
    expect(physicalCores(root)).toBe(1);
  });

  it("maps Node's architecture names to the schema's", () => {
    expect(schemaArch("arm64")).toBe("arm64");
    expect(schemaArch("x64")).toBe("x86_64");
    expect(schemaArch("arm", "7")).toBe("armv7l");
    expect(schemaArch("arm", "6")).toBe("other");
    expect(schemaArch("riscv64")).toBe("riscv64");
    expect(schemaArch("ppc64")).toBe("other");
  });

  it("names SoCs it has no table entry for from the device tree", () => {
    expect(socName(["radxa,rock-2a", "rockchip,rk3528"])).toBe("Rockchip RK3528");
    expect(socName(["raspberrypi,5-model-b", "brcm,bcm2712"])).toBe("Broadcom BCM2712");
    expect(socName([])).toBeUndefined();
  });
});

describe("thermal and throttling", () => {
  it("reads only the current-state bits of get_throttled", () => {
    expect(parseThrottled("0")).toBe(false);
    expect(parseThrottled("50000")).toBe(false);
    expect(parseThrottled("50005")).toBe(true);
    expect(parseThrottled("0x80008")).toBe(true);
    expect(parseThrottled("throttled=0x4")).toBe(true);
    expect(parseThrottled("garbage")).toBeUndefined();
  });

  it("is undefined where the platform does not report it", async () => {
    expect(await readThrottled(fixture("thinkpad-x1c9"))).toBeUndefined();
    expect(await readThrottled(fixture("rpi4b"))).toBe(false);
    const throttled = await tree({ "sys/devices/platform/soc/soc:firmware/get_throttled": "50005\n" });
    expect(await readThrottled(throttled)).toBe(true);
    expect(await readThermal(await tree({}))).toEqual([]);
  });
});

describe("energy meters", () => {
  it("integrates sampled power with the trapezoid rule over the sample times", async () => {
    const clock = fakeClock();
    const watts = [2, 4, 4, 8];
    let i = 0;
    const meter = powerMeter("other", "test", async () => watts[Math.min(i++, watts.length - 1)] ?? 0, {
      clock,
      intervalMs: 100,
    });
    await meter.start(); // 2 W at 0 ms
    await clock.advance(200); // 4 W at 100 ms, 4 W at 200 ms
    const reading = await meter.stop(); // 8 W at 200 ms
    // (2+4)/2·0.1 + (4+4)/2·0.1 + (4+8)/2·0 = 0.7 J over 200 ms
    expect(reading.joules).toBeCloseTo(0.7, 12);
    expect(reading.averageW).toBeCloseTo(3.5, 12);
    expect(reading).toMatchObject({ durationMs: 200, samples: 4 });
  });

  it("bridges a missed sample and refuses to report energy from fewer than two", async () => {
    expect(
      integrate("x", [
        { t: 0, w: 10 },
        { t: 1000, w: 10 },
      ]).joules,
    ).toBe(10);
    expect(() => integrate("x", [{ t: 0, w: 10 }])).toThrow(/too few/);
    const clock = fakeClock();
    let calls = 0;
    const flaky = powerMeter(
      "other",
      "test",
      async () => {
        calls++;
        if (calls === 2) throw new Error("sensor busy");
        return 5;
      },
      { clock, intervalMs: 100 },
    );
    await flaky.start();
    await clock.advance(300);
    const reading = await flaky.stop();
    expect(reading.joules).toBeCloseTo(1.5, 12);
    expect(reading.samples).toBe(4);
  });

  it("adds counter deltas, unwrapping each counter at its own range", async () => {
    const clock = fakeClock();
    const values = [
      [900, 50],
      [100, 80],
    ];
    let read = 0;
    const meter = counterMeter(
      "rapl",
      "test",
      async () => (values[Math.min(read++, 1)] ?? []).map((v) => ({ microjoules: v * 1e6, rangeMicrojoules: 1000e6 })),
      { clock, pollMs: 10_000 },
    );
    await meter.start();
    clock.set(2000);
    // (1000 − 900 + 100) + (80 − 50) = 230 J in 2 s
    expect(await meter.stop()).toEqual({ joules: 230, averageW: 115, durationMs: 2000, samples: 2 });
  });

  it("sums nvidia-smi power.draw over GPUs, and refuses boards without a power sensor", async () => {
    expect(parseNvidiaSmiPower("123.45\n56.55\n")).toBeCloseTo(180, 9);
    expect(() => parseNvidiaSmiPower("[N/A]\n")).toThrow();
    const draws = ["30.00\n", "50.00\n", "50.00\n"];
    const exec: Exec = async (file, args) => {
      expect(file).toBe("nvidia-smi");
      expect(args).toEqual(["--query-gpu=power.draw", "--format=csv,noheader,nounits"]);
      return draws.shift() ?? "50.00\n";
    };
    const clock = fakeClock();
    const root = await tree({});
    const meter = await openEnergyMeter({ root, exec, clock, intervalMs: 100 });
    expect(meter?.source).toBe("nvml");
    await meter?.start(); // 50 W (the probe read took the 30 W line)
    clock.set(1000);
    const reading = await meter?.stop();
    expect(reading?.joules).toBeCloseTo(50, 9);
    const unsupported: Exec = async () => "[N/A]\n";
    expect(await openEnergyMeter({ root, exec: unsupported })).toBeNull();
  });

  it("multiplies the Pi 5 PMIC rails' volts by amps, leaving out rails with only a voltage", async () => {
    const adc = [
      "     VDD_CORE_A current(7)=2.00000000A",
      "      3V3_SYS_A current(1)=0.10000000A",
      "     VDD_CORE_V volt(15)=0.80000000V",
      "      3V3_SYS_V volt(9)=3.30000000V",
      "      EXT5V_V volt(24)=5.15541000V",
      "       BATT_V volt(25)=0.00000000V",
      "",
    ].join("\n");
    const parsed = parsePmicAdc(adc);
    expect(parsed.rails).toEqual(["VDD_CORE", "3V3_SYS"]);
    expect(parsed.watts).toBeCloseTo(1.6 + 0.33, 12);
    const pi5 = await tree({ "proc/device-tree/model": "Raspberry Pi 5 Model B Rev 1.0\0" });
    const exec: Exec = async (file, args) => {
      expect([file, ...args]).toEqual(["vcgencmd", "pmic_read_adc"]);
      return adc;
    };
    const meter = await openEnergyMeter({ root: pi5, exec, clock: fakeClock() });
    expect(meter?.source).toBe("rpi_pmic");
    expect(meter?.notes).toContain("2 rails");
  });

  it("chooses which INA3221 rails make the total", () => {
    const agx = [{ label: "VDD_GPU_SOC" }, { label: "VDD_CPU_CV" }, { label: "VIN_SYS_5V0" }];
    expect(selectRails(agx)).toEqual(agx);
    expect(selectRails([{ label: "VDD_IN" }, { label: "VDD_CPU_GPU_CV" }, { label: "VDD_SOC" }])).toEqual([
      { label: "VDD_IN" },
    ]);
  });
});

describe("this machine", () => {
  it("fingerprints as a valid Device", async () => {
    const device = await detectDevice();
    expectValid(device);
    expect(device.cpu?.arch).toBeDefined();
    expect(device.ramBytes).toBeGreaterThan(0);
  });

  it("defaults to at least one thread and no more than this process may use", () => {
    const cores = physicalCores();
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(cores).toBeLessThanOrEqual(availableParallelism());
  });

  it("measures a plausible memory bandwidth (a sanity bound, not a timing assertion)", async () => {
    const result = await measureMemoryBandwidth({ durationMs: 300 });
    expect(result.bytesPerSec).toBeGreaterThan(100e6);
    expect(result.bytesPerSec).toBeLessThan(2e12);
    expect(result.method).toMatch(/copy/);
  });
});
