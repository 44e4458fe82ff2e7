// A soak test over time (seed 004): request latency, temperature and memory in panels that share
// the time axis, each with its own y axis and unit.
import type { Soak } from "../../../../schema/bundle.ts";
import { formatBytes, formatCelsius, formatDuration, formatMs, formatPercent } from "../format.ts";
import { type Chart, plural } from "./chart.ts";
import { DANGER, PALETTE, PLOT_WIDTH } from "./render.ts";

type SoakPoint = NonNullable<Soak["series"]>[number];
type Metric = "latency" | "temperature" | "rss" | "system";

/** Beyond this many points the series is averaged into buckets (with each bucket's min–max as a band). */
const MAX_POINTS = 300;
/** Rows in the text alternative's table. */
const MAX_TABLE_ROWS = 120;
const PANEL_HEIGHT = 150;

interface Row {
  t: number;
  tMs: number;
  latency?: number;
  latencyMin?: number;
  latencyMax?: number;
  temperature?: number;
  temperatureMin?: number;
  temperatureMax?: number;
  rss?: number;
  rssMin?: number;
  rssMax?: number;
  system?: number;
  systemMin?: number;
  systemMax?: number;
}

const RAW: Record<Metric, (p: SoakPoint) => number | undefined> = {
  latency: (p) => p.latencyMs,
  temperature: (p) => p.temperatureC,
  rss: (p) => p.rssBytes,
  system: (p) => p.systemUsedFraction,
};

