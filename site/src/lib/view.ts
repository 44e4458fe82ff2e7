// What pages derive from the data before showing it: groupings, the few figures a sweep point or a
// reference stands for, label/value lists that skip what is absent. No fetching here (registry.ts
// does that) and no markup (the .astro files do that).
import type { RunRow } from "../../../schema/api.ts";
import { amountValue, type Config, type Measurement, type Memory, type Quality, type Score } from "../../../schema/bundle.ts";
import { DASH, formatBool, formatNumber, type Maybe } from "./format.ts";

/** One line of a label/value list. */
export interface Fact {
  label: string;
  value: string;
}

/** Label/value pairs with absent values dropped, so an empty section can be left out. */
export function facts(entries: ReadonlyArray<readonly [string, Maybe<string>]>): Fact[] {
  return entries.flatMap(([label, value]) =>
    value === null || value === undefined || value === "" || value === DASH ? [] : [{ label, value }],
  );
}

/** Peak memory by the same rule as a leaderboard row: the reported peak, else RSS plus VRAM. */
export function peakMemory(memory: Maybe<Memory>): number | null {
  const reported = amountValue(memory?.peakReportedBytes);
  if (reported !== undefined) return reported;
  const rss = amountValue(memory?.peakRssBytes);
  const vram = amountValue(memory?.peakVramBytes);
  if (rss === undefined && vram === undefined) return null;
  return (rss ?? 0) + (vram ?? 0);
}

export interface PrimaryScore {
  suite: string;
  score: Score;
}

/** A quality block's headline score: the first primary score with a value, else the first score with one. */
export function primaryScore(quality: Maybe<Quality>): PrimaryScore | undefined {
  const all = (quality?.suites ?? []).flatMap((suite) =>
    (suite.scores ?? []).map((score) => ({ suite: suite.name, score })),
  );
  const withValue = all.filter((s) => s.score.value !== undefined);
  return withValue.find((s) => s.score.primary) ?? withValue[0];
}

/** Reads a config field by its sweep name: "batchSize", "sampling.temperature". */
export function configValue(config: Config, path: string): unknown {
  let current: unknown = config;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A config value as text, whatever its type. */
export function formatConfigValue(value: unknown): string {
  if (value === undefined || value === null) return DASH;
  if (typeof value === "number") return formatNumber(value, { exact: true });
  if (typeof value === "boolean") return formatBool(value);
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(formatConfigValue).join(", ");
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${formatConfigValue(v)}`)
      .join(", ");
  }
  return String(value);
}

/** The config fields of a point that are not among the swept parameters, as "name: value" text. */
export function otherConfig(config: Config, parameters: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (value: unknown, prefix: string) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, prefix ? `${prefix}.${key}` : key);
      return;
    }
    if (!parameters.includes(prefix) && value !== undefined) out.push(`${prefix}: ${formatConfigValue(value)}`);
  };
  walk(config, "");
  return out;
}

/** A measurement's size in tokens as llama-bench names it: "pp512", "tg128", "pp512+tg128". */
export function testName(m: Measurement): string | undefined {
  const parts: string[] = [];
  if (m.nPrompt !== undefined) parts.push(`pp${m.nPrompt}`);
  if (m.nGen !== undefined) parts.push(`tg${m.nGen}`);
  const name = parts.join("+");
  if (!name) return undefined;
  return m.depth ? `${name} @ d${m.depth}` : name;
}

export interface BoardGroup {
  key: string;
  title: string;
  href: string;
  rows: RunRow[];
}

/**
 * A model's rows grouped by hardware (the hardware with the fastest ranked run first), and within
 * one hardware, rows of the same quantization next to each other (the variant with the fastest run
 * first), ranked rows before rows ranked apart.
 */
export function groupByHardware(rows: readonly RunRow[]): BoardGroup[] {
  const groups = new Map<string, BoardGroup>();
  for (const row of rows) {
    let group = groups.get(row.hardwareSlug);
    if (!group) {
      group = {
        key: row.hardwareSlug,
        title: row.hardwareName,
        href: `/hardware/${row.hardwareSlug}/`,
        rows: [],
      };
      groups.set(row.hardwareSlug, group);
    }
    group.rows.push(row);
  }
  for (const group of groups.values()) group.rows = byQuantization(group.rows);
  return [...groups.values()];
}

/** Keeps leaderboard order, but pulls each quantization's rows together at its first (best) place. */
export function byQuantization(rows: readonly RunRow[]): RunRow[] {
  const order = new Map<string, number>();
  for (const row of rows) {
    const key = row.quantization ?? "";
    if (!order.has(key)) order.set(key, order.size);
  }
  return rows
    .map((row, index) => ({ row, index }))
    .sort(
      (a, b) =>
        (order.get(a.row.quantization ?? "") ?? 0) - (order.get(b.row.quantization ?? "") ?? 0) ||
        Number(a.row.rankedApart) - Number(b.row.rankedApart) ||
        a.index - b.index,
    )
    .map(({ row }) => row);
}

/** The quantizations a model was run in, in order of first appearance. */
export function quantizations(rows: readonly RunRow[]): string[] {
  return [...new Set(rows.map((r) => r.quantization ?? "unspecified"))];
}

/** The first `limit` items, and how many were left out. */
export function capped<T>(items: readonly T[], limit: number): { shown: T[]; hidden: number } {
  return { shown: items.slice(0, limit), hidden: Math.max(0, items.length - limit) };
}
