// The site's charts: specs built from the site's own data types, rendered to static SVG by Vega.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunRow } from "../../schema/api.ts";
import { Bundle, type Soak, type Sweep } from "../../schema/bundle.ts";
import {
  engineHistoryChart,
  paretoFront,
  renderSvg,
  rooflineChart,
  soakChart,
  speedQualityChart,
  sweepChart,
  variedParameters,
} from "../../site/src/lib/charts/index.ts";
import { cellPairs, comparePairs, histories, runTime, sampleSegments } from "../../site/src/lib/view.ts";
import { SEEDS_DIR } from "../support/seeds.ts";

function row(id: string, over: Partial<RunRow> = {}): RunRow {
  return {
    id,
    url: `/v1/runs/${id}`,
    deviceId: "dev",
    receivedAt: "2026-11-20T10:00:00Z",
    rankedApart: false,
    flags: [],
    reproduction: "single",
    status: "visible",
    statusReason: null,
    hardwareSlug: "raspberry-pi-5",
    hardwareName: "Raspberry Pi 5",
    hardwareKind: "system",
    sourceHardwareName: "Raspberry Pi 5 Model B Rev 1.0",
    hostCpu: "Cortex-A76",
    hostRamBytes: 8e9,
    gpuLayers: null,
    modelLayers: null,
    modelSlug: `model-${id}`,
    modelName: `Model ${id}`,
    sourceModelName: `model-${id}.gguf`,
    quantization: "Q4_K_M",
    parameters: null,
    engine: "llama.cpp",
    engineVersion: "b4000",
    backend: "cpu",
    decodeTps: 10,
    decodeNGen: 128,
    prefillTps: null,
    prefillNPrompt: null,
    ttftMs: null,
    loadMs: null,
    peakMemoryBytes: null,
    peakVramBytes: null,
    decodeDeliveredTps: null,
    qualityStatus: "pass",
    qualityReason: null,
    qualityScore: 0.5,
    method: "measured",
    importFormat: null,
    createdAt: "2026-11-20T10:00:00Z",
    measuredAt: null,
    ...over,
  };
}

const seed = (file: string) => Bundle.parse(JSON.parse(readFileSync(join(SEEDS_DIR, file), "utf8")));

