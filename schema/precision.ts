// How exact a figure is: a measurement's headline, or an amount such as peak memory. Shared by the
// API (a run's glance, GET /v1/runs/glances) and the site (the "~", "≥" and "≤" marks beside figures).
import type * as z from "zod";
import { type Amount, amountValue, type Measurement, type Memory, type Precision } from "./bundle.ts";

type Maybe<T> = T | null | undefined;
type PrecisionValue = z.infer<typeof Precision>;

/**
 * How exact a measurement's single figure (schema/summary.ts's centralValue) is: its own precision,
 * or approximate when the figure is the middle of a reported range, a bound when only one end is known.
 */
export function centralPrecision(m: Maybe<Measurement>): PrecisionValue | undefined {
  if (!m) return undefined;
  if (m.precision && m.precision !== "exact") return m.precision;
  if (m.mean !== undefined || m.median !== undefined || m.p50 !== undefined || m.samples?.length) return m.precision;
  if (m.min !== undefined && m.max !== undefined) return "approximate";
  if (m.min !== undefined) return "lower_bound";
  if (m.max !== undefined) return "upper_bound";
  return m.precision;
}

/** How exact an amount is: its own precision, or what a bare range or bound implies. */
export function amountPrecision(amount: Maybe<Amount>): PrecisionValue | undefined {
  if (amount === null || amount === undefined || typeof amount === "number") return undefined;
  if (amount.precision && amount.precision !== "exact") return amount.precision;
  if (amount.value !== undefined || amount.precision === "exact") return undefined;
  if (amount.min !== undefined && amount.max !== undefined) return "approximate";
  return amount.min !== undefined ? "lower_bound" : "upper_bound";
}

/** The precision of `peakMemory`'s figure (a reported range's middle is approximate). */
export function peakMemoryPrecision(memory: Maybe<Memory>): PrecisionValue | undefined {
  if (!memory) return undefined;
  if (amountValue(memory.peakReportedBytes) !== undefined) return amountPrecision(memory.peakReportedBytes);
  return amountPrecision(memory.peakRssBytes);
}

/** How exact a run's headline figures are, as a leaderboard row marks them (GET /v1/runs/glances). */
export function figurePrecisions(
  picked: { decode: Maybe<Measurement>; prefill: Maybe<Measurement>; ttft: Maybe<Measurement> },
  memory: Maybe<Memory>,
) {
  return {
    decode: centralPrecision(picked.decode) ?? null,
    prefill: centralPrecision(picked.prefill) ?? null,
    ttft: centralPrecision(picked.ttft) ?? null,
    peakMemory: peakMemoryPrecision(memory) ?? null,
    peakVram: amountPrecision(memory?.peakVramBytes) ?? null,
  };
}
