// A parameter sweep as curves: for each swept parameter, how speed, latency, memory and quality
// move as it changes (seed 003: quality against batch size, sampling settings…).
import type { Sweep } from "../../../../schema/bundle.ts";
import { centralValue } from "../../../../schema/summary.ts";
import { formatBytes, formatMs, formatPercent, formatTps } from "../format.ts";
import { configValue, formatConfigValue, peakMemory, primaryScore, sweepView } from "../view.ts";
import { type Chart, plural } from "./chart.ts";
import { PLOT_WIDTH } from "./render.ts";

type Panel = "speed" | "ttft" | "quality" | "memory";

interface Series {
  key: "decode" | "prefill" | "ttft" | "quality" | "memory";
  name: string;
  panel: Panel;
}

const SERIES: Series[] = [
  { key: "decode", name: "Decode", panel: "speed" },
  { key: "prefill", name: "Prefill", panel: "speed" },
  { key: "ttft", name: "Time to first token", panel: "ttft" },
  { key: "quality", name: "Quality score", panel: "quality" },
  { key: "memory", name: "Peak host memory", panel: "memory" },
];

const PANEL_AXIS: Record<Panel, { title: string; format?: string }> = {
  speed: { title: "Speed (tokens/s)" },
  ttft: { title: "Time to first token (ms)" },
  quality: { title: "Quality score (%)", format: ".0%" },
  memory: { title: "Peak host memory (GB)" },
};

/** Units of the config fields a sweep can vary, for axis titles. */
const PARAMETER_UNITS: Record<string, string> = {
  contextSize: "tokens",
  batchSize: "tokens",
  ubatchSize: "tokens",
  threads: "threads",
  gpuLayers: "layers",
  concurrency: "requests",
  "sampling.maxTokens": "tokens",
};

/** Panels are drawn for at most this many parameters × metrics; the table lists every point. */
const MAX_PANELS = 8;
const PANEL_HEIGHT = 170;

interface PointValues {
  index: number;
  parameter: string;
  x: number | string;
  xText: string;
  values: Partial<Record<Series["key"], number>>;
}

/**
 * The parameter each point varies: of the swept parameters it sets, the one the fewest points set
 * (the most specific). A point at {contextSize: 1024, batchSize: 768, sampling.temperature: 0.5}
 * in a sweep where most points set batch and context varies the temperature.
 */
export function variedParameters(sweep: Sweep): Array<string | undefined> {
  const setBy = new Map<string, number>();
  const sets = sweep.points.map((point) =>
    sweep.parameters.filter((p) => {
      const v = configValue(point.config, p);
      return typeof v === "number" || typeof v === "string" || typeof v === "boolean";
    }),
  );
  for (const params of sets) for (const p of params) setBy.set(p, (setBy.get(p) ?? 0) + 1);
  return sets.map((params) =>
    params.reduce<string | undefined>(
      (best, p) => (best === undefined || (setBy.get(p) ?? 0) <= (setBy.get(best) ?? 0) ? p : best),
      undefined,
    ),
  );
}

