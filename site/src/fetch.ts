// The site's request pipeline inside the one Worker (workers/entry.ts hands it every path that is not
// the API's): the security headers, the page cache keyed by data version, then Astro's own handling
// (trailing slashes, redirects, middleware, the page, the 404 page) of the on-demand pages.
import { astro } from "astro/hono";
import { Hono } from "hono";
import { pageCache, siteHeaders } from "./lib/page-cache.ts";

const app = new Hono();
app.use(siteHeaders());
app.use(pageCache());
app.all("*", astro());

export default app;
