// Open data: every run as NDJSON or CSV.
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

export const exportRoute = new Hono<AppEnv>();
