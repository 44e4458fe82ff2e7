// What the Ollama, llama-server, MLX and RKLLM importers share: reading the numbers these tools print
// (durations with units, "x tokens per second", memory sizes), finding JSON responses pasted in a
// capture, and turning repeated runs into measurements. One piece, so every importer converts a
// unit and computes a statistic the same way.
import { MEASUREMENT_UNITS, type Measurement } from "../../../schema/bundle.ts";
import { SIZE_UNITS } from "../../lib/units.ts";
import { mean, stddev } from "../../measure/stats.ts";
import { type ImportContext, ImportError } from "../types.ts";

/** One line of the cleaned text with its 1-based number, for error messages. */
export interface NumberedLine {
  number: number;
  text: string;
}

export function numberedLines(text: string): NumberedLine[] {
  return text.split("\n").map((line, index) => ({ number: index + 1, text: line }));
}

// ---------------------------------------------------------------------------------------------
// numbers and units

const NUMBER = String.raw`\d+(?:\.\d+)?(?:[eE][-+]?\d+)?`;

/** A plain decimal number, or undefined: "1,234" or "12abc" is not one. */
export function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  return new RegExp(`^${NUMBER}$`).test(trimmed) ? Number(trimmed) : undefined;
}

const MS_PER_UNIT: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  µs: 1e-3,
  μs: 1e-3,
  us: 1e-3,
  ns: 1e-6,
};

/**
 * Milliseconds from a duration as Go prints it (Ollama): "5.088275983s", "567.8ms", "12µs",
 * "2m27.98s", "1h2m3s", "0s". Undefined when the text is not such a duration.
 */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  const part = /(\d+(?:\.\d+)?)(h|ms|m|s|µs|μs|us|ns)/gy;
  let total = 0;
  let match: RegExpExecArray | null = part.exec(trimmed);
  while (match) {
    total += Number(match[1]) * (MS_PER_UNIT[match[2] as string] as number);
    if (part.lastIndex === trimmed.length) return total;
    match = part.exec(trimmed);
  }
  return undefined;
}

export const nanosecondsToMs = (ns: number): number => ns / 1e6;

/** tokens/s from a token count and the milliseconds they took; undefined without a duration. */
export function tokensPerSecond(tokens: number, ms: number): number | undefined {
  return ms > 0 ? tokens / (ms / 1000) : undefined;
}

/** The rate in "97.21 tokens per second", "24.61 tokens/s", "45.678 tokens-per-sec", "3.3 t/s". */
export function parseRate(text: string): number | undefined {
  const match = new RegExp(
    `(${NUMBER})\\s*(?:tokens?|tok|t)(?:\\s*per\\s*|\\s*/\\s*|-per-)(?:second|sec|s)\\b`,
    "i",
  ).exec(text);
  return match ? Number(match[1]) : undefined;
}

// Tools print SI units (MLX divides by 1e9 for "GB"; the field reports give "602 MB" for 0.602 GB),
// so GB and MB are powers of ten; GiB and MiB are powers of two, as everywhere in the CLI.
/** Whole bytes from an amount and its unit ("1.234", "GB"); undefined for an unknown unit. */
export function memoryBytes(amount: number, unit: string): number | undefined {
  const factor = SIZE_UNITS[unit.trim().toLowerCase()];
  return factor === undefined ? undefined : Math.round(amount * factor);
}

/**
 * Whether a rate the tool printed agrees with the one computed from its own token count and
 * duration: both come from the same run, so a disagreement beyond the printed rounding means the
 * numbers were edited or a unit was misread.
 */
export function rateAgrees(printed: number, computed: number): boolean {
  return Math.abs(printed - computed) <= Math.max(0.02 * computed, 0.011);
}

/** Six decimals are far below any tool's precision and keep 3.4450000000000003 out of bundles. */
export function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// measurements from runs

/** One figure from one run: a rate in tokens/s or a time in ms, with the token count behind it. */
export interface RunValue {
  value: number;
  /** Tokens processed (prefill) or generated (decode) in this run, when the tool says. */
  tokens?: number | undefined;
  /** True for the first run after a model load, false when the tool says it is warm, else absent. */
  cold?: boolean | undefined;
}

type Kind = Measurement["kind"];

/** Samples (at least one) with their statistics: stddev is the sample standard deviation (n − 1), as llama-bench. */
export function statistics(samples: number[]): {
  samples: number[];
  mean: number;
  stddev?: number;
  min: number;
  max: number;
} {
  const result: { samples: number[]; mean: number; stddev?: number; min: number; max: number } = {
    samples: samples.map(round6),
    mean: round6(mean(samples) as number),
    min: round6(Math.min(...samples)),
    max: round6(Math.max(...samples)),
  };
  const spread = stddev(samples);
  if (spread !== undefined) result.stddev = round6(spread);
  return result;
}

/**
 * Measurements of one kind from runs of one model and configuration. Cold runs are kept apart from
 * warm ones (a first run after loading is not a repetition of the others). Runs are grouped by
 * token count, the test size (like llama-bench's tg128); when no count repeats among several runs,
 * they are free-length replies to one workload, pooled as repetitions of one measurement.
 */
