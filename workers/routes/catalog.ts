// The hardware and model catalogs: every slug the site builds a page for, and each entry by any of
// its names (the canonical slug, a built-in or moderator-added alias, or a name as a device reports it).
import { Hono } from "hono";
import * as z from "zod";
import type { HardwareDetail, HardwareEntry, ModelDetail, ModelEntry } from "../../schema/api.ts";
import { acceleratorDisplayName } from "../../schema/hardware-catalog.ts";
import type { AliasKind } from "../../schema/moderation.ts";
import { hardwareSlug, modelSlug, SLUG_PATTERN, slugify } from "../../schema/slug.ts";
import { resolveSlug } from "../db/aliases.ts";
import { aliasesOf, hardwareEntry, modelEntry } from "../db/moderation.ts";
import { listHardware, listModels } from "../db/runs.ts";
import type { AppEnv, Database } from "../env.ts";
import { apiError } from "../errors.ts";

/** A slug, an alias, or a name ("Raspberry Pi 4 Model B Rev 1.4"); long enough for any of them. */
export const CatalogName = z.string().min(1).max(200);

/**
 * The slugs a requested name may stand for, most literal first: the name itself if it is a slug
 * (canonical or alias), then the slug the ingest rules would give a device or model of that name, so
 * "raspberry-pi-4-model-b-rev-1.4" finds the board its runs were filed under.
 */
function candidates(kind: AliasKind, requested: string): string[] {
  const asSlug = SLUG_PATTERN.test(requested) ? requested : slugify(requested);
  const name = requested.replace(/-/g, " ");
  const byRules =
    kind === "hardware"
      ? [hardwareSlug({ board: name }), slugify(acceleratorDisplayName(name))]
      : [modelSlug({ name: requested })];
  return [...new Set([asSlug, ...byRules])];
}

async function resolveEntry<T>(
  db: Database,
  kind: AliasKind,
  requested: string,
  read: (db: Database, slug: string) => Promise<T | undefined>,
): Promise<{ entry: T; slug: string }> {
  if (!CatalogName.safeParse(requested).success) {
    throw apiError("not_found", `no ${kind} named ${JSON.stringify(requested.slice(0, 64))}`);
  }
  for (const candidate of candidates(kind, requested)) {
    const slug = await resolveSlug(db, kind, candidate);
    const entry = await read(db, slug);
    if (entry) return { entry, slug };
  }
  throw apiError("not_found", `no ${kind} named ${JSON.stringify(requested.slice(0, 64))}`);
}

export const hardwareRoute = new Hono<AppEnv>()
  .get("/", async (c) => {
    const items: HardwareEntry[] = await listHardware(c.var.db);
    return c.json({ items });
  })
  .get("/:slug", async (c) => {
    const requested = c.req.param("slug");
    const { entry, slug } = await resolveEntry(c.var.db, "hardware", requested, hardwareEntry);
    const body: HardwareDetail = { ...entry, requested, aliases: await aliasesOf(c.var.db, "hardware", slug) };
    return c.json(body);
  });

export const modelsRoute = new Hono<AppEnv>()
  .get("/", async (c) => {
    const items: ModelEntry[] = await listModels(c.var.db);
    return c.json({ items });
  })
  .get("/:slug", async (c) => {
    const requested = c.req.param("slug");
    const { entry, slug } = await resolveEntry(c.var.db, "model", requested, modelEntry);
    const body: ModelDetail = { ...entry, requested, aliases: await aliasesOf(c.var.db, "model", slug) };
    return c.json(body);
  });
