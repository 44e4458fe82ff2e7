// Formatting for the site: every figure leaves here with its unit, and a missing figure is a dash,
// never 0. Two precisions: `compact` for tables that compare runs, `exact` for the run page, which
// shows every digit a bundle holds (nothing is lost).
import type * as z from "zod";
import type { Amount, Precision as PrecisionSchema } from "../../../schema/bundle.ts";

export type Precision = z.infer<typeof PrecisionSchema>;

/** What an absent value reads as. */
export const DASH = "—";

export type Maybe<T> = T | null | undefined;

export function isPresent<T>(value: Maybe<T>): value is T {
  return value !== null && value !== undefined && !(typeof value === "number" && Number.isNaN(value));
}

/** "~" approximate, "≥" lower bound, "≤" upper bound, nothing for exact or unknown. */
export function precisionMark(precision: Maybe<Precision>): string {
  switch (precision) {
    case "approximate":
      return "~";
    case "lower_bound":
      return "≥";
    case "upper_bound":
      return "≤";
    default:
      return "";
  }
}

const PRECISION_WORDS: Record<Precision, string> = {
  exact: "exact",
  approximate: "approximate (~)",
  lower_bound: "lower bound (≥)",
  upper_bound: "upper bound (≤)",
};

export function precisionLabel(precision: Maybe<Precision>): string {
  return precision ? PRECISION_WORDS[precision] : DASH;
}

export interface NumberOptions {
  /** Every digit the number holds (up to 6 decimals), instead of about three significant ones. */
  exact?: boolean;
  precision?: Maybe<Precision>;
}

/** Strips binary noise (0.1 + 0.2) without hiding digits a producer wrote. */
function clean(n: number): number {
  return Number(n.toPrecision(12));
}

// One formatter per shape, made once: `toLocaleString` builds a new one at every call, which costs
// tens of microseconds, and a run page formats thousands of samples per render.
const formatters = new Map<string, Intl.NumberFormat>();

