// Thermal state, throttling and energy, read from the sensors a platform really has. Energy is only ever
// measured: a meter exists when a sensor does, says which sensor it is, and is null otherwise. Nothing
// here estimates power from utilisation or a TDP.
import { execFile } from "node:child_process";
import type { Device, Energy } from "../../schema/bundle.ts";
import { list, readInt, readText } from "./sysfs.ts";

export type Thermal = NonNullable<Device["thermal"]>;
export type EnergySource = Energy["source"];

// Readings outside this range are drivers' "no sensor" placeholders (Jetson Orin Nano reports its
// absent CV zones as -256 °C), not temperatures.
const PLAUSIBLE_C = { min: -60, max: 200 };

/** Every /sys/class/thermal zone with a readable temperature, millidegrees converted to °C. */
export async function readThermal(root = "/"): Promise<Thermal> {
  const zones: Thermal = [];
  for (const zone of await list(root, "/sys/class/thermal")) {
    if (!/^thermal_zone\d+$/.test(zone)) continue;
    const milli = await readInt(root, `/sys/class/thermal/${zone}/temp`);
    if (milli === undefined) continue;
    const temperatureC = milli / 1000;
    if (temperatureC < PLAUSIBLE_C.min || temperatureC > PLAUSIBLE_C.max) continue;
    const type = (await readText(root, `/sys/class/thermal/${zone}/type`))?.slice(0, 64);
    zones.push(type ? { zone, type, temperatureC } : { zone, temperatureC });
    if (zones.length === 64) break;
  }
  return zones;
}

// Raspberry Pi firmware's get_throttled word: bits 0–3 are the current state (under-voltage, ARM
// frequency capped, throttled, soft temperature limit); bits 16–19 say the same happened since boot.
const THROTTLED_NOW = 0xf;

/** Whether a get_throttled word ("50005", "0x50000") says the board is limited right now. */
export function parseThrottled(text: string | undefined): boolean | undefined {
  const match = text === undefined ? null : /^(?:throttled=)?(?:0x)?([0-9a-f]+)$/i.exec(text.trim());
  if (!match?.[1]) return undefined;
  return (Number.parseInt(match[1], 16) & THROTTLED_NOW) !== 0;
}

/**
 * Throttling as the platform reports it, or undefined where it does not. Raspberry Pi: the firmware's
 * get_throttled sysfs file (hex, e.g. "50000"); kernels that dropped it keep the under-voltage alarm
 * in the rpi_volt hwmon.
 */
export async function readThrottled(root = "/"): Promise<boolean | undefined> {
  // /sys/devices/platform/soc/soc:firmware on the Pi 4; the soc node carries a unit address on newer
  // device trees, so look for the firmware node under any soc* bus rather than one spelling.
  for (const bus of await list(root, "/sys/devices/platform")) {
    if (!bus.startsWith("soc")) continue;
    for (const node of await list(root, `/sys/devices/platform/${bus}`)) {
      if (!node.endsWith(":firmware")) continue;
      const state = parseThrottled(await readText(root, `/sys/devices/platform/${bus}/${node}/get_throttled`));
      if (state !== undefined) return state;
    }
  }
  for (const hwmon of await list(root, "/sys/class/hwmon")) {
    if ((await readText(root, `/sys/class/hwmon/${hwmon}/name`)) !== "rpi_volt") continue;
    const alarm = await readInt(root, `/sys/class/hwmon/${hwmon}/in0_lcrit_alarm`);
    if (alarm !== undefined) return alarm !== 0;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// energy

export interface EnergyReading {
  joules: number;
  averageW: number;
  durationMs: number;
  /** Readings taken: two for a counter read at start and stop, more for a sampled power sensor. */
  samples: number;
}

export interface EnergyMeter {
  readonly source: EnergySource;
  /** What the sensor covers, for Energy.notes: which rails or domains, and what they leave out. */
  readonly notes: string;
  start(): Promise<void>;
  /** Throws if the sensor stopped answering, so a broken reading is never reported as energy. */
  stop(): Promise<EnergyReading>;
}

/** Time as the meters see it: injectable so tests drive sampling without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  // Unref'd: a meter's pending poll must never keep the process alive after the run has ended.
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
};

/** Runs a tool and answers its stdout; rejects when it is missing, fails or takes too long. */
export type Exec = (file: string, args: string[]) => Promise<string>;

export const realExec: Exec = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: 2000, maxBuffer: 1 << 20, env: { ...process.env, LC_ALL: "C" } },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });

const noExec: Exec = async (file) => {
  throw new Error(`${file}: not run under a fake root`);
};

/** Resolves when `stop` is called, so a sampling loop never waits out a sleep after the run ended. */
function stopSignal(): { promise: Promise<void>; fire: () => void } {
  let fire = () => {};
  const promise = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { promise, fire };
}

