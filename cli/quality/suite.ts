// Task suites: prompts with answers that can be scored by a machine, the same way on every device.
// A suite is data (the built-in one in builtin-suite.ts, or a user's JSONL file), validated here with
// zod; scoring is deterministic, bounded in time, and never trusts a pattern or schema from a file.
import Ajv, { type Options as AjvOptions, type ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import * as z from "zod";
import type { QualityFlag, QualitySuite, Score } from "../../schema/bundle.ts";
import { detectDegeneration, excerpt } from "./degeneration.ts";
import { compileSafeRegex, RegexLimitError, type SafeRegex } from "./safe-regex.ts";
import { splitThink } from "./think.ts";

/** Most items in one suite: a suite is a quality gate run on a small device, not an evaluation harness. */
export const MAX_SUITE_ITEMS = 1000;
/** Longest prompt or output kept per item in the bundle; fewer when a suite has many items. */
export const MAX_ITEM_TEXT_CHARS = 2000;
/** Shortest cut: enough to see what the model answered. */
const MIN_ITEM_TEXT_CHARS = 100;
/**
 * Serialized size of the listed items of one suite. The API takes envelopes up to 256 KB, and the
 * run also carries measurements and perhaps a second suite; the built-in suite's short answers fit whole.
 */
export const SUITE_ITEMS_BUDGET_BYTES = 64 * 1024;
/** The schema's limit on items in one QualitySuite; the score still counts every item. */
export const MAX_LISTED_ITEMS = 500;
/** The JSON answer is looked for in this much of the output. */
const MAX_JSON_SCAN_CHARS = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// compiled patterns and schemas, cached per scoring object so each is compiled once

const regexCache = new WeakMap<object, SafeRegex>();
const schemaCache = new WeakMap<object, ValidateFunction>();

// Every "pattern" in a JSON Schema runs through the same sandbox as the regex mode.
const safeRegExp = Object.assign((pattern: string, flags: string) => compileSafeRegex(pattern, flags), {
  code: "safeRegExp",
});

// strictSchema rejects unknown keywords and formats (a typo must not silently accept everything);
// the type-strictness checks are off because they reject ordinary schemas that omit "type".
const AJV_OPTIONS: AjvOptions = {
  strictSchema: true,
  strictNumbers: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allErrors: false,
  // A schema with an $id is otherwise registered globally, and the next item reusing it would throw.
  addUsedSchema: false,
  logger: false,
  code: { regExp: safeRegExp },
};

// The formats extraction tasks ask for; others are rejected as unknown rather than ignored. These run
// outside the sandbox, so each is written to match in linear time (no ambiguous repetition).
const FORMATS = {
  date: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
  "date-time":
    /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)?$/,
  email: /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/,
};

let ajv07: Ajv | undefined;
let ajv2020: Ajv2020 | undefined;

function ajvFor(schema: unknown): Ajv | Ajv2020 {
  const declared =
    typeof schema === "object" && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined;
  // Draft-07 unless the schema declares 2020-12, the two drafts people write today.
  if (typeof declared === "string" && declared.includes("2020-12")) {
    ajv2020 ??= withFormats(new Ajv2020(AJV_OPTIONS));
    return ajv2020;
  }
  ajv07 ??= withFormats(new Ajv(AJV_OPTIONS));
  return ajv07;
}

function withFormats<A extends Ajv | Ajv2020>(instance: A): A {
  for (const [name, pattern] of Object.entries(FORMATS)) instance.addFormat(name, pattern);
  return instance;
}

function compiledRegex(scoring: RegexScoring): SafeRegex {
  let regex = regexCache.get(scoring);
  if (!regex) {
    regex = compileSafeRegex(scoring.pattern, scoring.flags ?? "");
    regexCache.set(scoring, regex);
  }
  return regex;
}

function compiledSchema(scoring: JsonSchemaScoring): ValidateFunction {
  let validate = schemaCache.get(scoring);
  if (!validate) {
    validate = ajvFor(scoring.schema).compile(scoring.schema);
    schemaCache.set(scoring, validate);
  }
  return validate;
}

