// Charts drawn once per content and kept: a chart's SVG depends only on its spec, so it is stored
// under a hash of the spec (and the build) in this isolate's memory and in the data center's cache.
// A page rendered again after a write that did not change a chart's data (most writes: they touch
// another hardware or model) takes the stored SVG; a chart whose data changed has a new spec, so a
// new key, and is drawn afresh. Drawing a chart costs tens of ms of CPU; looking it up, well under one.
import { waitUntil } from "cloudflare:workers";
import type { TopLevelSpec } from "vega-lite";
import { BoundedMap } from "../../../../schema/bounded-map.ts";
import { BUILD_ID } from "../build-id.ts";
import { renderSvg } from "./render.ts";

const memory = new BoundedMap<string, string>(256);
/** How long a data center keeps a drawn chart: its key changes with its content, so it never goes stale. */
const CACHE_TTL_S = 30 * 86_400;

async function keyOf(spec: TopLevelSpec): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(spec)));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex}-${BUILD_ID}`;
}

/** The chart's SVG: from this isolate, else the data center's cache, else drawn now and stored. */
export async function storedSvg(spec: TopLevelSpec): Promise<string> {
  const key = await keyOf(spec);
  const held = memory.get(key);
  if (held !== undefined) return held;
  const request = new Request(`https://charts.edgebench.invalid/${key}.svg`);
  const cached = await caches.default.match(request);
  if (cached) {
    const svg = await cached.text();
    memory.set(key, svg);
    return svg;
  }
  const svg = await renderSvg(spec);
  memory.set(key, svg);
  const response = new Response(svg, {
    headers: { "content-type": "image/svg+xml", "cache-control": `public, max-age=${CACHE_TTL_S}` },
  });
  waitUntil(caches.default.put(request, response));
  return svg;
}
