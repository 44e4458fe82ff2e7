// How close each ranked run comes to its roofline: the decode speed memory bandwidth allows
// (bandwidth / bytes read per token). Above 100% a run claims more than physics allows.
import type { RunRow } from "../../../../schema/api.ts";
import type { Bundle } from "../../../../schema/bundle.ts";
import { formatNumber, formatPercent, formatTps } from "../format.ts";
import { type Chart, plural, shorten } from "./chart.ts";
import { DANGER, PALETTE, PLOT_WIDTH } from "./render.ts";
import { runLabel } from "./scatter.ts";

/** Bars drawn at most, in leaderboard order (the fastest runs); the rest are counted in the caption. */
const MAX_BARS = 30;
const BAR_STEP = 30;

export interface RooflineOptions {
  id: string;
  subject: string;
  label: (row: RunRow) => string;
  labelHeading: string;
}

export function rooflineChart(
  rows: readonly RunRow[],
  /** A run's roofline estimate (from its bundle, or its glance), if it has one. */
  bundleOf: (id: string) => { roofline?: Bundle["roofline"] | null } | undefined,
  options: RooflineOptions,
): Chart | undefined {
  const ranked = rows.filter((r) => !r.rankedApart && r.status === "visible");
  const withRoofline = ranked.flatMap((row) => {
    const roofline = bundleOf(row.id)?.roofline;
    return roofline ? [{ row, roofline }] : [];
  });
  if (withRoofline.length === 0) return undefined;
  const shown = withRoofline.slice(0, MAX_BARS);
  const seen = new Map<string, number>();
  const bars = shown.map(({ row, roofline }) => {
    const base = runLabel(options.label(row), row);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const label = n > 1 ? `${base} (${n})` : base;
    const decode = row.decodeTps ?? roofline.efficiency * roofline.decodeUpperBoundTps;
    return {
      id: row.id,
      label,
      // Unique and short: the axis shows this, the table the full label.
      axisLabel: n > 1 ? `${shorten(base, 26)} (${n})` : shorten(base, 30),
      efficiency: roofline.efficiency,
      decode,
      bound: roofline.decodeUpperBoundTps,
      above: roofline.efficiency > 1,
      text: `${formatNumber(decode)} of ${formatTps(roofline.decodeUpperBoundTps)}`,
    };
  });
  const maxEfficiency = Math.max(1, ...bars.map((b) => b.efficiency));
  const above = bars.filter((b) => b.above).length;
  const missing = ranked.length - withRoofline.length;
  const title = `Roofline efficiency ${options.subject}`;
  const heading = { text: "Roofline efficiency", subtitle: options.subject };
  const x = {
    field: "efficiency",
    type: "quantitative" as const,
    title: "Decode speed as a share of the roofline bound (%)",
    axis: { format: ".0%" },
    scale: { domain: [0, maxEfficiency * 1.25] },
  };
  const y = {
    field: "axisLabel",
    type: "nominal",
    title: null,
    sort: { field: "efficiency", op: "max", order: "descending" },
    axis: { labelLimit: 230 },
  } as const;

  return {
    id: options.id,
    title,
    alt: `Bar chart of decode speed as a percentage of the memory-bandwidth roofline for ${plural(bars.length, "ranked run")}: ${[
      ...bars,
    ]
      .sort((a, b) => b.efficiency - a.efficiency)
      .map((b) => `${b.label} ${formatPercent(b.efficiency)}`)
      .join("; ")}.`,
    caption: `The roofline is the fastest decode memory bandwidth allows: bandwidth divided by the bytes read per generated token. Each bar is a ranked run's measured decode speed as a share of it (the dashed line is 100%); the text gives both in tokens/s.${above > 0 ? ` ${plural(above, "run")} above 100% claim${above === 1 ? "s" : ""} more than the hardware can deliver.` : ""}${missing > 0 ? ` ${plural(missing, "ranked run")} without a roofline (no memory bandwidth or model size recorded) ${missing === 1 ? "is" : "are"} left out.` : ""}${withRoofline.length > shown.length ? ` Only the ${shown.length} fastest are drawn.` : ""}`,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: heading,
      width: PLOT_WIDTH - 120,
      height: { step: BAR_STEP },
      data: { values: bars },
      layer: [
        {
          mark: { type: "bar", cornerRadiusEnd: 2, height: { band: 0.7 } },
          encoding: {
            x,
            y,
            color: {
              field: "above",
              type: "nominal",
              scale: { domain: [false, true], range: [PALETTE[0] as string, DANGER] },
              legend: null,
            },
          },
        },
        {
          mark: { type: "text", align: "left", dx: 5, fontSize: 12 },
          encoding: { x, y, text: { field: "text", type: "nominal" } },
        },
        {
          data: { values: [{ bound: 1 }] },
          mark: { type: "rule", strokeDash: [6, 4], color: DANGER, strokeWidth: 1.5 },
          encoding: { x: { field: "bound", type: "quantitative" } },
        },
      ],
    },
    table: {
      columns: [
        { label: options.labelHeading },
        { label: "Decode (tok/s)", numeric: true },
        { label: "Roofline bound (tok/s)", numeric: true },
        { label: "Efficiency", numeric: true },
      ],
      rows: [...bars]
        .sort((a, b) => b.efficiency - a.efficiency)
        .map((b) => [b.label, formatNumber(b.decode), formatNumber(b.bound), formatPercent(b.efficiency)]),
    },
  };
}
