// What a model author copies into a model card: a badge per hardware (Markdown or HTML) and a
// Hugging Face `model-index` block. Pure functions of the registry's rows, so they are unit-tested
// without building the site. URLs are absolute on the site's public origin: a model card lives elsewhere.
import { stringify } from "yaml";
import type { RunRow } from "../../../schema/api.ts";

export interface BadgeModel {
  slug: string;
  name: string;
}

/** One hardware the model ran on, and the run its badge and model-index result stand for. */
export interface HardwareBadge {
  hardwareSlug: string;
  hardwareName: string;
  run: RunRow;
  /** Site-relative, for the page itself. */
  imagePath: string;
  alt: string;
  markdown: string;
  html: string;
}

export function badgePath(modelSlug: string, hardwareSlug: string, extension: "svg" | "json"): string {
  return `/badge/${encodeURIComponent(modelSlug)}/${encodeURIComponent(hardwareSlug)}.${extension}`;
}

function modelPagePath(modelSlug: string): string {
  return `/models/${encodeURIComponent(modelSlug)}/`;
}

function runPagePath(runId: string): string {
  return `/runs/${encodeURIComponent(runId)}/`;
}

/**
 * The run each hardware's badge shows: the first visible row of that hardware in leaderboard order,
 * which is what the Worker's badge route picks (ranked runs first, best decode first). Retracted
 * runs stand for nothing.
 */
export function bestRunPerHardware(rows: readonly RunRow[]): RunRow[] {
  const best = new Map<string, RunRow>();
  for (const row of rows) {
    if (row.status !== "visible" || best.has(row.hardwareSlug)) continue;
    best.set(row.hardwareSlug, row);
  }
  return [...best.values()];
}

// Characters that CommonMark gives a meaning to inside link text, image descriptions and around
// them; a backslash makes each literal. `&` too, so "&lt;" in a name stays those four characters.
const MARKDOWN_SPECIAL = /[\\`*_{}[\]()<>#+!|&~]/g;

/** A name as literal Markdown text: no link, image, HTML or emphasis can come out of it. */
export function escapeMarkdownText(text: string): string {
  return text.replace(/\s+/g, " ").replace(MARKDOWN_SPECIAL, (c) => `\\${c}`);
}

const HTML_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text safe inside an HTML element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

function badgeAlt(modelName: string, hardwareName: string): string {
  return `edgebench: ${modelName} on ${hardwareName}`;
}

export function markdownSnippet(siteUrl: string, model: BadgeModel, hardwareSlug: string, alt: string): string {
  const image = `${siteUrl}${badgePath(model.slug, hardwareSlug, "svg")}`;
  return `[![${escapeMarkdownText(alt)}](${image})](${siteUrl}${modelPagePath(model.slug)})`;
}

export function htmlSnippet(siteUrl: string, model: BadgeModel, hardwareSlug: string, alt: string): string {
  const image = `${siteUrl}${badgePath(model.slug, hardwareSlug, "svg")}`;
  const page = `${siteUrl}${modelPagePath(model.slug)}`;
  return `<a href="${escapeHtml(page)}"><img src="${escapeHtml(image)}" alt="${escapeHtml(alt)}"></a>`;
}

/** A badge per hardware, in the order of the model's leaderboard (fastest hardware first). */
export function hardwareBadges(
  siteUrl: string,
  model: BadgeModel,
  rows: readonly RunRow[],
  hardwareNames: ReadonlyMap<string, string>,
): HardwareBadge[] {
  return bestRunPerHardware(rows).map((run) => {
    const hardwareName = hardwareNames.get(run.hardwareSlug) ?? run.hardwareName;
    const alt = badgeAlt(model.name, hardwareName);
    return {
      hardwareSlug: run.hardwareSlug,
      hardwareName,
      run,
      imagePath: badgePath(model.slug, run.hardwareSlug, "svg"),
      alt,
      markdown: markdownSnippet(siteUrl, model, run.hardwareSlug, alt),
      html: htmlSnippet(siteUrl, model, run.hardwareSlug, alt),
    };
  });
}

// The shape of Hugging Face's model-index (https://huggingface.co/docs/hub/model-cards): one entry
// per model, one result per task and dataset; here a dataset is "this hardware".
export interface ModelIndexMetric {
  type: string;
  name: string;
  value: number | string;
  verified: false;
}

export interface ModelIndexResult {
  task: { type: "text-generation"; name: string };
  dataset: { type: "edgebench"; name: string; config: string };
  metrics: ModelIndexMetric[];
  source: { name: string; url: string };
}

export interface ModelIndex {
  "model-index": Array<{ name: string; results: ModelIndexResult[] }>;
}

/** Two decimals: a model card compares speeds, it does not need the registry's every digit. */
function rounded(value: number): number {
  return Math.round(value * 100) / 100;
}

function metricsOf(run: RunRow): ModelIndexMetric[] {
  const measured: Array<[type: string, name: string, value: number | null]> = [
    ["decode_tps", "Decode speed (tokens/s)", run.decodeTps],
    ["prefill_tps", "Prefill speed (tokens/s)", run.prefillTps],
    ["ttft_ms", "Time to first token (ms)", run.ttftMs],
  ];
  const metrics: ModelIndexMetric[] = measured.flatMap(([type, name, value]) =>
    value === null ? [] : [{ type, name, value: rounded(value), verified: false as const }],
  );
  // Speed is never shown without the quality behind it.
  metrics.push({ type: "quality_gates", name: "edgebench quality gates", value: run.qualityStatus, verified: false });
  return metrics;
}

export function modelIndex(siteUrl: string, model: BadgeModel, badges: readonly HardwareBadge[]): ModelIndex {
  const results = badges.map(({ run, hardwareName, hardwareSlug }): ModelIndexResult => {
    const setup = [run.quantization, `${run.engine}${run.backend ? ` ${run.backend}` : ""}`].filter(Boolean).join(", ");
    return {
      task: { type: "text-generation", name: "On-device text generation" },
      dataset: { type: "edgebench", name: `edgebench ${hardwareName}`, config: hardwareSlug },
      metrics: metricsOf(run),
      source: { name: `edgebench run (${setup})`, url: `${siteUrl}${runPagePath(run.id)}` },
    };
  });
  return { "model-index": [{ name: model.name, results }] };
}

/** The YAML for a model card's front matter; the yaml package quotes whatever a name holds. */
export function modelIndexYaml(index: ModelIndex): string {
  return stringify(index, { lineWidth: 0 });
}
