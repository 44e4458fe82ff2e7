// Declared targets (--target decode_tps>=2 --target ttft_ms<=200 --target quality>=80%), checked
// against what the run measured and stored with pass/fail (seed report 002's success criteria).
import { TARGET_METRIC_UNITS, type Target, type TargetMetric } from "../../schema/bundle.ts";
import { CliError, EXIT_USAGE } from "../errors.ts";
import { parseBytes, parseDuration } from "../lib/units.ts";

type Op = "<" | "<=" | ">" | ">=";

export interface TargetSpec {
  metric: TargetMetric;
  op: Op;
  threshold: number;
  text: string;
}

const METRICS = Object.keys(TARGET_METRIC_UNITS) as TargetMetric[];

export function parseTarget(text: string): TargetSpec {
  const match = text.trim().match(/^([a-z_]+)\s*(<=|>=|<|>)\s*(\S+)$/);
  if (!match) throw usage(text, "expected <metric><op><value>, e.g. decode_tps>=2");
  const [, name, op, value] = match as unknown as [string, string, Op, string];
  if (!METRICS.includes(name as TargetMetric))
    throw usage(text, `unknown metric ${name}; one of ${METRICS.join(", ")}`);
  const metric = name as TargetMetric;
  const threshold = parseThreshold(metric, value);
  if (threshold === undefined) throw usage(text, `${value} is not a value in ${TARGET_METRIC_UNITS[metric]}`);
  return { metric, op, threshold, text: text.trim() };
}

function parseThreshold(metric: TargetMetric, value: string): number | undefined {
  const unit = TARGET_METRIC_UNITS[metric];
  if (unit === "fraction" && value.endsWith("%")) return numberOrUndefined(value.slice(0, -1), 0.01);
  if (unit === "bytes") return parseBytes(value);
  if (unit === "ms" && /[a-z]$/.test(value)) {
    try {
      return parseDuration(value, metric);
    } catch {
      return undefined;
    }
  }
  return numberOrUndefined(value, 1);
}

function numberOrUndefined(text: string, factor: number): number | undefined {
  const n = Number(text);
  return text.trim() !== "" && Number.isFinite(n) ? n * factor : undefined;
}

function usage(text: string, why: string): CliError {
  return new CliError(`--target ${JSON.stringify(text)}: ${why}`, EXIT_USAGE);
}

const holds = (actual: number, op: Op, threshold: number) =>
  op === "<"
    ? actual < threshold
    : op === "<="
      ? actual <= threshold
      : op === ">"
        ? actual > threshold
        : actual >= threshold;

/** A target's verdict; a metric the run did not measure fails, and says so. */
export function evaluateTarget(spec: TargetSpec, actual: number | undefined): Target {
  const base = {
    unit: TARGET_METRIC_UNITS[spec.metric],
    op: spec.op,
    threshold: spec.threshold,
    label: actual === undefined ? `${spec.text} (not measured in this run)` : spec.text,
    passed: actual !== undefined && holds(actual, spec.op, spec.threshold),
    ...(actual === undefined ? {} : { actual }),
  };
  return { ...base, metric: spec.metric } as Target;
}
