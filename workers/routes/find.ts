// Reads the live site is built on besides the leaderboards: the hardware × model cells (for histories
// and comparisons) and search. Both read the database as it is now, so a run stored a moment ago is
// found on the next request.
import { and, desc, eq, gt, gte, type SQL, sql } from "drizzle-orm";
import { Hono } from "hono";
import * as z from "zod";
import type { CellEntry, CellList, SearchResults } from "../../schema/api.ts";
import { aliases, cells, hardware, models } from "../../schema/db.ts";
import type { AliasKind } from "../../schema/moderation.ts";
import { builtinAliasesOf } from "../db/moderation.ts";
import { getRun, listHardware, listModels, toRunRow } from "../db/runs.ts";
import type { AppEnv, Database } from "../env.ts";
import { validQuery } from "../middleware/validate.ts";
import { publicBase } from "../public-url.ts";
import { slugParam } from "./query.ts";

export const CellsQuery = z.strictObject({
  hardware: slugParam.optional(),
  model: slugParam.optional(),
  /** Only cells with at least this many visible runs (2: the ones with a history). */
  minRuns: z.coerce.number().int().min(1).max(1_000_000).default(1),
});

interface CellFilter {
  hardware?: string | undefined;
  model?: string | undefined;
  minRuns: number;
}

/**
 * Hardware × model pairs with visible runs, named, most runs first: the cells (one per quantization
 * and engine) summed per pair, with the quantizations of those that hold visible runs.
 */
export async function cellEntries(db: Database, filter: CellFilter): Promise<CellEntry[]> {
  const where: SQL[] = [gt(cells.visibleRuns, 0)];
  if (filter.hardware) where.push(eq(cells.hardwareSlug, filter.hardware));
  if (filter.model) where.push(eq(cells.modelSlug, filter.model));
  const visibleRuns = sql<number>`sum(${cells.visibleRuns})`;
  const rows = await db
    .select({
      hardwareSlug: cells.hardwareSlug,
      hardwareName: hardware.name,
      modelSlug: cells.modelSlug,
      modelName: models.name,
      runs: visibleRuns,
      bestDecodeTps: sql<number | null>`max(${cells.bestDecodeTps})`,
      quantizations: sql<string>`json_group_array(distinct ${cells.quantization})`,
    })
    .from(cells)
    .innerJoin(hardware, eq(hardware.slug, cells.hardwareSlug))
    .innerJoin(models, eq(models.slug, cells.modelSlug))
    .where(and(...where))
    .groupBy(cells.hardwareSlug, cells.modelSlug)
    .having(gte(visibleRuns, filter.minRuns))
    .orderBy(desc(visibleRuns), cells.hardwareSlug, cells.modelSlug);
  return rows.map((row) => ({
    ...row,
    quantizations: (JSON.parse(row.quantizations) as Array<string | null>)
      .filter((q): q is string => q !== null)
      .sort(),
  }));
}

export const cellsRoute = new Hono<AppEnv>().get("/", validQuery(CellsQuery), async (c) => {
  const body: CellList = { items: await cellEntries(c.var.db, c.req.valid("query")) };
  return c.json(body);
});

export const SearchQuery = z.strictObject({
  q: z.string().trim().min(1, "q must name something to find").max(200),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const RUN_ID = /^[0-9a-f]{24}$/;

/** The query's words, lowercased: each must appear in what a result is called. */
export function searchWords(q: string): string[] {
  return [
    ...new Set(
      q
        .toLowerCase()
        .split(/[\s,;]+/)
        .filter(Boolean),
    ),
  ].slice(0, 8);
}

function matchesAll(words: readonly string[], ...names: ReadonlyArray<string | null | undefined>): boolean {
  const haystack = names.filter(Boolean).join(" ").toLowerCase();
  return words.every((w) => haystack.includes(w));
}

async function storedAliases(db: Database, kind: AliasKind): Promise<Map<string, string[]>> {
  const rows = await db
    .select({ alias: aliases.alias, slug: aliases.slug })
    .from(aliases)
    .where(eq(aliases.kind, kind));
  const bySlug = new Map<string, string[]>();
  for (const row of rows) bySlug.set(row.slug, [...(bySlug.get(row.slug) ?? []), row.alias]);
  return bySlug;
}

function withoutEnvelope<T extends { envelope: string }>({ envelope: _, ...row }: T): Omit<T, "envelope"> {
  return row;
}

export const searchRoute = new Hono<AppEnv>().get("/", validQuery(SearchQuery), async (c) => {
  const { q, limit } = c.req.valid("query");
  const db = c.var.db;
  const words = searchWords(q);
  const id = q.toLowerCase();
  const [record, hardwareList, modelList, allCells, hardwareAliases, modelAliases] = await Promise.all([
    RUN_ID.test(id) ? getRun(db, id) : Promise.resolve(undefined),
    listHardware(db),
    listModels(db),
    cellEntries(db, { minRuns: 1 }),
    storedAliases(db, "hardware"),
    storedAliases(db, "model"),
  ]);
  const hardwareNames = (slug: string) => [...builtinAliasesOf("hardware", slug), ...(hardwareAliases.get(slug) ?? [])];
  const foundCells: CellEntry[] = allCells
    .filter((cell) => matchesAll(words, cell.hardwareName, cell.hardwareSlug, cell.modelName, cell.modelSlug))
    .slice(0, limit);
  const body: SearchResults = {
    query: q,
    run: record ? toRunRow(withoutEnvelope(record), publicBase(c)) : null,
    hardware: hardwareList
      .filter((h) => h.runs > 0 && matchesAll(words, h.name, h.slug, ...hardwareNames(h.slug)))
      .slice(0, limit),
    models: modelList
      .filter((m) => m.runs > 0 && matchesAll(words, m.name, m.slug, m.family, ...(modelAliases.get(m.slug) ?? [])))
      .slice(0, limit),
    cells: foundCells,
  };
  return c.json(body);
});