/** A counter in microjoules together with the value at which it wraps back to zero. */
export interface Counter {
  microjoules: number;
  rangeMicrojoules: number;
}

/**
 * An energy counter (RAPL): read at start and at stop, the difference is the energy. The counter is
 * also read every `pollMs` in between, only so a run long enough for it to wrap more than once (RAPL's
 * range is ~262 kJ: minutes at a desktop's package power) is still counted right.
 */
export function counterMeter(
  source: EnergySource,
  notes: string,
  read: () => Promise<Counter[]>,
  { clock = realClock, pollMs = 1000 }: { clock?: Clock; pollMs?: number } = {},
): EnergyMeter {
  let last: Counter[] = [];
  let microjoules = 0;
  let startedAt = 0;
  let reads = 0;
  let signal = stopSignal();
  let loop: Promise<void> = Promise.resolve();
  let running = false;

  async function accumulate(): Promise<void> {
    const now = await read();
    if (now.length !== last.length) throw new Error(`${source}: the set of energy counters changed during the run`);
    now.forEach((counter, i) => {
      const before = last[i]?.microjoules ?? counter.microjoules;
      const delta = counter.microjoules - before;
      microjoules += delta >= 0 ? delta : delta + counter.rangeMicrojoules;
    });
    last = now;
    reads++;
  }

  return {
    source,
    notes,
    async start() {
      if (running) throw new Error(`${source}: meter already started`);
      last = await read();
      startedAt = clock.now();
      microjoules = 0;
      reads = 1;
      running = true;
      signal = stopSignal();
      loop = (async () => {
        while (running) {
          await Promise.race([clock.sleep(pollMs), signal.promise]);
          if (!running) break;
          // A failed poll is retried at the next one; stop() decides whether the run is measurable.
          await accumulate().catch(() => {});
        }
      })();
    },
    async stop() {
      if (!running) throw new Error(`${source}: meter not started`);
      running = false;
      signal.fire();
      await loop;
      await accumulate();
      const durationMs = clock.now() - startedAt;
      const joules = microjoules / 1e6;
      return { joules, averageW: durationMs > 0 ? joules / (durationMs / 1000) : 0, durationMs, samples: reads };
    },
  };
}

/**
 * A power sensor (INA3221 rails, NVML, the Pi 5 PMIC): sampled every `intervalMs` and integrated over
 * time with the trapezoid rule. Each sample is stamped at the middle of its read, since a read through
 * a tool (nvidia-smi, vcgencmd) takes tens of milliseconds.
 */
export function powerMeter(
  source: EnergySource,
  notes: string,
  read: () => Promise<number>,
  { clock = realClock, intervalMs = 100 }: { clock?: Clock; intervalMs?: number } = {},
): EnergyMeter {
  let samples: Array<{ t: number; w: number }> = [];
  let signal = stopSignal();
  let loop: Promise<void> = Promise.resolve();
  let running = false;

  async function sample(): Promise<void> {
    const before = clock.now();
    try {
      const w = await read();
      if (Number.isFinite(w) && w >= 0) samples.push({ t: (before + clock.now()) / 2, w });
    } catch {
      // A missed sample: the trapezoid bridges the gap between its neighbours.
    }
  }

  return {
    source,
    notes,
    async start() {
      if (running) throw new Error(`${source}: meter already started`);
      samples = [];
      running = true;
      signal = stopSignal();
      await sample();
      loop = (async () => {
        while (running) {
          await Promise.race([clock.sleep(intervalMs), signal.promise]);
          if (!running) break;
          await sample();
        }
      })();
    },
    async stop() {
      if (!running) throw new Error(`${source}: meter not started`);
      running = false;
      signal.fire();
      await loop;
      await sample();
      return integrate(source, samples);
    },
  };
}

export function integrate(source: string, samples: Array<{ t: number; w: number }>): EnergyReading {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || samples.length < 2 || last.t <= first.t) {
    throw new Error(`${source}: too few power samples to integrate (${samples.length})`);
  }
  let joules = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (a && b) joules += ((a.w + b.w) / 2) * ((b.t - a.t) / 1000);
  }
  const durationMs = last.t - first.t;
  return { joules, averageW: joules / (durationMs / 1000), durationMs, samples: samples.length };
}

export interface EnergyOptions {
  root?: string;
  /** Sources to try, in order. Default: whole-board sensors first, then CPU package, then GPU board. */
  prefer?: EnergySource[];
  exec?: Exec;
  clock?: Clock;
  intervalMs?: number;
}

const DEFAULT_ORDER: EnergySource[] = ["ina3221", "rpi_pmic", "rapl", "nvml"];

