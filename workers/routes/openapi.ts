// The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with.
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

export const openapiRoute = new Hono<AppEnv>();