/** The marks of one Vega mark type in an SVG: each sits in a group with class "mark-<type> role-mark". */
function marks(svg: string, type: "symbol" | "line" | "text" | "rect" | "area" | "rule"): string[] {
  const out: string[] = [];
  const re = new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>(.*?)</g>`, "g");
  for (const m of svg.matchAll(re)) {
    const inner = m[1] ?? "";
    const tag =
      type === "symbol" || type === "line" || type === "area"
        ? "path"
        : type === "rule"
          ? "line"
          : type === "rect"
            ? "path"
            : "text";
    out.push(...(inner.match(new RegExp(`<${tag}[ >]`, "g")) ?? []));
  }
  return out;
}

/** The text of the axis titles in an SVG. */
function axisTitles(svg: string): string[] {
  return [...svg.matchAll(/role-axis-title[^>]*><text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] ?? "");
}

const HOSTILE = ["<script>alert(1)</script>", '"><svg onload=alert(1)>'];

describe("paretoFront", () => {
  it("keeps exactly the points no other point beats on both axes", () => {
    // (speed, quality): hand-checked. B beats A on both; D beats C; E and F tie exactly; G is fastest.
    const pts = [
      { n: "A", x: 1, y: 0.5 },
      { n: "B", x: 2, y: 0.9 },
      { n: "C", x: 3, y: 0.4 },
      { n: "D", x: 4, y: 0.6 },
      { n: "E", x: 5, y: 0.55 },
      { n: "F", x: 5, y: 0.55 },
      { n: "G", x: 8, y: 0.2 },
      { n: "H", x: 8, y: 0.1 },
      { n: "I", x: 2, y: 0.9 - 1e-9 },
    ];
    const front = paretoFront(
      pts,
      (p) => p.x,
      (p) => p.y,
    ).map((p) => p.n);
    expect(front).toEqual(["B", "D", "E", "F", "G"]);
  });

  it("is empty for no points and the point itself for one", () => {
    expect(paretoFront([], Number, Number)).toEqual([]);
    expect(
      paretoFront(
        [{ x: 1, y: 1 }],
        (p) => p.x,
        (p) => p.y,
      ),
    ).toHaveLength(1);
  });
});

describe("speed-vs-quality scatter", () => {
  const rows = [
    row("a", { decodeTps: 5, qualityScore: 0.8 }),
    row("b", { decodeTps: 12, qualityScore: 0.6 }),
    row("c", { decodeTps: 8, qualityScore: 0.5 }),
    row("d", { decodeTps: 20, qualityScore: 0.3 }),
    row("e", { decodeTps: 30, qualityScore: null }),
    row("f", { decodeTps: 40, qualityScore: 0.9, rankedApart: true }),
  ];
  const options = {
    id: "scatter",
    subject: "on Raspberry Pi 5",
    label: (r: RunRow) => r.modelName,
    labelHeading: "Model",
  };

  it("plots ranked runs with a quality score, draws and labels the front, counts what is left out", async () => {
    const chart = speedQualityChart(rows, options);
    expect(chart).toBeDefined();
    if (!chart) return;
    expect(chart.caption).toContain("1 ranked run without a quality score is left out");
    expect(chart.table.rows).toHaveLength(4);
    expect(chart.table.rows.filter((r) => r[3] === "yes").map((r) => r[0])).toEqual([
      "Model d Q4_K_M",
      "Model b Q4_K_M",
      "Model a Q4_K_M",
    ]);
    const start = performance.now();
    const svg = await renderSvg(chart.spec);
    console.log(`speed-vs-quality chart (4 points) rendered in ${(performance.now() - start).toFixed(1)} ms`);
    expect(marks(svg, "symbol")).toHaveLength(4);
    expect(marks(svg, "line")).toHaveLength(1);
    // One label per point on the front, split between left- and right-aligned layers.
    expect(marks(svg, "text")).toHaveLength(3);
    expect(svg).toContain("Model a Q4_K_M");
    expect(svg).not.toContain("Model c Q4_K_M");
    expect(axisTitles(svg)).toEqual(["Decode speed (tokens/s)", "Quality score (%)"]);
    expect(svg).toMatch(/viewBox="0 0 \d+(\.\d+)? \d+(\.\d+)?"/);
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
  });

  it("escapes hostile model names", async () => {
    const hostile = HOSTILE.map((name, i) =>
      row(`h${i}`, { modelName: name, quantization: null, decodeTps: 10 + i, qualityScore: 0.9 - i * 0.1 }),
    );
    const chart = speedQualityChart(hostile, options);
    if (!chart) throw new Error("expected a chart");
    const svg = await renderSvg(chart.spec);
    expect(svg).not.toContain("<script");
    expect(svg).not.toContain("<svg onload");
    expect(svg.match(/<svg/g)).toHaveLength(1);
    expect(svg).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(svg).toContain("&lt;svg onload=alert(1)&gt;");
  });

  it("gives no chart without a plottable run", () => {
    expect(speedQualityChart([], options)).toBeUndefined();
    expect(speedQualityChart([row("x", { qualityScore: null })], options)).toBeUndefined();
    expect(speedQualityChart([row("x"), row("y", { qualityScore: null })], options)).toBeUndefined();
  });
});

describe("sweep curves", () => {
  it("draws one curve per metric against the parameter each point varies (seed 003)", async () => {
    const sweep = seed("003-qwen3-4b-instruct-2507-q4-jetson-orin.json").sweep as Sweep;
    const varied = variedParameters(sweep);
    expect(varied.slice(0, 7)).toEqual([
      "batchSize",
      "batchSize",
      "batchSize",
      "batchSize",
      "batchSize",
      "contextSize",
      "sampling.temperature",
    ]);
    const chart = sweepChart(sweep);
    if (!chart) throw new Error("expected a chart");
    const start = performance.now();
    const svg = await renderSvg(chart.spec);
    console.log(
      `sweep chart (${chart.table.rows.length} points) rendered in ${(performance.now() - start).toFixed(1)} ms`,
    );
    // Quality over batchSize, temperature, topK, topP, repeatPenalty and minP: one curve each; the
    // lone contextSize point and the single decode figure make no curve.
    expect(marks(svg, "line")).toHaveLength(6);
    expect(marks(svg, "symbol")).toHaveLength(5 + 4 + 4 + 4 + 4 + 3);
    const titles = axisTitles(svg);
    expect(titles).toContain("batchSize (tokens)");
    expect(titles).toContain("sampling.temperature");
    expect(titles.filter((t) => t === "Quality score (%)")).toHaveLength(6);
  });

  it("puts different units in different panels", async () => {
    const sweep: Sweep = {
      parameters: ["threads"],
      points: [2, 4, 8].map((threads, i) => ({
        config: { threads },
        measurements: [
          { kind: "decode", unit: "tokens/s", mean: 5 + i },
          { kind: "prefill", unit: "tokens/s", mean: 50 + i * 10 },
          { kind: "ttft", unit: "ms", mean: 300 - i * 50 },
        ],
      })),
    };
    const chart = sweepChart(sweep);
    if (!chart) throw new Error("expected a chart");
    const svg = await renderSvg(chart.spec);
    expect(marks(svg, "line")).toHaveLength(3);
    expect(marks(svg, "symbol")).toHaveLength(9);
    expect(axisTitles(svg)).toEqual([
      "threads (threads)",
      "Speed (tokens/s)",
      "threads (threads)",
      "Time to first token (ms)",
    ]);
  });

  it("gives no chart when no metric has two points", () => {
    const sweep = seed("003-qwen3-4b-q6-jetson-orin.json").sweep as Sweep;
    expect(sweepChart({ ...sweep, points: sweep.points.slice(0, 1) })).toBeUndefined();
  });
});

describe("soak timeline", () => {
  const series = Array.from({ length: 60 }, (_, i) => ({
    tMs: i * 60_000,
    latencyMs: 7000 + (i % 5) * 300,
    ok: i !== 30,
    temperatureC: 52 + Math.min(20, i),
    rssBytes: 1_600_000_000 + i * 1_000_000,
  }));
  const soak: Soak = { ...seed("004-antonio-gemma3-smart-q4-rpi4.json").soak, series } as Soak;

  it("draws latency, temperature and RSS panels with their own axes", async () => {
    const chart = soakChart(soak);
    if (!chart) throw new Error("expected a chart");
    const start = performance.now();
    const svg = await renderSvg(chart.spec);
    console.log(`soak chart (60 samples) rendered in ${(performance.now() - start).toFixed(1)} ms`);
    expect(marks(svg, "line")).toHaveLength(3);
    expect(axisTitles(svg)).toEqual([
      "Time since start (min)",
      "Latency (s)",
      "Time since start (min)",
      "Temperature (°C)",
      "Time since start (min)",
      "RSS (MB)",
    ]);
    expect(svg).toContain("throttle threshold 80 °C");
    expect(chart.caption).toContain("1 failed request");
    expect(chart.table.rows).toHaveLength(60);
  });

  it("averages a long series into buckets with a min–max band", async () => {
    const long = Array.from({ length: 5000 }, (_, i) => ({ tMs: i * 1000, latencyMs: 100 + (i % 7) }));
    const chart = soakChart({ durationMs: 5_000_000, requests: 5000, failures: 0, series: long });
    if (!chart) throw new Error("expected a chart");
    const svg = await renderSvg(chart.spec);
    expect(marks(svg, "line")).toHaveLength(1);
    expect(marks(svg, "area")).toHaveLength(1);
    expect(chart.caption).toContain("Averaged into 300 time buckets");
    expect(svg.length).toBeLessThan(60_000);
  });

  it("gives no chart without a series (seed 004 has none)", () => {
    expect(soakChart(seed("004-antonio-gemma3-smart-q4-rpi4.json").soak as Soak)).toBeUndefined();
  });
});

describe("roofline efficiency", () => {
  const roofline = (efficiency: number) => ({
    bandwidthBytesPerSec: 17e9,
    bytesPerToken: 1e9,
    decodeUpperBoundTps: 17,
    efficiency,
  });
  const bundles = new Map<string, Partial<Bundle>>([
    ["a", { roofline: roofline(0.6) }],
    ["b", { roofline: roofline(1.2) }],
    ["c", {}],
  ]);
  const options = {
    id: "roofline",
    subject: "on Raspberry Pi 5",
    label: (r: RunRow) => r.modelName,
    labelHeading: "Model",
  };

  it("draws a bar per ranked run with a roofline, and the 100% line", async () => {
    const rows = [row("a"), row("b"), row("c"), row("d", { rankedApart: true })];
    const chart = rooflineChart(rows, (id) => bundles.get(id) as Bundle | undefined, options);
    if (!chart) throw new Error("expected a chart");
    const start = performance.now();
    const svg = await renderSvg(chart.spec);
    console.log(`roofline chart (2 bars) rendered in ${(performance.now() - start).toFixed(1)} ms`);
    expect(marks(svg, "rect")).toHaveLength(2);
    expect(marks(svg, "rule")).toHaveLength(1);
    expect(axisTitles(svg)).toEqual(["Decode speed as a share of the roofline bound (%)"]);
    expect(chart.caption).toContain("1 run above 100%");
    expect(chart.caption).toContain("1 ranked run without a roofline");
    expect(chart.table.rows.map((r) => r[3])).toEqual(["120%", "60%"]);
  });

  it("escapes hostile names on the axis", async () => {
    const rows = HOSTILE.map((name, i) => row(["a", "b"][i] as string, { modelName: name }));
    const chart = rooflineChart(rows, (id) => bundles.get(id) as Bundle | undefined, options);
    if (!chart) throw new Error("expected a chart");
    const svg = await renderSvg(chart.spec);
    expect(svg).not.toContain("<script");
    expect(svg.match(/<svg/g)).toHaveLength(1);
    expect(svg).toContain("&lt;script&gt;");
  });

  it("gives no chart when no run has a roofline", () => {
    expect(rooflineChart([row("c")], (id) => bundles.get(id) as Bundle | undefined, options)).toBeUndefined();
  });
});

describe("engine-version history", () => {
  it("plots decode speed over time, one colour per engine version", async () => {
    const rows = [
      row("a", { measuredAt: "2026-01", engineVersion: "b4000", decodeTps: 10 }),
      row("b", { measuredAt: "2026-03-05", engineVersion: "b4000", decodeTps: 11 }),
      row("c", { measuredAt: "2026-06-01T12:00:00Z", engineVersion: "b5000", decodeTps: 14 }),
      row("d", { measuredAt: "--07-01", engineVersion: HOSTILE[0] as string, decodeTps: 15 }),
      row("e", { decodeTps: null }),
    ];
    const chart = engineHistoryChart(rows, { subject: "Qwen3-4B on Raspberry Pi 5" });
    if (!chart) throw new Error("expected a chart");
    const start = performance.now();
    const svg = await renderSvg(chart.spec);
    console.log(`history chart (4 points) rendered in ${(performance.now() - start).toFixed(1)} ms`);
    expect(marks(svg, "symbol").length).toBeGreaterThanOrEqual(4);
    expect(marks(svg, "line")).toHaveLength(3);
    expect(axisTitles(svg)).toEqual(["Measured (date, UTC)", "Decode speed (tokens/s)"]);
    expect(svg).not.toContain("<script");
    expect(chart.caption).toContain("1 run without a full measurement date");
    expect(runTime(rows[0] as RunRow).time).toBe(Date.UTC(2026, 0, 1));
    expect(runTime(rows[3] as RunRow)).toEqual({ time: Date.parse("2026-11-20T10:00:00Z"), measured: false });
  });

  it("gives no chart without runs", () => {
    expect(engineHistoryChart([], { subject: "x" })).toBeUndefined();
  });
});

describe("histories", () => {
  it("leaves hidden runs out, as the leaderboards do", () => {
    const pair = { hardwareSlug: "raspberry-pi-5", modelSlug: "qwen3-4b", modelName: "Qwen3-4B" };
    const runs = [
      row("a", { ...pair, measuredAt: "2026-01-01", engineVersion: "b4000", decodeTps: 10 }),
      row("b", { ...pair, measuredAt: "2026-02-01", engineVersion: "b5000", decodeTps: 99, status: "hidden" }),
      row("c", { ...pair, measuredAt: "2026-03-01", engineVersion: "b5000", decodeTps: 12 }),
      row("d", { modelSlug: "lone", measuredAt: "2026-01-01" }),
      row("e", { modelSlug: "lone", measuredAt: "2026-02-01", status: "hidden" }),
    ];
    const all = histories(runs);
    expect(all.map((h) => h.key)).toEqual(["raspberry-pi-5/qwen3-4b"]);
    const entries = all[0]?.entries ?? [];
    expect(entries.map((e) => e.row.id)).toEqual(["a", "c"]);
    expect(entries[1]?.baseline?.id).toBe("a");
  });
});

describe("comparePairs", () => {
  it("takes each side's best ranked figure in the metric's direction", () => {
    const model = { modelSlug: "qwen3-4b", modelName: "Qwen3-4B" };
    const onA = { ...model, hardwareSlug: "a" };
    const onB = { ...model, hardwareSlug: "b" };
    const boards = new Map([
      [
        "a",
        [
          row("a1", { ...onA, decodeTps: 10, prefillTps: 50, ttftMs: 300, qualityScore: 0.5 }),
          row("a2", { ...onA, decodeTps: 12, prefillTps: 40, ttftMs: 200, qualityScore: 0.4 }),
          row("a3", { ...onA, decodeTps: 99, ttftMs: 1, rankedApart: true }),
        ],
      ],
      ["b", [row("b1", { ...onB, decodeTps: 6, prefillTps: 20, ttftMs: 400, qualityScore: null })]],
    ]);
    const pairs = comparePairs(
      [
        { slug: "b", name: "B" },
        { slug: "a", name: "A" },
      ],
      boards,
    );
    expect(pairs.map((p) => p.slug)).toEqual(["a-vs-b"]);
    const side = pairs[0]?.rows[0]?.a;
    expect(side).toMatchObject({
      decodeTps: 12,
      prefillTps: 50,
      ttftMs: 200,
      qualityScore: 0.5,
      rankedRuns: 2,
      apartRuns: 1,
    });
    expect(pairs[0]?.rows[0]?.b.qualityScore).toBeNull();
  });
});

describe("sampleSegments", () => {
  const sample = (text: string, outlier = false) => ({ text, outlier });

  it("joins plain samples into one text and keeps each outlier apart, with the commas where they were", () => {
    expect(sampleSegments([sample("1"), sample("2"), sample("9", true), sample("3")])).toEqual([
      { text: "1, 2, ", outlier: false },
      { text: "9", outlier: true },
      { text: ", 3", outlier: false },
    ]);
    expect(sampleSegments([sample("9", true), sample("8", true)])).toEqual([
      { text: "9", outlier: true },
      { text: ", ", outlier: false },
      { text: "8", outlier: true },
    ]);
    expect(sampleSegments([])).toEqual([]);
  });

  it("writes thousands of samples as one text when none is an outlier", () => {
    const many = Array.from({ length: 2836 }, (_, i) => sample(String(i)));
    const segments = sampleSegments(many);
    expect(segments).toHaveLength(1);
    expect(segments[0]?.text.split(", ")).toHaveLength(2836);
  });
});

describe("cellPairs", () => {
  const cell = (hardwareSlug: string, modelSlug: string) => ({
    hardwareSlug,
    hardwareName: hardwareSlug.toUpperCase(),
    modelSlug,
    modelName: `Model ${modelSlug}`,
  });

  it("pairs every two hardware with a model in common, A before B by slug, naming the models both ran", () => {
    const pairs = cellPairs([
      cell("pi5", "m1"),
      cell("orin", "m1"),
      cell("orin", "m2"),
      cell("pi5", "m2"),
      cell("rk", "m3"),
    ]);
    expect(pairs).toEqual([
      {
        slug: "orin-vs-pi5",
        a: { slug: "orin", name: "ORIN" },
        b: { slug: "pi5", name: "PI5" },
        models: [
          { slug: "m1", name: "Model m1" },
          { slug: "m2", name: "Model m2" },
        ],
      },
    ]);
  });
});