export function sweepChart(sweep: Sweep, id = "sweep-chart"): Chart | undefined {
  const view = sweepView(sweep);
  const varied = variedParameters(sweep);
  const points: PointValues[] = [];
  sweep.points.forEach((point, index) => {
    const parameter = varied[index];
    if (parameter === undefined) return;
    const raw = configValue(point.config, parameter) as number | string | boolean;
    const row = view.rows[index];
    const values: PointValues["values"] = {};
    const put = (key: Series["key"], v: number | null | undefined) => {
      if (v !== null && v !== undefined && Number.isFinite(v)) values[key] = v;
    };
    put("decode", row?.decode ? centralValue(row.decode) : undefined);
    put("prefill", row?.prefill ? centralValue(row.prefill) : undefined);
    put("ttft", row?.ttft ? centralValue(row.ttft) : undefined);
    put("quality", primaryScore(point.quality)?.score.value);
    const memory = peakMemory(point.memory);
    put("memory", memory === null ? undefined : memory / 1e9);
    points.push({
      index,
      parameter,
      x: typeof raw === "boolean" ? String(raw) : raw,
      xText: formatConfigValue(raw),
      values,
    });
  });

  // A panel per (parameter, metric group) with at least one curve: a series with two points or more.
  const panels: Array<{ parameter: string; panel: Panel; data: Array<Record<string, unknown>> }> = [];
  for (const parameter of sweep.parameters) {
    const ofParameter = points.filter((p) => p.parameter === parameter);
    for (const panel of ["quality", "speed", "ttft", "memory"] as Panel[]) {
      const series = SERIES.filter((s) => s.panel === panel);
      const data = ofParameter.flatMap((p) =>
        series.flatMap((s) =>
          p.values[s.key] === undefined
            ? []
            : [{ x: p.x, xText: p.xText, value: p.values[s.key], series: s.name, point: p.index + 1 }],
        ),
      );
      const curves = series.filter((s) => data.filter((d) => d.series === s.name).length >= 2);
      if (curves.length > 0) panels.push({ parameter, panel, data });
    }
  }
  if (panels.length === 0) return undefined;
  const shown = panels.slice(0, MAX_PANELS);
  const seriesNames = SERIES.filter((s) => shown.some((p) => p.data.some((d) => d.series === s.name))).map(
    (s) => s.name,
  );

  const title = `Sweep over ${sweep.parameters.length === 1 ? sweep.parameters[0] : `${sweep.parameters.length} parameters`}`;
  const plottedIndexes = new Set(shown.flatMap((p) => p.data.map((d) => d.point as number)));
  const plotted = points.filter((p) => plottedIndexes.has(p.index + 1));
  const columns = SERIES.filter((s) => plotted.some((p) => p.values[s.key] !== undefined));
  const cell = (key: Series["key"], v: number | undefined) => {
    if (v === undefined) return "—";
    if (key === "decode" || key === "prefill") return formatTps(v);
    if (key === "ttft") return formatMs(v);
    if (key === "quality") return formatPercent(v);
    return formatBytes(v * 1e9);
  };
  const panelTitles = shown.map((p) => `${PANEL_AXIS[p.panel].title.replace(/ \(.*\)$/, "")} by ${p.parameter}`);

  return {
    id,
    title,
    alt: `Line charts of a parameter sweep, one panel each: ${panelTitles.join("; ")}. The table under the chart lists every plotted point.`,
    caption: `Each panel follows one swept parameter, over the points that vary it (a point varies the parameter it sets that the fewest points set). Only metrics measured at two points or more are drawn as curves.${panels.length > shown.length ? ` ${panels.length - shown.length} more ${panels.length - shown.length === 1 ? "panel is" : "panels are"} left out; the sweep table lists every point.` : ""}`,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title,
      vconcat: shown.map((p, i) => {
        const numeric = p.data.every((d) => typeof d.x === "number");
        const unit = PARAMETER_UNITS[p.parameter];
        return {
          title: { text: panelTitles[i] as string, fontSize: 14 },
          width: PLOT_WIDTH,
          height: PANEL_HEIGHT,
          data: { values: p.data },
          mark: { type: "line", point: { filled: true, size: 60 }, strokeWidth: 2 },
          encoding: {
            x: numeric
              ? {
                  field: "x",
                  type: "quantitative",
                  title: unit ? `${p.parameter} (${unit})` : p.parameter,
                  scale: { zero: false, nice: true },
                }
              : { field: "xText", type: "ordinal", sort: null, title: p.parameter, axis: { labelAngle: 0 } },
            y: {
              field: "value",
              type: "quantitative",
              title: PANEL_AXIS[p.panel].title,
              ...(PANEL_AXIS[p.panel].format ? { axis: { format: PANEL_AXIS[p.panel].format } } : {}),
              scale: { zero: p.panel === "quality" || p.panel === "speed" },
            },
            color: { field: "series", type: "nominal", title: null, scale: { domain: seriesNames } },
          },
        };
      }),
    },
    table: {
      columns: [
        { label: "Point", numeric: true },
        { label: "Varies" },
        { label: "Value", numeric: true },
        ...columns.map((s) => ({ label: s.name, numeric: true })),
      ],
      rows: plotted.map((p) => [
        String(p.index + 1),
        p.parameter,
        p.xText,
        ...columns.map((s) => cell(s.key, p.values[s.key])),
      ]),
      note: `${plural(plotted.length, "point")} plotted of ${sweep.points.length}.`,
    },
  };
}