const oneLine = (message: string) => message.replace(/\s+/g, " ").trim();

// ---------------------------------------------------------------------------------------------
// schemas

const answer = z
  .string()
  .min(1)
  .max(10_000)
  .refine((s) => s.trim() !== "", "must not be blank");

const ExactScoring = z.strictObject({
  mode: z.literal("exact"),
  /** The whole answer, compared after trimming. */
  value: answer,
  /** Off by default: "paris" answers "Paris". */
  caseSensitive: z.boolean().optional(),
});

const ContainsScoring = z.strictObject({
  mode: z.literal("contains"),
  /** One string, or several that must all appear. */
  value: z.union([answer, z.array(answer).min(1).max(50)]),
  caseSensitive: z.boolean().optional(),
});

const RegexScoring = z
  .strictObject({
    mode: z.literal("regex"),
    pattern: z.string().min(1).max(2000),
    // No g or y: they make test() stateful, so the same output could score differently twice.
    flags: z
      .string()
      .regex(/^[dimsuv]*$/, "flags may only use d, i, m, s, u, v")
      .optional(),
  })
  .superRefine((scoring, ctx) => {
    try {
      new RegExp(scoring.pattern, scoring.flags ?? "");
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        path: ["pattern"],
        message: `invalid regex: ${oneLine((error as Error).message)}`,
      });
    }
  });

const JsonSchemaScoring = z
  .strictObject({
    mode: z.literal("json_schema"),
    /** A JSON Schema (draft-07, or 2020-12 when it says so in $schema) the first JSON value must match. */
    schema: z.union([z.record(z.string(), z.unknown()), z.boolean()]),
  })
  .superRefine((scoring, ctx) => {
    try {
      ajvFor(scoring.schema).compile(scoring.schema);
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        path: ["schema"],
        message: `invalid JSON schema: ${oneLine((error as Error).message)}`,
      });
    }
  });

const NumberScoring = z.strictObject({
  mode: z.literal("number"),
  value: z.number(),
  /** Accepted absolute difference; 0 when neither tolerance is given. */
  tolerance: z.number().min(0).optional(),
  /** Accepted difference as a fraction of the expected value, e.g. 0.01 for 1%. */
  relativeTolerance: z.number().min(0).optional(),
});

const SCORING_MODES = ["exact", "contains", "regex", "json_schema", "number"] as const;

export const Scoring = z.discriminatedUnion(
  "mode",
  [ExactScoring, ContainsScoring, RegexScoring, JsonSchemaScoring, NumberScoring],
  {
    error: (issue) => {
      if (issue.code !== "invalid_union") return undefined;
      const mode = (issue.input as { mode?: unknown } | undefined)?.mode;
      const known = SCORING_MODES.join(", ");
      return mode === undefined
        ? `a scoring mode is required (one of ${known})`
        : `unknown mode ${JSON.stringify(mode)} (one of ${known})`;
    },
  },
);

export const SuiteItem = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, "must be letters, digits and . _ : - (e.g. extract-date)"),
  category: z.string().trim().min(1).max(100).optional(),
  prompt: z.string().trim().min(1).max(32_000),
  /** What a reader is shown as the expected answer; derived from the scoring when absent. */
  expected: z.string().trim().min(1).max(2000).optional(),
  scoring: Scoring,
  maxTokens: z.int().min(1).max(4096).optional(),
});

export const Suite = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    version: z.string().trim().min(1).max(40),
    description: z.string().trim().min(1).max(2000).optional(),
    items: z.array(SuiteItem).min(1).max(MAX_SUITE_ITEMS),
  })
  .superRefine((suite, ctx) => {
    const seen = new Set<string>();
    suite.items.forEach((item, index) => {
      if (seen.has(item.id))
        ctx.addIssue({
          code: "custom",
          path: ["items", index, "id"],
          message: `duplicate id ${JSON.stringify(item.id)}`,
        });
      seen.add(item.id);
    });
  });

