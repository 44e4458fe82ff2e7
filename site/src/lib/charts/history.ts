// Decode speed of one hardware × model pair over time, coloured by engine version: whether a new
// llama.cpp (or Ollama, MLX…) release made it faster.
import type { RunRow } from "../../../../schema/api.ts";
import { engineVersionLabel, formatNumber } from "../format.ts";
import { runDateCell, runTime } from "../view.ts";
import { type Chart, plural } from "./chart.ts";
import { PLOT_HEIGHT, PLOT_WIDTH } from "./render.ts";

export interface HistoryOptions {
  id?: string;
  /** e.g. "Qwen3-4B Q4_K_M on Raspberry Pi 5". */
  subject: string;
}

export function engineHistoryChart(rows: readonly RunRow[], options: HistoryOptions): Chart | undefined {
  const ranked = rows.filter((r) => !r.rankedApart && r.status === "visible");
  const plotted = ranked
    .filter((r): r is RunRow & { decodeTps: number } => r.decodeTps !== null)
    .map((r) => ({ row: r, ...runTime(r) }))
    .filter((p) => Number.isFinite(p.time))
    .sort((a, b) => a.time - b.time);
  if (plotted.length === 0) return undefined;
  const points = plotted.map((p) => ({
    id: p.row.id,
    time: p.time,
    decode: p.row.decodeTps,
    version: engineVersionLabel(p.row),
  }));
  const versions = [...new Set(points.map((p) => p.version))];
  const received = plotted.filter((p) => !p.measured).length;
  const apart = rows.length - ranked.length;
  const noSpeed = ranked.length - plotted.length;
  const x = { field: "time", type: "temporal", title: "Measured (date, UTC)", scale: { type: "utc" } } as const;
  const y = { field: "decode", type: "quantitative", title: "Decode speed (tokens/s)", scale: { zero: true } } as const;
  const color = { field: "version", type: "nominal", title: "Engine version", scale: { domain: versions } } as const;
  const title = `Decode speed over time: ${options.subject}`;
  const heading = { text: "Decode speed over time", subtitle: options.subject };
  const notes = [
    received > 0 &&
      `${plural(received, "run")} without a full measurement date ${received === 1 ? "is" : "are"} placed at the date the registry received ${received === 1 ? "it" : "them"}`,
    apart > 0 && `${plural(apart, "run")} ranked apart ${apart === 1 ? "is" : "are"} left out`,
    noSpeed > 0 && `${plural(noSpeed, "run")} without a decode speed ${noSpeed === 1 ? "is" : "are"} left out`,
  ].filter(Boolean);

  return {
    id: options.id ?? "history-chart",
    title,
    alt: `Decode speed of ${plural(points.length, "run")} over time, in ${plural(versions.length, "engine version")}: ${versions.join(", ")}.`,
    caption: `Each point is a ranked run, coloured by its engine and version; runs of one version are joined in time order.${notes.length > 0 ? ` ${notes.join("; ")}.` : ""}`,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: heading,
      width: PLOT_WIDTH,
      height: PLOT_HEIGHT,
      data: { values: points },
      layer: [
        { mark: { type: "line", strokeWidth: 1.5, opacity: 0.6 }, encoding: { x, y, color } },
        { mark: { type: "point", filled: true, size: 70 }, encoding: { x, y, color, shape: { ...color } } },
      ],
    },
    table: {
      columns: [
        { label: "Date" },
        { label: "Engine version" },
        { label: "Decode (tok/s)", numeric: true },
        { label: "Run" },
      ],
      rows: plotted.map((p) => [
        runDateCell(p.row),
        engineVersionLabel(p.row),
        formatNumber(p.row.decodeTps),
        p.row.id,
      ]),
    },
  };
}
