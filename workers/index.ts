// The edgebench registry API. Static pages of the site are served from assets before this runs.
import { Hono } from "hono";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./env.ts";
import { apiError, handleError } from "./errors.ts";
import { database } from "./middleware/db.ts";
import { adminRoute } from "./routes/admin.ts";
import { auditRoute } from "./routes/audit.ts";
import { badgeRoute } from "./routes/badge.ts";
import { hardwareRoute, modelsRoute } from "./routes/catalog.ts";
import { exportRoute } from "./routes/export.ts";
import { keysRoute } from "./routes/keys.ts";
import { leaderboardRoute } from "./routes/leaderboard.ts";
import { openapiRoute } from "./routes/openapi.ts";
import { retractionsRoute } from "./routes/retractions.ts";
import { runsRoute } from "./routes/runs.ts";

const app = new Hono<AppEnv>()
  .use(requestId())
  .use(
    "/v1/*",
    // JSON for any origin to read (open data), never to be sniffed as a page, framed or run as a document.
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      crossOriginResourcePolicy: "cross-origin",
      crossOriginOpenerPolicy: false,
      strictTransportSecurity: false,
    }),
    cors({ origin: "*", allowMethods: ["GET", "POST"] }),
    database,
  )
  .route("/v1/runs", runsRoute)
  .route("/v1/keys", keysRoute)
  .route("/v1/retractions", retractionsRoute)
  .route("/v1/leaderboard", leaderboardRoute)
  .route("/v1/hardware", hardwareRoute)
  .route("/v1/models", modelsRoute)
  .route("/v1/export", exportRoute)
  .route("/v1/audit", auditRoute)
  .route("/v1/admin", adminRoute)
  .route("/v1/openapi.json", openapiRoute)
  .route("/badge", badgeRoute);

app.onError(handleError);

app.notFound(async (c) => {
  const path = new URL(c.req.url).pathname;
  if (path.startsWith("/v1/") || path === "/v1") {
    return handleError(apiError("not_found", `no route for ${c.req.method} ${path}`), c);
  }
  // Site paths with no page: the site's own 404 page, with a 404 status.
  const page = await c.env.ASSETS.fetch(new URL("/404.html", c.req.url));
  // The page's own headers (its Content-Security-Policy from site/public/_headers among them).
  const headers = new Headers(page.ok ? page.headers : undefined);
  headers.set("content-type", "text/html; charset=utf-8");
  return new Response(page.ok ? page.body : "Not found", { status: 404, headers });
});

export default app;
export type AppType = typeof app;