export function measurementsOf(
  kind: Kind,
  runs: RunValue[],
  tokenField: "nPrompt" | "nGen" | undefined,
  notes?: string,
): Measurement[] {
  const measurements: Measurement[] = [];
  for (const cold of [true, undefined, false]) {
    const same = runs.filter((r) => r.cold === cold);
    if (same.length === 0) continue;
    const counts = same.map((r) => r.tokens);
    const repeats = new Set(counts).size < counts.length;
    const groups = new Map<number | undefined, RunValue[]>();
    for (const run of same) {
      const key = repeats || same.length === 1 ? run.tokens : undefined;
      groups.set(key, [...(groups.get(key) ?? []), run]);
    }
    for (const [tokens, group] of groups) {
      const allCounts = [...new Set(group.map((r) => r.tokens))];
      const measurement: Measurement = {
        kind,
        unit: MEASUREMENT_UNITS[kind],
        ...(tokenField && tokens !== undefined ? { [tokenField]: tokens } : {}),
        ...(cold === undefined ? {} : { cold }),
        repetitions: group.length,
        ...statistics(group.map((r) => r.value)),
      } as Measurement;
      const pooled =
        tokenField && tokens === undefined && allCounts.some((c) => c !== undefined)
          ? `Runs of different lengths pooled as repetitions (${tokenField === "nPrompt" ? "prompt" : "generated"} tokens: ${group.map((r) => r.tokens ?? "?").join(", ")}).`
          : undefined;
      const text = [pooled, notes].filter(Boolean).join(" ");
      if (text) measurement.notes = text;
      measurements.push(measurement);
    }
  }
  return measurements;
}

// ---------------------------------------------------------------------------------------------
// JSON responses inside a capture

export interface JsonDocument {
  /** The line the value starts on. */
  line: number;
  value: unknown;
}

/**
 * Every JSON value in a capture: a whole-file JSON, an array, NDJSON, several pretty-printed
 * responses pasted one after another, or server-sent events ("data: {…}"). A value starts at a
 * line beginning with { or [ (after an optional "data:"), so log lines that merely contain a
 * bracket, or begin with a bracketed tag ("[GIN] …"), are left alone. A value still open at the
 * end of the file was cut off.
 */
export function jsonDocuments(text: string, context: ImportContext): JsonDocument[] {
  const documents: JsonDocument[] = [];
  const lines = text.split("\n");
  let index = 0;
  while (index < lines.length) {
    const raw = lines[index] as string;
    // The end-of-stream marker of server-sent events is not JSON.
    if (/^\s*data:\s*\[DONE\]\s*$/.test(raw)) {
      index++;
      continue;
    }
    // "[" must open a JSON array, not a log prefix such as Ollama's "[GIN] 2025/04/30 - …".
    const start = /^\s*(?:data:\s*)?(?=\{|\[\s*(?:[{["\d\]-]|true\b|false\b|null\b|$))/.exec(raw);
    if (!start) {
      index++;
      continue;
    }
    const startLine = index + 1;
    let depth = 0;
    let inString = false;
    let escaped = false;
    let collected = "";
    let done = false;
    let line = index;
    let column = start[0].length;
    while (line < lines.length && !done) {
      const current = lines[line] as string;
      for (; column < current.length; column++) {
        const char = current[column] as string;
        collected += char;
        if (inString) {
          if (escaped) escaped = false;
          else if (char === "\\") escaped = true;
          else if (char === '"') inString = false;
        } else if (char === '"') inString = true;
        else if (char === "{" || char === "[") depth++;
        else if (char === "}" || char === "]") {
          depth--;
          if (depth === 0) {
            done = true;
            break;
          }
        }
      }
      if (!done) {
        collected += "\n";
        line++;
        column = 0;
      }
    }
    if (!done) {
      throw new ImportError(
        context.file,
        startLine,
        "the JSON response that starts here is cut off: the file ends before its closing brace",
      );
    }
    try {
      documents.push({ line: startLine, value: JSON.parse(collected) });
    } catch (error) {
      throw new ImportError(context.file, startLine, `expected a JSON response here: ${(error as Error).message}`);
    }
    index = line + 1;
  }
  return documents;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A non-negative number field, absent when missing; an error naming the line when it is not a number. */
export function numberField(
  object: Record<string, unknown>,
  key: string,
  context: ImportContext,
  line: number,
): number | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new ImportError(
      context.file,
      line,
      `expected ${key} to be a non-negative number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function stringField(object: Record<string, unknown>, key: string): string | undefined {
  const value = object[key];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

// ---------------------------------------------------------------------------------------------
// model names

/** The quantization a model tag or file name spells out (Q4_K_M, q8_0, fp16, w8a8, 4bit); else undefined. */
export function quantizationFromName(name: string): string | undefined {
  const match =
    /(?:^|[-_.:/])((?:i?q\d(?:_[a-z0-9]+)*)|fp16|f16|bf16|fp32|f32|w\d+a\d+(?:_g\d+)?|\d+-?bit)(?=$|[-_.:/])/i.exec(
      name,
    );
  return match?.[1];
}

/**
 * The rate from tokens and time, checked against the rate the tool printed: a mismatch means the
 * file was misread (wrong unit, wrong line), so it stops the import instead of storing a wrong figure.
 */
export function checkedRate(
  tokens: number | undefined,
  ms: number | undefined,
  printed: number | undefined,
  what: string,
  context: ImportContext,
  line: number,
): number | undefined {
  if (!tokens) return undefined;
  const computed = ms === undefined ? undefined : tokensPerSecond(tokens, ms);
  if (computed !== undefined && printed !== undefined && !rateAgrees(printed, computed)) {
    throw new ImportError(
      context.file,
      line,
      `the ${what} rate ${printed} tokens/s does not match ${tokens} tokens in ${ms} ms (${computed.toFixed(2)} tokens/s)`,
    );
  }
  return computed ?? printed;
}
