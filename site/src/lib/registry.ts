// The site's one loader: every page is rendered on demand inside the registry's Worker, and reads
// what it shows through the registry API itself, called in-process (no network hop), validated with
// the contract's own schemas. One page reads only what it shows: a bounded number of rows, never the
// whole registry, so a render costs the same at 1,000 runs and at 100,000.
import { env } from "cloudflare:workers";
import api from "@edgebench/registry-api";
import * as z from "zod";
import {
  type CellEntry,
  CellList,
  HardwareDetail,
  type HardwareEntry,
  HardwareList,
  Leaderboard,
  ModelDetail,
  type ModelEntry,
  ModelList,
  RunDetail,
  type RunGlance,
  RunGlances,
  RunPage,
  type RunRow,
  SearchResults,
} from "../../../schema/api.ts";
import { Bundle, type Measurement } from "../../../schema/bundle.ts";
import { headlines } from "../../../schema/summary.ts";
import type { Precision } from "./format.ts";
import { amountPrecision, deliveredDecode, peakMemoryPrecision } from "./view.ts";

/** How many runs a leaderboard page shows at once; the rest are a "next" link away. */
export const BOARD_PAGE = 50;
/** The most runs a history page reads for one hardware + model (20 API pages). */
export const HISTORY_CAP = 2000;
/** The most runs a comparison reads per hardware and model: its best figures are among the best-ranked. */
export const COMPARE_CAP = 200;

class NotFound extends Error {}
/** The API refused a query the page passed on from its own URL (a cursor it never handed out). */
class BadQuery extends Error {}