function stats(values: number[]): { mean: number; min: number; max: number } | undefined {
  if (values.length === 0) return undefined;
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** The series as plotted: every point, or at most MAX_POINTS buckets of equal time with mean, min and max. */
function rowsOf(series: readonly SoakPoint[], timeScale: number): { rows: Row[]; bucketed: boolean } {
  const sorted = [...series].sort((a, b) => a.tMs - b.tMs);
  if (sorted.length <= MAX_POINTS) {
    return {
      rows: sorted.map((p) => ({
        t: p.tMs / timeScale,
        tMs: p.tMs,
        latency: p.latencyMs,
        temperature: p.temperatureC,
        rss: p.rssBytes,
        system: p.systemUsedFraction,
      })),
      bucketed: false,
    };
  }
  const start = sorted[0]?.tMs ?? 0;
  const span = (sorted.at(-1)?.tMs ?? 0) - start || 1;
  const buckets: SoakPoint[][] = Array.from({ length: MAX_POINTS }, () => []);
  for (const p of sorted) buckets[Math.min(MAX_POINTS - 1, Math.floor(((p.tMs - start) / span) * MAX_POINTS))]?.push(p);
  const rows = buckets
    .filter((b) => b.length > 0)
    .map((b) => {
      const tMs = b.reduce((a, p) => a + p.tMs, 0) / b.length;
      const row: Row = { t: tMs / timeScale, tMs };
      for (const metric of Object.keys(RAW) as Metric[]) {
        const s = stats(b.flatMap((p) => (RAW[metric](p) === undefined ? [] : [RAW[metric](p) as number])));
        if (!s) continue;
        row[metric] = s.mean;
        row[`${metric}Min`] = s.min;
        row[`${metric}Max`] = s.max;
      }
      return row;
    });
  return { rows, bucketed: true };
}

export function soakChart(soak: Soak, id = "soak-chart"): Chart | undefined {
  const series = soak.series ?? [];
  if (series.length < 2) return undefined;
  const lastMs = Math.max(...series.map((p) => p.tMs));
  const minutes = lastMs >= 120_000;
  const timeScale = minutes ? 60_000 : 1000;
  const { rows, bucketed } = rowsOf(series, timeScale);

  const latencies = rows.flatMap((r) => (r.latency === undefined ? [] : [r.latency]));
  const latencyInSeconds = latencies.length > 0 && Math.max(...latencies) >= 5000;
  const rssValues = rows.flatMap((r) => (r.rss === undefined ? [] : [r.rss]));
  const rssInGb = rssValues.length > 0 && Math.max(...rssValues) >= 2e9;

  const panels: Array<{ metric: Metric; title: string; axis: string; scale: number; format?: string; color: string }> =
    [
      {
        metric: "latency" as const,
        title: "Request latency",
        axis: latencyInSeconds ? "Latency (s)" : "Latency (ms)",
        scale: latencyInSeconds ? 1000 : 1,
        color: PALETTE[0] as string,
      },
      {
        metric: "temperature" as const,
        title: "Temperature",
        axis: "Temperature (°C)",
        scale: 1,
        color: PALETTE[1] as string,
      },
      {
        metric: "rss" as const,
        title: "Memory (RSS)",
        axis: rssInGb ? "RSS (GB)" : "RSS (MB)",
        scale: rssInGb ? 1e9 : 1e6,
        color: PALETTE[2] as string,
      },
      {
        metric: "system" as const,
        title: "System memory in use",
        axis: "System memory in use (%)",
        scale: 1,
        format: ".1%",
        color: PALETTE[4] as string,
      },
    ].filter((p) => rows.filter((r) => r[p.metric] !== undefined).length >= 2);
  if (panels.length === 0) return undefined;

  const failures = series.filter((p) => p.ok === false);
  const timeTitle = minutes ? "Time since start (min)" : "Time since start (s)";
  const x = { field: "t", type: "quantitative", title: timeTitle, scale: { zero: true, nice: false } } as const;

  const title = "Soak test over time";
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: {
      values: rows.map((r) => {
        const out: Record<string, number | undefined> = { t: r.t };
        for (const p of panels) {
          for (const suffix of ["", "Min", "Max"] as const) {
            const v = r[`${p.metric}${suffix}` as keyof Row];
            if (v !== undefined) out[`${p.metric}${suffix}`] = v / p.scale;
          }
        }
        return out;
      }),
    },
    vconcat: panels.map((p) => {
      const y = {
        field: p.metric,
        type: "quantitative",
        title: p.axis,
        scale: { zero: false, nice: true },
        ...(p.format ? { axis: { format: p.format } } : {}),
      } as const;
      const layers: unknown[] = [];
      if (bucketed) {
        layers.push({
          transform: [{ filter: `isValid(datum.${p.metric}Min)` }],
          mark: { type: "area", color: p.color, opacity: 0.25 },
          encoding: { x, y: { ...y, field: `${p.metric}Min` }, y2: { field: `${p.metric}Max` } },
        });
      }
      layers.push({
        transform: [{ filter: `isValid(datum.${p.metric})` }],
        mark: { type: "line", color: p.color, strokeWidth: 1.5, interpolate: "linear" },
        encoding: { x, y },
      });
      if (p.metric === "temperature" && soak.throttleThresholdC !== undefined) {
        layers.push({
          data: { values: [{ threshold: soak.throttleThresholdC }] },
          mark: { type: "rule", color: DANGER, strokeDash: [6, 4], strokeWidth: 1.5 },
          encoding: { y: { field: "threshold", type: "quantitative" } },
        });
        layers.push({
          data: {
            values: [{ threshold: soak.throttleThresholdC, label: `throttle threshold ${soak.throttleThresholdC} °C` }],
          },
          mark: { type: "text", color: DANGER, align: "right", dy: -6, x: "width", fontSize: 12 },
          encoding: { y: { field: "threshold", type: "quantitative" }, text: { field: "label" } },
        });
      }
      if (p.metric === "latency" && failures.length > 0) {
        layers.push({
          data: {
            values: failures.slice(0, 500).map((f) => ({ t: f.tMs / timeScale, label: "failed request" })),
          },
          mark: { type: "tick", color: DANGER, thickness: 2, orient: "vertical" },
          encoding: { x, y: { value: PANEL_HEIGHT } },
        });
      }
      return { title: { text: p.title, fontSize: 14 }, width: PLOT_WIDTH, height: PANEL_HEIGHT, layer: layers };
    }),
  };

  const tableRows = rows.slice(0, MAX_TABLE_ROWS);
  const has = (m: Metric) => panels.some((p) => p.metric === m);
  const columns = [
    { label: bucketed ? "Time (bucket mean)" : "Time", numeric: true },
    ...(has("latency") ? [{ label: "Latency", numeric: true }] : []),
    ...(has("temperature") ? [{ label: "Temperature", numeric: true }] : []),
    ...(has("rss") ? [{ label: "RSS", numeric: true }] : []),
    ...(has("system") ? [{ label: "System memory in use", numeric: true }] : []),
  ];
  const failureText =
    failures.length > 0
      ? ` Ticks along the bottom of the latency panel mark ${plural(failures.length, "failed request")}.`
      : "";
  return {
    id,
    title,
    alt: `Line charts over ${formatDuration(lastMs)} of the soak test, one panel each for ${panels.map((p) => p.title.toLowerCase()).join(", ")}, from ${plural(series.length, "sample")}.`,
    caption: `${plural(series.length, "sample")} over ${formatDuration(lastMs)}, each panel with its own axis.${bucketed ? ` Averaged into ${rows.length} time buckets; the shaded band spans each bucket's lowest to highest value.` : ""}${soak.throttleThresholdC !== undefined && has("temperature") ? ` The dashed line is the throttle threshold (${soak.throttleThresholdC} °C).` : ""}${failureText}`,
    spec: spec as Chart["spec"],
    table: {
      columns,
      rows: tableRows.map((r) => [
        formatDuration(r.tMs),
        ...(has("latency") ? [formatMs(r.latency)] : []),
        ...(has("temperature") ? [formatCelsius(r.temperature)] : []),
        ...(has("rss") ? [formatBytes(r.rss)] : []),
        ...(has("system") ? [formatPercent(r.system)] : []),
      ]),
      note:
        rows.length > tableRows.length
          ? `The first ${tableRows.length} of ${rows.length} plotted ${bucketed ? "buckets" : "points"}; every sample is in the run's signed bundle.`
          : undefined,
    },
  };
}
