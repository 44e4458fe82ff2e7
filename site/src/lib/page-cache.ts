// What every on-demand page response carries: the site's security headers (the ones
// site/public/_headers gives static files, read from that same file), and a cache keyed by the
// database's data version. Every write to a table a page reads from bumps that version by trigger
// (migrations/0002_live_pages.sql), so a cached page is never served once the data it shows changed:
// the next request after a write renders afresh, in every data center at once. The build's id is in
// the key too, so a deployment never serves what the code before it rendered.
import { env, waitUntil } from "cloudflare:workers";
import { getFetchState } from "astro/hono";
import type { MiddlewareHandler } from "hono";
import { BoundedMap } from "../../../schema/bounded-map.ts";
import { dataVersion } from "../../../workers/middleware/data-version.ts";
import headersFile from "../../public/_headers?raw";
import { BUILD_ID } from "./build-id.ts";

/** The `/*` block of a Cloudflare _headers file: name and value per line. */
export function parseHeadersFile(text: string): [string, string][] {
  const headers: [string, string][] = [];
  let inAll = false;
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      inAll = line.trim() === "/*";
      continue;
    }
    if (!inAll) continue;
    const colon = line.indexOf(":");
    if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return headers;
}

const SITE_HEADERS = parseHeadersFile(headersFile);

type SiteMiddleware = MiddlewareHandler;

/** The site's Content-Security-Policy and the rest of _headers, on pages rendered here too. */
export function siteHeaders(): SiteMiddleware {
  return async (c, next) => {
    await next();
    const res = new Response(c.res.body, c.res);
    for (const [name, value] of SITE_HEADERS) res.headers.set(name, value);
    c.res = res;
  };
}

/** How long a data center keeps a rendered page for one data version (a new version is a new key). */
const EDGE_TTL_S = 86_400;
/** Statuses worth keeping: a page, and a page that says a run or a name is not there (yet). */
const CACHEABLE = new Set([200, 404, 410]);

interface StoredPage {
  body: ArrayBuffer;
  status: number;
  headers: [string, string][];
}

/**
 * Recent pages in this isolate's memory too, in front of the Cache API: a hit costs no lookup in the
 * data center's cache. Keyed the same way (URL, data version, build), bounded by size.
 */
const memory = new BoundedMap<string, StoredPage>(24 * 2 ** 20, (page) => page.body.byteLength);

async function storedPageOf(res: Response): Promise<StoredPage> {
  return { body: await res.arrayBuffer(), status: res.status, headers: [...res.headers] };
}

/**
 * GET and HEAD pages from memory or the Cache API under `<url>` + the data version + the build; a miss
 * renders and stores. Browsers revalidate every time (the ETag is the version and the build), so nobody
 * keeps an old page beyond a reload.
 */
export function pageCache(): SiteMiddleware {
  return async (c, next) => {
    const method = c.req.method;
    // Pages of the static build (the 404 page) are rendered once, at build time, from no data.
    if ((method !== "GET" && method !== "HEAD") || getFetchState(c).routeData?.prerender) return next();
    // Astro hands this pipeline the request alone: the bindings come from the module, as Astro documents.
    if (!env.DB) throw new Error("the Worker has no DB binding");
    const version = `${await dataVersion(env.DB)}.${BUILD_ID}`;
    const etag = `W/"${version}"`;
    const clientHeaders = { etag, "cache-control": "public, max-age=0, must-revalidate" };
    if (c.req.header("if-none-match") === etag) return new Response(null, { status: 304, headers: clientHeaders });

    const url = new URL(c.req.url);
    url.searchParams.set("__data_version", version);
    const key = url.toString();
    const answer = (page: StoredPage, how: "memory" | "hit" | "miss") => {
      const res = new Response(method === "HEAD" ? null : page.body, { status: page.status, headers: page.headers });
      for (const [name, value] of Object.entries(clientHeaders)) res.headers.set(name, value);
      res.headers.set("x-edgebench-cache", how);
      return res;
    };
    const held = memory.get(key);
    if (held) return answer(held, "memory");
    const cache = caches.default;
    const hit = await cache.match(new Request(key));
    if (hit) {
      const page = await storedPageOf(hit);
      memory.set(key, page);
      return answer(page, "hit");
    }
    await next();
    const rendered = c.res;
    if (!CACHEABLE.has(rendered.status) || rendered.headers.has("set-cookie")) return;
    const page = await storedPageOf(rendered);
    memory.set(key, page);
    const stored = new Response(page.body, { status: page.status, headers: page.headers });
    stored.headers.set("cache-control", `public, max-age=${EDGE_TTL_S}`);
    waitUntil(cache.put(new Request(key), stored));
    c.res = answer(page, "miss");
  };
}