/**
 * The first energy sensor this machine has, ready to start, or null when it has none that can be read
 * (missing hardware, tool or permission). Never throws.
 */
export async function openEnergyMeter(options: EnergyOptions = {}): Promise<EnergyMeter | null> {
  const root = options.root ?? "/";
  const context: OpenContext = {
    root,
    // Under a fake root, tools on the machine running the tests must not answer for the fake device.
    exec: options.exec ?? (root === "/" ? realExec : noExec),
    clock: options.clock ?? realClock,
    intervalMs: options.intervalMs ?? 100,
  };
  for (const source of options.prefer ?? DEFAULT_ORDER) {
    const open = OPENERS[source as keyof typeof OPENERS];
    if (!open) continue;
    try {
      const meter = await open(context);
      if (meter) return meter;
    } catch {
      // An unreadable or misbehaving sensor is the same as none.
    }
  }
  return null;
}

interface OpenContext {
  root: string;
  exec: Exec;
  clock: Clock;
  intervalMs: number;
}

const OPENERS = {
  rapl: openRapl,
  ina3221: openIna3221,
  nvml: openNvml,
  rpi_pmic: openRpiPmic,
} satisfies Partial<Record<EnergySource, (c: OpenContext) => Promise<EnergyMeter | null>>>;

const POWERCAP = "/sys/class/powercap";

/**
 * RAPL through the powercap sysfs: every CPU package (intel-rapl:N named package-N) plus its DRAM
 * subdomain where the platform has one, since decode is memory-bound. psys is left out because it
 * overlaps the package. energy_uj is root-only on kernels since 5.10 (CVE-2020-8694), hence null.
 */
async function openRapl({ root, clock }: OpenContext): Promise<EnergyMeter | null> {
  const zones: Array<{ path: string; name: string; range: number }> = [];
  const entries = await list(root, POWERCAP);
  for (const entry of entries) {
    if (!/^intel-rapl:\d+$/.test(entry)) continue;
    const name = await readText(root, `${POWERCAP}/${entry}/name`);
    if (!name?.startsWith("package")) continue;
    const domains = [entry, ...entries.filter((e) => e.startsWith(`${entry}:`))];
    for (const domain of domains) {
      const domainName = domain === entry ? name : await readText(root, `${POWERCAP}/${domain}/name`);
      if (domain !== entry && domainName !== "dram") continue;
      const range = await readInt(root, `${POWERCAP}/${domain}/max_energy_range_uj`);
      const value = await readInt(root, `${POWERCAP}/${domain}/energy_uj`);
      if (range === undefined || range <= 0 || value === undefined) continue;
      zones.push({ path: `${POWERCAP}/${domain}/energy_uj`, name: domainName ?? domain, range });
    }
  }
  if (zones.length === 0) return null;
  const read = async (): Promise<Counter[]> =>
    Promise.all(
      zones.map(async (z) => {
        const microjoules = await readInt(root, z.path);
        if (microjoules === undefined) throw new Error(`rapl: ${z.path} unreadable`);
        return { microjoules, rangeMicrojoules: z.range };
      }),
    );
  const names = zones.map((z) => z.name).join(" + ");
  return counterMeter(
    "rapl",
    `RAPL energy counters (${names}): CPU package${zones.some((z) => z.name === "dram") ? " and DRAM" : ""} only; ` +
      "excludes discrete GPU, display and the rest of the board",
    read,
    { clock },
  );
}

interface Rail {
  label: string;
  read: () => Promise<number>;
}

/** Rails that measure the whole module input: when one exists it alone is the total, the others are parts of it. */
const TOTAL_RAIL = /^(?:VDD_IN|POM_5V_IN|5V_IN|VIN)$/i;

/** Which INA3221 rails make up the total: the module input rail if there is one, else every named rail. */
export function selectRails<T extends { label: string }>(rails: T[]): T[] {
  const total = rails.filter((r) => TOTAL_RAIL.test(r.label));
  return total.length > 0 ? total : rails;
}

/**
 * Jetson's INA3221 power monitors through hwmon: per channel a label, bus voltage (in*_input, mV) and
 * current (curr*_input, mA), or a power*_input (µW) where the driver has it.
 */
