// The sitemap, from the registry as it is now: the index pages, every hardware and model page, and
// every history and comparison. Run pages are left out: a run is reached from its leaderboards.
import type { APIRoute } from "astro";
import { loadCells, loadHardwareList, loadModelList, siteOrigin } from "../lib/registry.ts";
import { cellPairs } from "../lib/view.ts";

export const prerender = false;

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c] ?? c);

export const GET: APIRoute = async ({ url }) => {
  const origin = siteOrigin(url);
  const [hardware, models, cells] = await Promise.all([loadHardwareList(), loadModelList(), loadCells()]);
  const paths = [
    "/",
    "/hardware/",
    "/models/",
    "/compare/",
    "/history/",
    "/search/",
    ...hardware.map((h) => `/hardware/${h.slug}/`),
    ...models.map((m) => `/models/${m.slug}/`),
    ...cells.filter((c) => c.runs >= 2).map((c) => `/history/${c.hardwareSlug}/${c.modelSlug}/`),
    ...cellPairs(cells).map((p) => `/compare/${p.slug}/`),
  ];
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${paths
    .map((p) => `<url><loc>${escapeXml(origin + p)}</loc></url>`)
    .join("\n")}\n</urlset>\n`;
  return new Response(body, { headers: { "content-type": "application/xml; charset=utf-8" } });
};
