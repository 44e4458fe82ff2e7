// What a chart is to a page: a Vega-Lite spec to render, and everything a reader without the
// picture needs (a one-line description, a caption, the plotted values as a table).
import type { TopLevelSpec } from "vega-lite";

export interface ChartTable {
  columns: Array<{ label: string; numeric?: boolean }>;
  /** Cells as display text, one array per row, in column order. */
  rows: string[][];
  /** Said under the table, e.g. when rows were left out. */
  note?: string;
}

export interface Chart {
  /** Unique on its page: the figure's id, for links and tests. */
  id: string;
  title: string;
  /** What the picture shows, in one or two sentences: the figure's aria-label. */
  alt: string;
  caption: string;
  spec: TopLevelSpec;
  table: ChartTable;
}

/** A label no longer than `max` characters (an ellipsis marks the cut), so long names do not crowd a plot. */
export function shorten(text: string, max = 32): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** "1 run", "3 runs". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}