async function openIna3221({ root, clock, intervalMs }: OpenContext): Promise<EnergyMeter | null> {
  const rails: Rail[] = [];
  for (const hwmon of await list(root, "/sys/class/hwmon")) {
    const dir = `/sys/class/hwmon/${hwmon}`;
    if ((await readText(root, `${dir}/name`)) !== "ina3221") continue;
    for (let channel = 1; channel <= 3; channel++) {
      const label = await readText(root, `${dir}/in${channel}_label`);
      // Unlabelled, not-connected and summation channels are not rails of their own.
      if (!label || /^NC$/i.test(label) || /sum/i.test(label)) continue;
      const powerPath = `${dir}/power${channel}_input`;
      const voltPath = `${dir}/in${channel}_input`;
      const currPath = `${dir}/curr${channel}_input`;
      if ((await readInt(root, powerPath)) !== undefined) {
        rails.push({ label, read: async () => microwatts(await readInt(root, powerPath)) });
      } else if ((await readInt(root, voltPath)) !== undefined && (await readInt(root, currPath)) !== undefined) {
        rails.push({
          label,
          read: async () => {
            const [mv, ma] = await Promise.all([readInt(root, voltPath), readInt(root, currPath)]);
            if (mv === undefined || ma === undefined) throw new Error(`ina3221: ${label} unreadable`);
            return (mv * ma) / 1e6;
          },
        });
      }
    }
  }
  const used = selectRails(rails);
  if (used.length === 0) return null;
  const labels = used.map((r) => r.label).join(" + ");
  const whole = used.some((r) => TOTAL_RAIL.test(r.label));
  return powerMeter(
    "ina3221",
    `INA3221 rails ${labels}, sampled every ${intervalMs} ms: ` +
      `${whole ? "module input power" : "sum of the module's monitored rails"}; ` +
      "excludes the carrier board and peripherals",
    async () => (await Promise.all(used.map((r) => r.read()))).reduce((a, b) => a + b, 0),
    { clock, intervalMs },
  );
}

function microwatts(value: number | undefined): number {
  if (value === undefined) throw new Error("power input unreadable");
  return value / 1e6;
}

/** nvidia-smi's power.draw, one line per GPU in watts ("[N/A]" where the board has no sensor). */
export function parseNvidiaSmiPower(stdout: string): number {
  const lines = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0 || !lines.every((l) => /^\d+(?:\.\d+)?$/.test(l))) {
    throw new Error(`nvml: no power reading in ${JSON.stringify(stdout.slice(0, 80))}`);
  }
  return lines.reduce((sum, l) => sum + Number(l), 0);
}

async function openNvml({ exec, clock, intervalMs }: OpenContext): Promise<EnergyMeter | null> {
  const args = ["--query-gpu=power.draw", "--format=csv,noheader,nounits"];
  const read = async () => parseNvidiaSmiPower(await exec("nvidia-smi", args));
  const first = await read();
  if (!Number.isFinite(first)) return null;
  return powerMeter(
    "nvml",
    `NVML board power of every NVIDIA GPU (nvidia-smi power.draw), sampled every ${intervalMs} ms; ` +
      "excludes CPU, memory and the rest of the system",
    read,
    { clock, intervalMs },
  );
}

/**
 * `vcgencmd pmic_read_adc` on a Raspberry Pi 5: lines like "3V3_SYS_A current(1)=0.05562500A" and
 * "3V3_SYS_V volt(9)=3.31509600V". Rails with both a current and a voltage are multiplied and summed.
 */
export function parsePmicAdc(stdout: string): { watts: number; rails: string[] } {
  const amps = new Map<string, number>();
  const volts = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const match = /^\s*(\S+)_([AV])\s+(?:current|volt)\(\d+\)=([\d.]+)[AV]\s*$/.exec(line);
    if (!match?.[1] || !match[3]) continue;
    (match[2] === "A" ? amps : volts).set(match[1], Number(match[3]));
  }
  let watts = 0;
  const rails: string[] = [];
  for (const [rail, a] of amps) {
    const v = volts.get(rail);
    if (v === undefined) continue;
    watts += v * a;
    rails.push(rail);
  }
  if (rails.length === 0) throw new Error("rpi_pmic: no rail has both a voltage and a current");
  return { watts, rails };
}

async function openRpiPmic({ root, exec, clock, intervalMs }: OpenContext): Promise<EnergyMeter | null> {
  // Only Raspberry Pi boards have the firmware call; do not spawn vcgencmd anywhere else.
  const model =
    (await readText(root, "/proc/device-tree/model")) ?? (await readText(root, "/sys/firmware/devicetree/base/model"));
  if (!model?.startsWith("Raspberry Pi")) return null;
  const read = async () => parsePmicAdc(await exec("vcgencmd", ["pmic_read_adc"])).watts;
  const { rails } = parsePmicAdc(await exec("vcgencmd", ["pmic_read_adc"]));
  return powerMeter(
    "rpi_pmic",
    `Raspberry Pi PMIC ADC, volts × amps summed over ${rails.length} rails, sampled every ${intervalMs} ms; ` +
      "excludes PMIC conversion losses and USB/peripheral power from the 5 V input",
    read,
    { clock, intervalMs },
  );
}