/** A path on the registry API, answered by the API app in this same Worker. */
async function get<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T>> {
  const res = await api.request(path, undefined, env);
  if (res.status === 404) throw new NotFound(path);
  if (res.status === 400) throw new BadQuery(`GET ${path} answered 400: ${(await res.text()).slice(0, 500)}`);
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
  const parsed = schema.safeParse(await res.json());
  if (!parsed.success)
    throw new Error(`GET ${path} answered with an unexpected shape: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** undefined where the API answers 404: the page then answers 404 too. */
async function getOrMissing<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T> | undefined> {
  try {
    return await get(path, schema);
  } catch (error) {
    if (error instanceof NotFound) return undefined;
    throw error;
  }
}

/** The measurements a row's headline figures were derived from (by schema/summary.ts's own rules). */
export interface Headlines {
  decode: Measurement | undefined;
  prefill: Measurement | undefined;
  ttft: Measurement | undefined;
  /** The delivered decode rate beside the headline decode (token arrival, sampling included). */
  delivered: Measurement | undefined;
  /** How exact the row's peak host memory and VRAM are (a reported range's middle is approximate). */
  peakMemoryPrecision: Precision | undefined;
  peakVramPrecision: Precision | undefined;
}

export interface RunWithBundle {
  detail: RunDetail;
  bundle: Bundle;
  headlines: Headlines;
}

function headlinesOf(bundle: Pick<Bundle, "measurements" | "memory">): Headlines {
  const picked = headlines(bundle.measurements);
  return {
    ...picked,
    delivered: deliveredDecode(bundle.measurements, picked.decode),
    peakMemoryPrecision: peakMemoryPrecision(bundle.memory),
    peakVramPrecision: amountPrecision(bundle.memory?.peakVramBytes),
  };
}

/** One run with its signed bundle, or undefined when there is no run with that id. */
export async function loadRun(id: string): Promise<RunWithBundle | undefined> {
  const detail = await getOrMissing(`/v1/runs/${encodeURIComponent(id)}`, RunDetail);
  if (!detail) return undefined;
  const parsed = Bundle.safeParse(detail.envelope.payload);
  if (!parsed.success) {
    throw new Error(`run ${id} holds a payload that is not a valid bundle: ${z.prettifyError(parsed.error)}`);
  }
  return { detail, bundle: parsed.data, headlines: headlinesOf(parsed.data) };
}

/** What a table of runs shows from each one's bundle: how exact its figures are, and its roofline. */
export type { RunGlance };

/** The glances of `rows`, in one API request, by run id. */
export async function loadRuns(rows: readonly RunRow[]): Promise<Map<string, RunGlance>> {
  if (rows.length === 0) return new Map();
  const ids = [...new Set(rows.map((r) => r.id))].join(",");
  const { items } = await get(`/v1/runs/glances?ids=${ids}`, RunGlances);
  return new Map(items.map((glance) => [glance.id, glance]));
}

export async function loadHardwareList(): Promise<HardwareEntry[]> {
  return (await get("/v1/hardware", HardwareList)).items;
}

export async function loadModelList(): Promise<ModelEntry[]> {
  return (await get("/v1/models", ModelList)).items;
}

/** A hardware by its slug or one of its aliases (`requested` then differs from `slug`). */
export function loadHardware(slug: string): Promise<HardwareDetail | undefined> {
  return getOrMissing(`/v1/hardware/${encodeURIComponent(slug)}`, HardwareDetail);
}

export function loadModel(slug: string): Promise<ModelDetail | undefined> {
  return getOrMissing(`/v1/models/${encodeURIComponent(slug)}`, ModelDetail);
}

/** The newest runs, hidden ones left out. */
export async function loadLatestRuns(count: number): Promise<RunRow[]> {
  const page = await get(`/v1/runs?limit=${Math.min(100, count * 2)}`, RunPage);
  return page.items.filter((r) => r.status !== "hidden").slice(0, count);
}

export interface BoardPage {
  rows: RunRow[];
  /** The cursor of the page after this one, for a "next" link; null on the last. */
  nextCursor: string | null;
}

/** One page of a leaderboard (ranked runs first, then those ranked apart), in leaderboard order. */
export async function loadBoard(
  filter: { hardware?: string; model?: string },
  options: { limit?: number; cursor?: string | undefined } = {},
): Promise<BoardPage> {
  const query = new URLSearchParams();
  if (filter.hardware) query.set("hardware", filter.hardware);
  if (filter.model) query.set("model", filter.model);
  query.set("limit", String(options.limit ?? BOARD_PAGE));
  if (options.cursor) query.set("cursor", options.cursor);
  const page = await get(`/v1/leaderboard?${query}`, Leaderboard);
  return { rows: page.items, nextCursor: page.nextCursor };
}

/**
 * The leaderboard page a page's URL asks for (`?cursor=`), or undefined for a cursor the API never
 * handed out (a hand-edited URL): there is no such page.
 */
export async function loadBoardAt(
  filter: { hardware?: string; model?: string },
  cursor: string | undefined,
): Promise<BoardPage | undefined> {
  try {
    return await loadBoard(filter, { cursor });
  } catch (error) {
    if (error instanceof BadQuery) return undefined;
    throw error;
  }
}

/** Every run of one leaderboard, up to `cap`; `complete` says whether that was all of them. */
export async function loadWholeBoard(
  filter: { hardware?: string; model?: string },
  cap: number,
): Promise<{ rows: RunRow[]; complete: boolean }> {
  const rows: RunRow[] = [];
  let cursor: string | undefined;
  do {
    const page = await loadBoard(filter, { limit: 100, cursor });
    rows.push(...page.rows);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && rows.length < cap);
  return { rows, complete: cursor === undefined };
}

/** The best ranked run of each hardware (a one-row leaderboard each), for the lists that name it. */
export async function loadBestRuns(hardware: readonly HardwareEntry[]): Promise<Map<string, RunRow[]>> {
  const boards = await Promise.all(
    hardware.map(async (h) => [h.slug, (await loadBoard({ hardware: h.slug }, { limit: 1 })).rows] as const),
  );
  return new Map(boards);
}

/** Hardware × model cells with their visible run counts (histories and comparisons are built from them). */
export async function loadCells(filter: { hardware?: string; model?: string; minRuns?: number } = {}) {
  const query = new URLSearchParams();
  if (filter.hardware) query.set("hardware", filter.hardware);
  if (filter.model) query.set("model", filter.model);
  if (filter.minRuns) query.set("minRuns", String(filter.minRuns));
  return (await get(`/v1/cells?${query}`, CellList)).items;
}
export type { CellEntry };

/** Runs, hardware and models matching a search, from the registry's full-text index. */
export function search(q: string) {
  return get(`/v1/search?${new URLSearchParams({ q, limit: "50" })}`, SearchResults);
}

export { siteOrigin } from "./site-origin.ts";
