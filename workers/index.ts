// The edgebench registry API and badges. The site's Worker (site/src/fetch.ts) mounts it under /v1
// and /badge beside the on-demand pages; tests and API-only registries run it alone.
import { Hono } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./env.ts";
import { apiError, handleError } from "./errors.ts";
import { bumpDataVersion } from "./middleware/data-version.ts";
import { database } from "./middleware/db.ts";
import { adminRoute } from "./routes/admin.ts";
import { auditRoute } from "./routes/audit.ts";
import { badgeRoute } from "./routes/badge.ts";
import { hardwareRoute, modelsRoute } from "./routes/catalog.ts";
import { exportRoute } from "./routes/export.ts";
import { cellsRoute, searchRoute } from "./routes/find.ts";
import { keysRoute } from "./routes/keys.ts";
import { leaderboardRoute } from "./routes/leaderboard.ts";
import { openapiRoute } from "./routes/openapi.ts";
import { retractionsRoute } from "./routes/retractions.ts";
import { runsRoute } from "./routes/runs.ts";

/**
 * Open data, readable from any origin. Preflights go to hono's cors; every other answer gets its one
 * header once the handler has made it (hono's cors sets it on the context's response before the
 * handler runs, which makes a throwaway Response for every request).
 */
const preflight = cors({ origin: "*", allowMethods: ["GET", "POST"] });
const readableFromAnyOrigin = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method === "OPTIONS") return preflight(c, next);
  await next();
  c.res.headers.set("Access-Control-Allow-Origin", "*");
});

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
    readableFromAnyOrigin,
    database,
    bumpDataVersion,
  )
  .route("/v1/runs", runsRoute)
  .route("/v1/keys", keysRoute)
  .route("/v1/retractions", retractionsRoute)
  .route("/v1/leaderboard", leaderboardRoute)
  .route("/v1/hardware", hardwareRoute)
  .route("/v1/models", modelsRoute)
  .route("/v1/cells", cellsRoute)
  .route("/v1/search", searchRoute)
  .route("/v1/export", exportRoute)
  .route("/v1/audit", auditRoute)
  .route("/v1/admin", adminRoute)
  .route("/v1/openapi.json", openapiRoute)
  .route("/badge", badgeRoute);

app.onError(handleError);

app.notFound((c) => {
  const path = new URL(c.req.url).pathname;
  return handleError(apiError("not_found", `no route for ${c.req.method} ${path}`), c);
});

export default app;
export type AppType = typeof app;