function grouped(n: number, maxFractionDigits: number, minFractionDigits = 0): string {
  const key = `${maxFractionDigits}/${minFractionDigits}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat("en-US", {
      maximumFractionDigits: maxFractionDigits,
      minimumFractionDigits: minFractionDigits,
    });
    formatters.set(key, formatter);
  }
  return formatter.format(n);
}

/** A plain number: compact keeps about three significant digits, exact keeps them all. */
export function formatNumber(value: Maybe<number>, options: NumberOptions = {}): string {
  if (!isPresent(value)) return DASH;
  const mark = precisionMark(options.precision);
  const n = clean(value);
  const abs = Math.abs(n);
  let text: string;
  if (options.exact) {
    text = abs !== 0 && abs < 1e-6 ? n.toPrecision(6).replace(/\.?0+e/, "e") : grouped(n, abs < 1 ? 8 : 6);
  } else if (abs >= 100) text = grouped(n, 0);
  else if (abs >= 10) text = grouped(n, 1);
  else if (abs >= 1) text = grouped(n, 2);
  else if (abs === 0) text = "0";
  else text = grouped(Number(n.toPrecision(3)), 8);
  return `${mark}${text}`;
}

function withUnit(value: Maybe<number>, unit: string, options: NumberOptions = {}): string {
  return isPresent(value) ? `${formatNumber(value, options)} ${unit}` : DASH;
}

/** tokens per second, e.g. "13.5 tok/s". */
export function formatTps(value: Maybe<number>, options: NumberOptions = {}): string {
  return withUnit(value, "tok/s", options);
}

/** milliseconds, e.g. "85.67 ms" (exact) or "85.7 ms". */
export function formatMs(value: Maybe<number>, options: NumberOptions = {}): string {
  return withUnit(value, "ms", options);
}

/** A long span of time: "53 min 30 s", "1 h 30 min", "812 ms". */
export function formatDuration(ms: Maybe<number>, options: NumberOptions = {}): string {
  if (!isPresent(ms)) return DASH;
  const mark = precisionMark(options.precision);
  if (ms < 1000) return `${mark}${formatNumber(ms, { exact: true })} ms`;
  const totalSeconds = clean(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds - hours * 3600) / 60);
  const seconds = clean(totalSeconds - hours * 3600 - minutes * 60);
  const parts: string[] = [];
  if (hours) parts.push(`${grouped(hours, 0)} h`);
  if (minutes) parts.push(`${minutes} min`);
  if (seconds || parts.length === 0) parts.push(`${formatNumber(seconds, { exact: true })} s`);
  return `${mark}${parts.join(" ")}`;
}

const SI_BYTES: Array<[number, string]> = [
  [1e12, "TB"],
  [1e9, "GB"],
  [1e6, "MB"],
  [1e3, "kB"],
];

/**
 * Bytes in SI units ("602 MB", "1.98 GB"). With `exact`, a figure that three digits would round
 * also shows its bytes: "2.10 GB (2,100,321,000 bytes)".
 */
export function formatBytes(value: Maybe<number>, options: NumberOptions = {}): string {
  if (!isPresent(value)) return DASH;
  const mark = precisionMark(options.precision);
  const [scale, unit] = SI_BYTES.find(([s]) => Math.abs(value) >= s) ?? [1, "bytes"];
  const scaled = value / scale;
  const short = `${mark}${formatNumber(scaled)} ${unit}`;
  if (!options.exact || scale === 1) return short;
  const shortValue = Number(formatNumber(scaled).replaceAll(",", "")) * scale;
  return clean(shortValue) === clean(value) ? short : `${short} (${grouped(value, 0)} bytes)`;
}

/** A rate of bytes, e.g. memory bandwidth: "19.2 GB/s". */
export function formatBytesPerSecond(value: Maybe<number>, options: NumberOptions = {}): string {
  const bytes = formatBytes(value, options);
  if (bytes === DASH) return DASH;
  // Every unit in it, the bytes an exact figure adds in brackets too: "129 GB/s (128,569,725,704 B/s)".
  return bytes.replace(/ (TB|GB|MB|kB|bytes)\b/g, (_, unit: string) => ` ${unit === "bytes" ? "B" : unit}/s`);
}

/** A fraction (1 = 100%) as a percentage: "85%", "61.2%"; exact keeps up to four decimals. */
export function formatPercent(value: Maybe<number>, options: NumberOptions = {}): string {
  if (!isPresent(value)) return DASH;
  const mark = precisionMark(options.precision);
  const percent = clean(value * 100);
  return `${mark}${grouped(percent, options.exact ? 4 : 1)}%`;
}

export function formatCelsius(value: Maybe<number>, options: NumberOptions = {}): string {
  return withUnit(value, "°C", options);
}

export function formatWatts(value: Maybe<number>, options: NumberOptions = {}): string {
  return withUnit(value, "W", options);
}

export function formatJoulesPerToken(value: Maybe<number>, options: NumberOptions = {}): string {
  return withUnit(value, "J/token", options);
}

export function formatUsd(value: Maybe<number>, options: NumberOptions = {}): string {
  return isPresent(value)
    ? `${precisionMark(options.precision)}$${formatNumber(value, { exact: options.exact })}`
    : DASH;
}

/** A min–max pair with the precision marked once: "~116–152"; one end alone reads "min 3" or "max 3.45". */
export function formatRange(min: Maybe<number>, max: Maybe<number>, options: NumberOptions = {}): string {
  const plain = { exact: options.exact };
  const mark = precisionMark(options.precision);
  if (isPresent(min) && isPresent(max)) return `${mark}${formatNumber(min, plain)}–${formatNumber(max, plain)}`;
  if (isPresent(min)) return `min ${mark}${formatNumber(min, plain)}`;
  if (isPresent(max)) return `max ${mark}${formatNumber(max, plain)}`;
  return DASH;
}

/** Whether a measurement was the first after loading; absent when the source did not say. */
export function formatCold(cold: Maybe<boolean>): string {
  return isPresent(cold) ? (cold ? "cold" : "warm") : "not stated";
}

/** A count of things, e.g. "1,540,000,000 parameters" → "1.54 B parameters". */
export function formatParameters(value: Maybe<number>): string {
  if (!isPresent(value)) return DASH;
  if (value >= 1e9) return `${formatNumber(value / 1e9)} B`;
  if (value >= 1e6) return `${formatNumber(value / 1e6)} M`;
  return grouped(value, 0);
}

export function formatInt(value: Maybe<number>): string {
  return isPresent(value) ? grouped(value, 0) : DASH;
}

export function formatBool(value: Maybe<boolean>, yes = "yes", no = "no"): string {
  return isPresent(value) ? (value ? yes : no) : DASH;
}

/** A value in the unit a measurement or target declares. */
export function formatInUnit(value: Maybe<number>, unit: string, options: NumberOptions = {}): string {
  switch (unit) {
    case "tokens/s":
      return formatTps(value, options);
    case "ms":
      return formatMs(value, options);
    case "bytes":
      return formatBytes(value, options);
    case "fraction":
      return formatPercent(value, options);
    case "°C":
      return formatCelsius(value, options);
    default:
      return withUnit(value, unit, options);
  }
}

/**
 * A reported figure that may carry its precision or be a range ("~4 GB", "2 GB–4 GB"), formatted by
 * the formatter of its unit.
 */
export function formatAmount(
  amount: Maybe<Amount>,
  format: (value: Maybe<number>, options?: NumberOptions) => string,
  options: { exact?: boolean } = {},
): string {
  if (!isPresent(amount)) return DASH;
  if (typeof amount === "number") return format(amount, options);
  const { value, min, max, precision } = amount;
  const plain = { exact: options.exact };
  const range =
    min !== undefined && max !== undefined
      ? `${format(min, plain)}–${format(max, plain)}`
      : min !== undefined
        ? `at least ${format(min, plain)}`
        : max !== undefined
          ? `at most ${format(max, plain)}`
          : undefined;
  if (value !== undefined) {
    const main = format(value, { ...plain, precision });
    return range ? `${main} (${range})` : main;
  }
  return `${precisionMark(precision)}${range ?? DASH}`;
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/**
 * Dates as the bundle holds them, made readable: "2026-11-20 10:00 UTC"; dates known only to the day,
 * month or year ("2025-10-20", "2025-10") stay as written, and a day without its year ("--10-20")
 * reads "October 20 (year not given)".
 */
export function formatDate(value: Maybe<string>): string {
  if (!isPresent(value)) return DASH;
  const monthDay = /^--(\d{2})-(\d{2})$/.exec(value);
  if (monthDay) {
    const month = MONTHS[Number(monthDay[1]) - 1];
    return month ? `${month} ${Number(monthDay[2])} (year not given)` : value;
  }
  if (!value.includes("T")) return value;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const iso = date.toISOString();
  const time = iso.slice(17, 23) === "00.000" ? iso.slice(11, 16) : iso.slice(11, 19);
  return `${iso.slice(0, 10)} ${time} UTC`;
}

/** The decode figure of a leaderboard row with the test it came from: "13.5 (tg128)". */
export function formatDecodeCell(tps: Maybe<number>, nGen: Maybe<number>, precision?: Maybe<Precision>): string {
  if (!isPresent(tps)) return DASH;
  const size = isPresent(nGen) ? ` (tg${nGen})` : "";
  return `${formatNumber(tps, { precision })}${size}`;
}

export function formatPrefillCell(tps: Maybe<number>, nPrompt: Maybe<number>, precision?: Maybe<Precision>): string {
  if (!isPresent(tps)) return DASH;
  const size = isPresent(nPrompt) ? ` (pp${nPrompt})` : "";
  return `${formatNumber(tps, { precision })}${size}`;
}

/** snake_case and camelCase keys as words: "learning_rate" → "learning rate", "batchSize" → "batch size". */
export function humanize(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replaceAll("_", " ")
    .toLowerCase();
}

/** Where a run came from: "measured", or "imported from llama-bench". */
export function sourceLabel(method: "measured" | "imported", importFormat: Maybe<string>): string {
  if (method === "measured") return "measured";
  return importFormat ? `imported from ${importFormat}` : "imported";
}

/** A run's engine and its version, saying so when the version is not stated: "llama.cpp b4000". */
export function engineVersionLabel(row: { engine: string; engineVersion: Maybe<string> }): string {
  return row.engineVersion ? `${row.engine} ${row.engineVersion}` : `${row.engine} (version not stated)`;
}

/** Why a run is ranked apart, in the order a reader needs them: retraction, quality, then server flags. */
export function apartReasons(row: {
  status: "visible" | "hidden" | "retracted";
  statusReason: string | null;
  qualityStatus: string;
  qualityReason: string | null;
  flags: ReadonlyArray<{ code: string; reason: string; rankApart: boolean }>;
}): string[] {
  const reasons: string[] = [];
  if (row.status === "retracted")
    reasons.push(`Retracted by its submitter${row.statusReason ? `: ${row.statusReason}` : ""}`);
  if (row.qualityStatus === "fail")
    reasons.push(`Failed quality gates${row.qualityReason ? `: ${row.qualityReason}` : ""}`);
  for (const flag of row.flags) if (flag.rankApart) reasons.push(flag.reason);
  return reasons;
}

/** Reproduction levels as a reader says them. */
export const REPRODUCTION_LABEL = {
  single: "one submitter",
  reproduced: "reproduced",
  disputed: "disputed",
} as const;

/** A ratio as a reader says it: "2.41×"; a dash when there is none. */
export function formatRatio(value: Maybe<number>): string {
  if (!isPresent(value) || !Number.isFinite(value)) return DASH;
  return `${formatNumber(value)}×`;
}

/** A relative change with its direction at a glance: "▲ 12.5%" faster, "▼ 3.1%" slower, "= 0%" unchanged. */
export function formatChange(value: Maybe<number>): string {
  if (!isPresent(value) || !Number.isFinite(value)) return DASH;
  const pct = Math.abs(value * 100);
  const text = `${grouped(pct, 1)}%`;
  if (pct < 0.05) return "= 0%";
  return value > 0 ? `▲ ${text}` : `▼ ${text}`;
}

/**
 * How much of a model sat on the GPU, from llama.cpp's -ngl and the model's layer count: "all 28
 * layers on the GPU", "24 / 28 layers on the GPU", "24 layers offloaded" when the layer count is not
 * stated; undefined when nothing was offloaded or the bundle does not say.
 */
export function formatOffload(gpuLayers: Maybe<number>, modelLayers: Maybe<number>): string | undefined {
  if (!isPresent(gpuLayers) || gpuLayers <= 0) return undefined;
  if (!isPresent(modelLayers)) return `${formatInt(gpuLayers)} ${gpuLayers === 1 ? "layer" : "layers"} offloaded`;
  // llama.cpp counts the output layer too: -ngl at or above the layer count puts every layer on the GPU.
  if (gpuLayers >= modelLayers) return `all ${formatInt(modelLayers)} layers on the GPU`;
  return `${formatInt(gpuLayers)} / ${formatInt(modelLayers)} layers on the GPU`;
}

/** A partial offload as a table row shows it ("24 / 28 layers"); undefined for none, all or unknown. */
export function formatPartialOffload(gpuLayers: Maybe<number>, modelLayers: Maybe<number>): string | undefined {
  if (!isPresent(gpuLayers) || !isPresent(modelLayers) || gpuLayers <= 0 || gpuLayers >= modelLayers) return undefined;
  return `${formatInt(gpuLayers)} / ${formatInt(modelLayers)} layers`;
}
