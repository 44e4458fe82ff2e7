// Renders a Vega-Lite spec to a static SVG string on the server (in the Worker, per render): no browser, no JavaScript on the
// page, nothing fetched. Colours are either `currentColor` (text, axes, grid: they follow the page's
// text colour, light or dark) or mid-tone data colours that read on both backgrounds.
import * as vega from "vega";
import { expressionInterpreter } from "vega-interpreter";
import type { Config, TopLevelSpec } from "vega-lite";
import * as vl from "vega-lite";

/** Data colours: mid tones, distinguishable from each other and legible on white and on near-black. */
export const PALETTE = ["#2f7fd0", "#e07b00", "#2a9d6f", "#d6478a", "#8a6ad6", "#a8871a", "#e0453a", "#3fa3b0"];
/** The colour of marks that are context rather than the point of the chart (dominated runs). */
export const MUTED = "#8c8c8c";
/** Marks that stand out: the Pareto front, a value above a physical bound. */
export const ACCENT = "#e07b00";
export const DANGER = "#d6334a";

/** Plot-area sizes chosen so the whole SVG stays readable when scaled down to a 360px screen. */
export const PLOT_WIDTH = 360;
export const PLOT_HEIGHT = 240;

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const INK = "currentColor";

const THEME: Config = {
  font: FONT,
  background: null as unknown as string,
  padding: 8,
  view: { stroke: null },
  title: {
    color: INK,
    fontSize: 17,
    fontWeight: 600,
    anchor: "start",
    subtitleColor: INK,
    subtitleFontSize: 14,
    limit: 520,
  },
  axis: {
    labelColor: INK,
    titleColor: INK,
    domainColor: INK,
    tickColor: INK,
    domainOpacity: 0.6,
    tickOpacity: 0.6,
    gridColor: INK,
    gridOpacity: 0.15,
    labelFontSize: 14,
    titleFontSize: 14,
    titleFontWeight: 600,
    labelLimit: 200,
  },
  legend: {
    labelColor: INK,
    titleColor: INK,
    labelFontSize: 14,
    titleFontSize: 14,
    orient: "bottom",
    direction: "vertical",
    labelLimit: 320,
    symbolSize: 90,
  },
  header: { labelColor: INK, titleColor: INK, labelFontSize: 14, titleFontSize: 14 },
  text: { color: INK, fontSize: 13 },
  range: { category: PALETTE },
  concat: { spacing: 28 },
  // Server-side rendering has no user to hover, and the page's own table is the text alternative.
  aria: false,
};

/** A spec with the site's theme applied. */
function themed(spec: TopLevelSpec): TopLevelSpec {
  return { ...spec, config: { ...THEME, ...(spec.config ?? {}) } } as TopLevelSpec;
}

/**
 * The spec as a standalone SVG string. One View per chart, finalized after rendering so nothing
 * keeps running. Vega escapes every text it writes (labels, titles, tooltips), so data from
 * submitters cannot inject markup.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vl.compile(themed(spec)).spec;
  // Vega's expressions as an interpreted AST, not compiled with `new Function`: the Workers runtime,
  // where the pages render, allows no code generation from strings.
  const view = new vega.View(vega.parse(compiled, undefined, { ast: true }), {
    renderer: "none",
    expr: expressionInterpreter,
  });
  try {
    const svg = await view.toSVG();
    // The SVG keeps its intrinsic width (a cap) and its viewBox, so CSS `max-width: 100%; height: auto`
    // scales it down on narrow screens with the aspect ratio kept.
    // The figure around it is the image, with its label (Chart.astro); the drawing's own parts stay
    // out of the accessibility tree.
    return compactGeometry(svg).replace(/^<svg /, '<svg aria-hidden="true" focusable="false" ');
  } finally {
    view.finalize();
  }
}

const GEOMETRY_ATTRIBUTE = / (d|transform|x|y|x1|y1|x2|y2|width|height)="([^"]*)"/g;
const LONG_DECIMAL = /(\d+\.\d)\d+/g;

/**
 * Vega writes coordinates with up to 15 decimals; a tenth of a pixel is plenty, and a long soak
 * series shrinks to about half. Only geometry attributes are touched, never text a submitter wrote.
 */
function compactGeometry(svg: string): string {
  return svg.replace(
    GEOMETRY_ATTRIBUTE,
    (_, name: string, value: string) => ` ${name}="${value.replace(LONG_DECIMAL, "$1")}"`,
  );
}
