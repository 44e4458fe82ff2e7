// Speed against quality for the ranked runs of one hardware (or one model across hardware), with the
// Pareto front: the runs no other run beats on both decode speed and quality score.
import type { RunRow } from "../../../../schema/api.ts";
import { formatNumber, formatPercent, formatTps } from "../format.ts";
import { type Chart, plural, shorten } from "./chart.ts";
import { paretoFront } from "./pareto.ts";
import { ACCENT, MUTED, PLOT_HEIGHT, PLOT_WIDTH } from "./render.ts";

export interface SpeedQualityOptions {
  /** Unique on the page. */
  id: string;
  /** What the chart is about, after "Speed and quality": "on Raspberry Pi 5", "of Qwen3-4B across hardware". */
  subject: string;
  /** The name a point is known by: the model on a hardware page, the hardware on a model page. */
  label: (row: RunRow) => string;
  /** The table's heading for that name. */
  labelHeading: string;
}

interface ScatterPoint {
  id: string;
  label: string;
  short: string;
  decode: number;
  quality: number;
  front: boolean;
  group: string;
  /** Labels of points in the right part of the plot go to their left, so they stay inside it. */
  labelLeft: boolean;
  /** Where the label sits, in quality units: above its point, pushed down to clear the label before it. */
  labelY: number;
}

/** Pixels between a front point and its label, and between two labels' baselines. */
const LABEL_GAP_PX = 11;
const LABEL_STEP_PX = 16;

const FRONT = "Pareto front";
const DOMINATED = "Dominated";

/** A run's name on a chart: its label and quantization. */
export function runLabel(name: string, row: Pick<RunRow, "quantization">): string {
  return row.quantization ? `${name} ${row.quantization}` : name;
}

export function speedQualityChart(rows: readonly RunRow[], options: SpeedQualityOptions): Chart | undefined {
  const ranked = rows.filter((r) => !r.rankedApart && r.status === "visible");
  const plotted = ranked.filter(
    (r): r is RunRow & { decodeTps: number; qualityScore: number } => r.decodeTps !== null && r.qualityScore !== null,
  );
  // One point compares with nothing: the table beside it says all a chart would.
  if (plotted.length < 2) return undefined;
  const noQuality = ranked.filter((r) => r.qualityScore === null).length;
  const noSpeed = ranked.filter((r) => r.qualityScore !== null && r.decodeTps === null).length;

  const front = new Set(
    paretoFront(
      plotted,
      (r) => r.decodeTps,
      (r) => r.qualityScore,
    ).map((r) => r.id),
  );
  const maxDecode = Math.max(...plotted.map((r) => r.decodeTps));
  const points: ScatterPoint[] = plotted.map((r) => {
    const label = runLabel(options.label(r), r);
    const onFront = front.has(r.id);
    return {
      id: r.id,
      label,
      short: shorten(label, 28),
      decode: r.decodeTps,
      quality: r.qualityScore,
      front: onFront,
      group: onFront ? FRONT : DOMINATED,
      labelLeft: r.decodeTps > maxDecode * 0.55,
      labelY: r.qualityScore,
    };
  });
  const frontPoints = points.filter((p) => p.front).sort((a, b) => a.decode - b.decode);
  // Along the front quality falls as speed rises, so labels stacked top to bottom in that order
  // never overlap: each goes just above its point, or one line under the previous label.
  const qualityMax = Math.max(1, ...points.map((p) => p.quality));
  const perPixel = qualityMax / PLOT_HEIGHT;
  let previous = Number.POSITIVE_INFINITY;
  for (const p of frontPoints) {
    p.labelY = Math.min(p.quality + LABEL_GAP_PX * perPixel, previous - LABEL_STEP_PX * perPixel);
    previous = p.labelY;
  }
  const groups = [FRONT, ...(points.length > frontPoints.length ? [DOMINATED] : [])];

  const x = {
    field: "decode",
    type: "quantitative",
    title: "Decode speed (tokens/s)",
    scale: { zero: true, nice: true },
  } as const;
  const y = {
    field: "quality",
    type: "quantitative",
    title: "Quality score (%)",
    axis: { format: ".0%" },
    scale: { zero: true, domainMax: qualityMax, nice: false },
  } as const;
  const labelLayer = (left: boolean) => ({
    transform: [{ filter: left ? "datum.front && datum.labelLeft" : "datum.front && !datum.labelLeft" }],
    mark: {
      type: "text",
      align: left ? "right" : "left",
      baseline: "middle",
      dx: left ? -4 : 4,
      fontSize: 13,
    } as const,
    encoding: { x, y: { ...y, field: "labelY" }, text: { field: "short", type: "nominal" } } as const,
  });
  const title = `Speed and quality ${options.subject}`;
  const heading = { text: "Speed and quality", subtitle: options.subject };
  const leftOut = [
    noQuality > 0 &&
      `${plural(noQuality, "ranked run")} without a quality score ${noQuality === 1 ? "is" : "are"} left out`,
    noSpeed > 0 && `${plural(noSpeed, "ranked run")} without a decode speed ${noSpeed === 1 ? "is" : "are"} left out`,
  ].filter(Boolean);
  const best = frontPoints.map((p) => `${p.label} (${formatTps(p.decode)}, ${formatPercent(p.quality)})`);

  return {
    id: options.id,
    title,
    alt: `Scatter plot of decode speed against quality score for ${plural(points.length, "ranked run")}. ${plural(frontPoints.length, "run")} on the Pareto front, from slowest to fastest: ${best.join("; ")}.`,
    caption: `Each point is a ranked run: decode speed across, the primary quality score up. The line joins the Pareto front: runs that no other run beats on both speed and quality, labelled by name. ${leftOut.length > 0 ? `${leftOut.join("; ")}.` : "Every ranked run has a quality score."}`,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: heading,
      width: PLOT_WIDTH,
      height: PLOT_HEIGHT,
      data: { values: points },
      layer: [
        {
          transform: [{ filter: "datum.front" }],
          mark: { type: "line", interpolate: "step-before", color: ACCENT, strokeWidth: 2, opacity: 0.8 },
          encoding: { x, y, order: { field: "decode", type: "quantitative" } },
        },
        {
          mark: { type: "point", filled: true, size: 70, opacity: 0.9 },
          encoding: {
            x,
            y,
            color: {
              field: "group",
              type: "nominal",
              title: null,
              scale: { domain: groups, range: [ACCENT, MUTED] },
            },
            shape: {
              field: "group",
              type: "nominal",
              title: null,
              scale: { domain: groups, range: ["diamond", "circle"] },
            },
          },
        },
        labelLayer(false),
        labelLayer(true),
      ],
    },
    table: {
      columns: [
        { label: options.labelHeading },
        { label: "Decode (tok/s)", numeric: true },
        { label: "Quality score", numeric: true },
        { label: "On the Pareto front" },
      ],
      rows: [...points]
        .sort((a, b) => b.decode - a.decode)
        .map((p) => [p.label, formatNumber(p.decode), formatPercent(p.quality), p.front ? "yes" : "no"]),
    },
  };
}
