// Moderation, behind the ADMIN_TOKEN secret: hide and unhide runs, annotate engine version ranges,
// add aliases. Every action lands in the public audit log.
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

export const adminRoute = new Hono<AppEnv>();
