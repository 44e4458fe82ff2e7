// The public audit log of every moderation and key action.
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

export const auditRoute = new Hono<AppEnv>();