export type Scoring = z.infer<typeof Scoring>;
export type RegexScoring = z.infer<typeof RegexScoring>;
export type JsonSchemaScoring = z.infer<typeof JsonSchemaScoring>;
export type SuiteItem = z.infer<typeof SuiteItem>;
export type Suite = z.infer<typeof Suite>;

// ---------------------------------------------------------------------------------------------
// scoring

export interface ItemScore {
  passed: boolean;
  /** 0..1; partial only in contains mode with several strings. */
  score: number;
  /** Why it failed (or what was read), in one line. */
  detail?: string;
  /** Degeneration flags of the output, when there are any. */
  flags?: QualityFlag[];
}

const pass = (detail?: string): ItemScore => ({ passed: true, score: 1, ...(detail ? { detail } : {}) });
const fail = (detail: string, score = 0): ItemScore => ({ passed: false, score, detail });

/**
 * Scores one output against its item. The answer is what follows a closed <think> block; an output
 * with a fail-severity degeneration flag fails whatever it contains ("positive positive positive…"
 * contains "positive", and is still broken).
 */
export function scoreOutput(item: SuiteItem, output: string): ItemScore {
  const flags = detectDegeneration(output);
  const withFlags = (result: ItemScore): ItemScore => (flags.length ? { ...result, flags } : result);
  const broken = flags.filter((f) => f.severity === "fail").map((f) => f.code);
  if (broken.length) return withFlags(fail(`degenerate output (${broken.join(", ")})`));
  const think = splitThink(output);
  if (!think.closed) return withFlags(fail("no answer: the <think> block never closed"));
  try {
    return withFlags(scoreAnswer(item.scoring, think.answer));
  } catch (error) {
    if (error instanceof RegexLimitError) return withFlags(fail(`${error.message}; scored as failed`));
    throw error;
  }
}

