import { describe, expect, expectTypeOf, it } from "vitest";
import type { RunRow } from "../../schema/api.ts";
import { Bundle, MEASUREMENT_UNITS } from "../../schema/bundle.ts";
import { issueDetails } from "../../schema/issues.ts";
import { SLUG_PATTERN } from "../../schema/slug.ts";
import { type RunSummary, summarize } from "../../schema/summary.ts";
import { makeBundle } from "../support/bundles.ts";
import { readSeedBundles } from "../support/seeds.ts";

const seeds = readSeedBundles();

// The required fields of the contract, written out by hand (not read from the zod schema), keyed by
// the name of the object that holds them. The brute-force tests below hold the schema to this list.
const REQUIRED: Record<string, string[]> = {
  "": ["schema", "device", "runtime", "model", "measurements", "provenance"],
  runtime: ["engine"],
  model: ["name"],
  accelerators: ["type"],
  fineTune: ["method"],
  measurements: ["kind", "unit"],
  provenance: ["tool", "method", "createdAt"],
  tool: ["name", "version"],
  importedFrom: ["format"],
  verdict: ["status", "source"],
  flags: ["code", "severity", "source"],
  perplexity: ["dataset", "value", "tokens"],
  suites: ["name", "source"],
  scores: ["metric", "unit"],
  categories: ["name", "scores"],
  items: ["id"],
  soak: ["durationMs", "requests", "failures"],
  series: ["tMs"],
  sweep: ["parameters", "points"],
  points: ["config"],
  targets: ["metric", "unit", "op", "threshold", "passed"],
  failure: ["stage", "kind", "message"],
  references: ["label", "kind"],
  warnings: ["code", "message"],
  roofline: ["bandwidthBytesPerSec", "bytesPerToken", "decodeUpperBoundTps", "efficiency"],
  energy: ["source"],
};
// A reference's model is a partial model: nothing in it is required.
const NOTHING_REQUIRED = new Set(["references[].model"]);
// Free-form maps of the contract: any snake_case key is allowed in them.
const OPEN_MAPS = new Set(["hyperparameters", "checks"]);
const DEVICE_NAMES = ["board", "soc"];
const STATISTICS = ["samples", "mean", "median", "p50", "min", "max"];
// Fields that hold an amount: a number, or { value?, min?, max?, precision? } with at least one figure.
const AMOUNTS = new Set([
  "peakRssBytes",
  "peakVramBytes",
  "peakReportedBytes",
  "modelBytes",
  "systemUsedFraction",
  "fileBytes",
  "trainingDurationMs",
  "costUsdPerRequest",
]);
const AMOUNT_FIGURES = ["value", "min", "max"];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Segment = string | number;

/** Every (object path, key) in a JSON value. */
function* keysOf(
  value: Json,
  path: Segment[] = [],
): Generator<{ path: Segment[]; key: string; holder: { [k: string]: Json } }> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* keysOf(item, [...path, i]);
  } else if (value !== null && typeof value === "object") {
    for (const key of Object.keys(value)) {
      yield { path, key, holder: value };
      yield* keysOf(value[key] as Json, [...path, key]);
    }
  }
}

function* objectsOf(value: Json, path: Segment[] = []): Generator<Segment[]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* objectsOf(item, [...path, i]);
  } else if (value !== null && typeof value === "object") {
    yield path;
    for (const key of Object.keys(value)) yield* objectsOf(value[key] as Json, [...path, key]);
  }
}

const pathText = (path: Segment[]) =>
  path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
const normalized = (path: Segment[]) => pathText(path).replace(/\[\d+\]/g, "[]");
const holderName = (path: Segment[]) => [...path].reverse().find((s): s is string => typeof s === "string") ?? "";

function at(root: Json, path: Segment[]): Json {
  let node = root;
  for (const s of path) node = (node as Record<string, Json>)[s] as Json;
  return node;
}

/** Whether removing `key` from the object at `path` must make the bundle invalid, and where the error points. */
function expectation(bundle: Json, path: Segment[], key: string, holder: { [k: string]: Json }) {
  const name = holderName(path);
  if (path.length === 1 && path[0] === "device" && DEVICE_NAMES.includes(key)) {
    const cpuModel = (holder.cpu as { model?: string } | undefined)?.model;
    const others = DEVICE_NAMES.filter((k) => k !== key && holder[k] !== undefined);
    return { required: others.length === 0 && !cpuModel, errorPath: "device" };
  }
  if (name === "measurements" && STATISTICS.includes(key)) {
    const others = STATISTICS.filter((k) => k !== key && holder[k] !== undefined);
    return { required: others.length === 0, errorPath: pathText(path) };
  }
  if (AMOUNTS.has(name) && AMOUNT_FIGURES.includes(key)) {
    const others = AMOUNT_FIGURES.filter((k) => k !== key && holder[k] !== undefined);
    return { required: others.length === 0, errorPath: pathText(path) };
  }
  if (name === "provenance" && key === "importedFrom") {
    return {
      required: (at(bundle, path) as { method: string }).method === "imported",
      errorPath: pathText([...path, key]),
    };
  }
  const required = !NOTHING_REQUIRED.has(normalized(path)) && (REQUIRED[name] ?? []).includes(key);
  return { required, errorPath: pathText([...path, key]) };
}

