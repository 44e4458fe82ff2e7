// The hardware and model catalogs: every slug the site builds a page for.
import { Hono } from "hono";
import type { HardwareEntry, ModelEntry } from "../../schema/api.ts";
import { listHardware, listModels } from "../db/runs.ts";
import type { AppEnv } from "../env.ts";

export const hardwareRoute = new Hono<AppEnv>().get("/", async (c) => {
  const items: HardwareEntry[] = await listHardware(c.var.db);
  return c.json({ items });
});

export const modelsRoute = new Hono<AppEnv>().get("/", async (c) => {
  const items: ModelEntry[] = await listModels(c.var.db);
  return c.json({ items });
});