function scoreAnswer(scoring: Scoring, answer: string): ItemScore {
  switch (scoring.mode) {
    case "exact": {
      const fold = (s: string) => (scoring.caseSensitive ? s : s.toLowerCase()).normalize("NFC");
      return fold(answer) === fold(scoring.value.trim())
        ? pass()
        : fail(`expected ${excerpt(scoring.value)}, got ${excerpt(answer)}`);
    }
    case "contains": {
      const fold = (s: string) => (scoring.caseSensitive ? s : s.toLowerCase()).normalize("NFC");
      const wanted = [scoring.value].flat();
      const missing = wanted.filter((w) => !fold(answer).includes(fold(w)));
      if (!missing.length) return pass();
      const score = (wanted.length - missing.length) / wanted.length;
      return fail(`missing ${missing.map((m) => excerpt(m)).join(", ")} in ${excerpt(answer)}`, score);
    }
    case "regex": {
      const regex = compiledRegex(scoring);
      if (regex.test(answer)) return pass();
      return fail(`${excerpt(answer)} does not match /${scoring.pattern}/${scoring.flags ?? ""}`);
    }
    case "json_schema": {
      const found = firstJsonValue(answer);
      if (!found) return fail(`no JSON value in ${excerpt(answer)}`);
      const validate = compiledSchema(scoring);
      if (validate(found.value)) return pass();
      const why = (validate.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? "is invalid"}`);
      return fail(`${excerpt(found.text)} does not match the schema: ${why.join("; ")}`);
    }
    case "number": {
      const found = firstNumber(answer);
      if (!found) return fail(`no number in ${excerpt(answer)}`);
      const allowed = Math.max(scoring.tolerance ?? 0, (scoring.relativeTolerance ?? 0) * Math.abs(scoring.value));
      // A hair of slack so 0.1 + 0.2 style float noise never decides an answer.
      const ok = Math.abs(found.value - scoring.value) <= allowed + 1e-9 * Math.max(1, Math.abs(scoring.value));
      return ok ? pass(`read ${found.text}`) : fail(`expected ${describeNumber(scoring)}, read ${found.text}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// reading answers

/**
 * The first JSON value in an output: the content of the first code fence when it parses, else the
 * whole output when it parses, else the first balanced {…} or […] that parses.
 */
export function firstJsonValue(output: string): { value: unknown; text: string } | undefined {
  const text = output.slice(0, MAX_JSON_SCAN_CHARS);
  const fence = /```[\w-]*[^\S\n]*\n?([\s\S]*?)```/.exec(text);
  const candidates = fence?.[1] !== undefined ? [fence[1], text] : [text];
  for (const candidate of candidates) {
    const whole = tryParse(candidate.trim());
    if (whole) return whole;
    const embedded = firstEmbeddedJson(candidate);
    if (embedded) return embedded;
  }
  return undefined;
}

function tryParse(text: string): { value: unknown; text: string } | undefined {
  if (text === "") return undefined;
  try {
    return { value: JSON.parse(text), text };
  } catch {
    return undefined;
  }
}

/** Most opening brackets tried: each attempt is a linear scan, and "{{{{…" must not go quadratic. */
const MAX_JSON_STARTS = 50;

function firstEmbeddedJson(text: string): { value: unknown; text: string } | undefined {
  let from = 0;
  for (let attempt = 0; attempt < MAX_JSON_STARTS; attempt++) {
    const start = text.slice(from).search(/[{[]/);
    if (start < 0) return undefined;
    const begin = from + start;
    const end = balancedEnd(text, begin);
    if (end !== undefined) {
      const parsed = tryParse(text.slice(begin, end + 1));
      if (parsed) return parsed;
    }
    from = begin + 1;
  }
  return undefined;
}

/** Index of the bracket closing the one at `start`, skipping brackets inside strings. */
function balancedEnd(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return undefined;
}

// A sign only when it is not a hyphen inside a word ("COVID-19"); thousands separators in groups of
// three ("1,250"); the Unicode minus some models print.
const NUMBER = /(?<![\p{L}\p{N}.])[-+\u2212]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?/u;

/** The first number in an output. */
export function firstNumber(output: string): { value: number; text: string } | undefined {
  const match = NUMBER.exec(output);
  if (!match) return undefined;
  const value = Number(match[0].replace(/,/g, "").replace("\u2212", "-"));
  return Number.isFinite(value) ? { value, text: match[0] } : undefined;
}

function describeNumber(scoring: z.infer<typeof NumberScoring>): string {
  const parts = [String(scoring.value)];
  if (scoring.tolerance) parts.push(`± ${scoring.tolerance}`);
  if (scoring.relativeTolerance) parts.push(`± ${scoring.relativeTolerance * 100}%`);
  return parts.join(" ");
}

/** What a reader is shown as the expected answer. */
export function describeExpected(item: SuiteItem): string {
  if (item.expected) return item.expected;
  const scoring = item.scoring;
  const cut = (s: string) => (s.length > 2000 ? `${s.slice(0, 1999)}…` : s);
  switch (scoring.mode) {
    case "exact":
      return cut(scoring.value.trim() || scoring.value);
    case "contains":
      return cut(
        `contains ${[scoring.value]
          .flat()
          .map((v) => JSON.stringify(v))
          .join(" and ")}`,
      );
    case "regex":
      return cut(`matches /${scoring.pattern}/${scoring.flags ?? ""}`);
    case "json_schema":
      return cut(`JSON matching ${JSON.stringify(scoring.schema)}`);
    case "number":
      return describeNumber(scoring);
  }
}

// ---------------------------------------------------------------------------------------------
// results → the bundle's QualitySuite

export interface ItemResult extends ItemScore {
  item: SuiteItem;
  output: string;
}

type ListedItem = NonNullable<QualitySuite["items"]>[number];

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const accuracy = (passed: number, total: number, primary?: boolean): Score => ({
  metric: "accuracy",
  unit: "fraction",
  value: total ? passed / total : 0,
  passed,
  total,
  ...(primary ? { primary: true } : {}),
});

function listedItem(item: SuiteItem, result: ItemResult | undefined, cap: number): ListedItem {
  const base = {
    id: item.id,
    ...(item.category ? { category: item.category } : {}),
    prompt: truncate(item.prompt, cap),
    expected: truncate(describeExpected(item), cap),
  };
  if (!result) return { ...base, passed: false, score: 0, notes: "not run" };
  const flags = (result.flags ?? detectDegeneration(result.output)).slice(0, 50).map((f) => ({
    ...f,
    ...(f.evidence ? { evidence: truncate(f.evidence, Math.max(cap, 200)) } : {}),
  }));
  const cut = result.output.length > cap ? `output cut from ${result.output.length} characters` : undefined;
  const notes = [result.detail, cut].filter((n) => n?.trim()).join("; ");
  return {
    ...base,
    output: truncate(result.output, cap),
    passed: result.passed,
    score: Math.min(1, Math.max(0, result.score)),
    ...(flags.length ? { flags } : {}),
    ...(notes ? { notes: truncate(notes, Math.max(cap, 200)) } : {}),
  };
}

/**
 * One suite's results as the bundle records them: accuracy over every item of the suite (an item
 * with no result counts as failed and makes the suite partial), accuracy per category, and the items
 * with their prompt, expected answer, output and degeneration flags. Large suites are cut to fit a
 * bundle: shorter texts per item, then only as many items as the budget holds, failures first,
 * because a failure is what a reader wants to see; the score still counts every item.
 */
export function toQualitySuite(suite: Suite, source: "builtin" | "user", results: readonly ItemResult[]): QualitySuite {
  const ids = new Set(suite.items.map((item) => item.id));
  const byId = new Map<string, ItemResult>();
  for (const result of results) {
    if (!ids.has(result.item.id)) {
      throw new Error(`result for ${JSON.stringify(result.item.id)}, which is not an item of suite ${suite.name}`);
    }
    byId.set(result.item.id, result);
  }
  const total = suite.items.length;
  const passed = suite.items.filter((item) => byId.get(item.id)?.passed).length;

  const categories = new Map<string, { passed: number; total: number }>();
  for (const item of suite.items) {
    if (!item.category) continue;
    const c = categories.get(item.category) ?? { passed: 0, total: 0 };
    c.total++;
    if (byId.get(item.id)?.passed) c.passed++;
    categories.set(item.category, c);
  }

  const cap = Math.max(
    MIN_ITEM_TEXT_CHARS,
    Math.min(MAX_ITEM_TEXT_CHARS, Math.floor(SUITE_ITEMS_BUDGET_BYTES / (2 * Math.min(total, MAX_LISTED_ITEMS)))),
  );
  const order = suite.items.map((item, index) => ({ item, index, failed: !byId.get(item.id)?.passed }));
  const priority = [...order.filter((o) => o.failed), ...order.filter((o) => !o.failed)];
  const chosen: Array<{ index: number; listed: ListedItem }> = [];
  let bytes = 0;
  for (const { item, index } of priority) {
    if (chosen.length >= MAX_LISTED_ITEMS) break;
    const listed = listedItem(item, byId.get(item.id), cap);
    bytes += JSON.stringify(listed).length;
    if (bytes > SUITE_ITEMS_BUDGET_BYTES && chosen.length > 0) break;
    chosen.push({ index, listed });
  }
  chosen.sort((a, b) => a.index - b.index);

  const notes = total > chosen.length ? `${total - chosen.length} of ${total} items scored but not listed` : undefined;
  return {
    name: suite.name,
    version: suite.version,
    source,
    ...(suite.description ? { description: suite.description } : {}),
    status: byId.size === 0 ? "failed" : byId.size < total ? "partial" : "completed",
    scores: [accuracy(passed, total, true)],
    ...(categories.size
      ? {
          categories: [...categories]
            .slice(0, 100)
            .map(([name, c]) => ({ name, scores: [accuracy(c.passed, c.total)] })),
        }
      : {}),
    items: chosen.map((c) => c.listed),
    ...(notes ? { notes } : {}),
  };
}