describe("the seed bundles", () => {
  it("are all here: one per reported run of the five field reports", () => {
    const byReport = Object.groupBy(seeds, ({ file }) => file.slice(0, 3));
    expect(Object.fromEntries(Object.entries(byReport).map(([k, v]) => [k, v?.length]))).toEqual({
      "000": 3,
      "001": 4,
      "002": 2,
      "003": 5,
      "004": 1,
    });
  });

  for (const { file, bundle } of seeds) {
    it(`${file} validates and names its hardware and model with slugs`, () => {
      const parsed = Bundle.safeParse(bundle);
      expect(parsed.error ? issueDetails(parsed.error) : []).toEqual([]);
      const summary = summarize(Bundle.parse(bundle));
      expect(summary.hardwareSlug).toMatch(SLUG_PATTERN);
      expect(summary.modelSlug).toMatch(SLUG_PATTERN);
      expect(summary.method).toBe("imported");
    });
  }
});

describe("the contract rejects what it must", () => {
  it("rejects a bundle missing each required field, naming the path; accepts one missing an optional field", () => {
    let requiredChecked = 0;
    let optionalChecked = 0;
    for (const { file, bundle } of seeds) {
      for (const { path, key, holder } of keysOf(bundle as Json)) {
        if (OPEN_MAPS.has(holderName(path))) continue;
        const copy = structuredClone(bundle) as Json;
        const { required, errorPath } = expectation(copy, path, key, holder);
        delete (at(copy, path) as Record<string, Json>)[key];
        const result = Bundle.safeParse(copy);
        const where = `${file}: without ${pathText([...path, key])}`;
        if (required) {
          requiredChecked++;
          expect(result.success, where).toBe(false);
          expect(
            issueDetails(result.error ?? ({ issues: [] } as never)).map((d) => d.path),
            where,
          ).toContain(errorPath);
        } else {
          optionalChecked++;
          expect(result.error ? issueDetails(result.error) : [], where).toEqual([]);
        }
      }
    }
    expect(requiredChecked).toBeGreaterThan(300);
    expect(optionalChecked).toBeGreaterThan(300);
  });

  it("rejects an unknown field in every object of every seed, naming it", () => {
    let checked = 0;
    for (const { file, bundle } of seeds) {
      for (const path of objectsOf(bundle as Json)) {
        if (OPEN_MAPS.has(holderName(path))) continue;
        const copy = structuredClone(bundle) as Json;
        (at(copy, path) as Record<string, Json>).surpriseField = 1;
        const result = Bundle.safeParse(copy);
        expect(result.success, `${file}: ${pathText(path)}`).toBe(false);
        const expected = path.length ? `${pathText(path)}.surpriseField` : "surpriseField";
        expect(issueDetails(result.error ?? ({ issues: [] } as never)).map((d) => d.path)).toContain(expected);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it("rejects every measurement kind with any unit but its own", () => {
    const units = [...new Set(Object.values(MEASUREMENT_UNITS)), "s", "tok/s", "bytes"];
    for (const [kind, unit] of Object.entries(MEASUREMENT_UNITS)) {
      for (const wrong of units.filter((u) => u !== unit)) {
        const bundle = { ...makeBundle(), measurements: [{ kind, unit: wrong, cold: false, mean: 1 }] };
        const result = Bundle.safeParse(bundle);
        expect(result.success, `${kind} in ${wrong}`).toBe(false);
        expect(issueDetails(result.error ?? ({ issues: [] } as never))).toContainEqual({
          path: "measurements[0].unit",
          message: expect.stringContaining(unit),
        });
      }
    }
  });

  it("rejects values out of range, with their path", () => {
    const cases: Array<[string, (b: Record<string, Json>) => void, string]> = [
      [
        "negative rate",
        (b) => ((b.measurements as Json[])[2] = { kind: "decode", unit: "tokens/s", cold: false, mean: -1 }),
        "measurements[2].mean",
      ],
      ["fractional core count", (b) => ((b.device as Record<string, Json>).cpu = { cores: 2.5 }), "device.cpu.cores"],
      ["bad sha256", (b) => ((b.model as Record<string, Json>).sha256 = "ABC"), "model.sha256"],
      ["bad date", (b) => ((b.provenance as Record<string, Json>).createdAt = "yesterday"), "provenance.createdAt"],
      ["unknown engine", (b) => ((b.runtime as Record<string, Json>).engine = "magic"), "runtime.engine"],
      [
        "a measurement with no figure",
        (b) => ((b.measurements as Json[])[0] = { kind: "load", unit: "ms", cold: true }),
        "measurements[0]",
      ],
      ["wrong schema version", (b) => (b.schema = "edgebench.bundle/v0"), "schema"],
      [
        "a script URL as a source",
        (b) => {
          b.provenance = { ...(b.provenance as Record<string, Json>), method: "imported" };
          (b.provenance as Record<string, Json>).importedFrom = { format: "report", url: "javascript:alert(1)" };
        },
        "provenance.importedFrom.url",
      ],
    ];
    for (const [name, mutate, path] of cases) {
      const bundle = structuredClone(makeBundle()) as unknown as Record<string, Json>;
      mutate(bundle);
      const result = Bundle.safeParse(bundle);
      expect(result.success, name).toBe(false);
      expect(
        issueDetails(result.error ?? ({ issues: [] } as never)).map((d) => d.path),
        name,
      ).toContain(path);
    }
  });
});

describe("the contract's types", () => {
  it("keeps API rows, summaries and bundles in step", () => {
    expectTypeOf<RunRow>().toExtend<RunSummary>();
    expectTypeOf<Bundle["measurements"][number]["unit"]>().toEqualTypeOf<"ms" | "tokens/s">();
    expectTypeOf<Extract<Bundle["measurements"][number], { kind: "decode" }>["unit"]>().toEqualTypeOf<"tokens/s">();
    expectTypeOf(summarize).parameter(0).toEqualTypeOf<Bundle>();
  });
});
