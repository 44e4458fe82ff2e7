// Charts for the site, rendered to static SVG on the server (see render.ts).
export type { Chart } from "./chart.ts";
export { engineHistoryChart } from "./history.ts";
export { paretoFront } from "./pareto.ts";
export { renderSvg } from "./render.ts";
export { rooflineChart } from "./roofline.ts";
export { speedQualityChart } from "./scatter.ts";
export { soakChart } from "./soak.ts";
export { sweepChart, variedParameters } from "./sweep.ts";
