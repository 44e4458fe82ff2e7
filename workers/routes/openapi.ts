// The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with.
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { openApiDocument } from "../openapi/document.ts";

export const openapiRoute = new Hono<AppEnv>().get("/", (c) => {
  c.header("Cache-Control", "public, max-age=3600");
  return c.json(openApiDocument());
});
