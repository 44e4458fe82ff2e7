// The site's one loader: everything a page shows comes from the registry API through here, and is
// validated with the contract's own schemas before a page sees it.
import * as z from "zod";
import {
  type HardwareEntry,
  HardwareList,
  Leaderboard,
  type ModelEntry,
  ModelList,
  RunDetail,
  RunPage,
  type RunRow,
} from "../../../schema/api.ts";
import { Bundle, type Measurement } from "../../../schema/bundle.ts";
import { headlines } from "../../../schema/summary.ts";
import type { Precision } from "./format.ts";
import {
  amountPrecision,
  type ComparePair,
  comparePairs,
  deliveredDecode,
  type History,
  histories,
  peakMemoryPrecision,
} from "./view.ts";

/** The registry the site is built from: EDGEBENCH_API at build time, else the local registry. */
export const API_URL = (process.env.EDGEBENCH_API || "http://127.0.0.1:8787").replace(/\/$/, "");

/**
 * The site's public origin, for URLs meant to be copied elsewhere (badges, model-card snippets):
 * PUBLIC_SITE_URL at build time, else the registry the site is built from, whose Worker serves both.
 */
export const SITE_URL = (process.env.PUBLIC_SITE_URL || API_URL).replace(/\/$/, "");

async function get<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T>> {
  const url = `${API_URL}${path}`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (error) {
    throw new Error(`cannot reach the registry at ${url} (set EDGEBENCH_API): ${(error as Error).message}`);
  }
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  const parsed = schema.safeParse(await res.json());
  if (!parsed.success)
    throw new Error(`GET ${url} answered with an unexpected shape: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

async function allPages<T>(
  path: string,
  fetchPage: (path: string) => Promise<{ items: T[]; nextCursor: string | null }>,
) {
  const items: T[] = [];
  let cursor: string | null = null;
  const join = path.includes("?") ? "&" : "?";
  do {
    const page = await fetchPage(`${path}${join}limit=100${cursor ? `&cursor=${cursor}` : ""}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
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

export interface Snapshot {
  hardware: HardwareEntry[];
  models: ModelEntry[];
  /** Newest first. */
  runs: RunRow[];
  /** Per hardware slug, in leaderboard order. */
  hardwareBoards: Map<string, RunRow[]>;
  /** Per model slug, in leaderboard order. */
  modelBoards: Map<string, RunRow[]>;
  details: Map<string, RunWithBundle>;
  hardwareBySlug: Map<string, HardwareEntry>;
  modelBySlug: Map<string, ModelEntry>;
  /** Every hardware + model run more than once, worked out once here because many pages show them. */
  histories: History[];
  /** Every pair of hardware with a model in common, for the compare index and each pair's page. */
  comparePairs: ComparePair[];
}

function headlinesOf(bundle: Bundle): Headlines {
  const picked = headlines(bundle.measurements);
  return {
    ...picked,
    delivered: deliveredDecode(bundle.measurements, picked.decode),
    peakMemoryPrecision: peakMemoryPrecision(bundle.memory),
    peakVramPrecision: amountPrecision(bundle.memory?.peakVramBytes),
  };
}

const DETAIL_CONCURRENCY = 8;

async function loadDetail(id: string): Promise<RunWithBundle> {
  const detail = await get(`/v1/runs/${id}`, RunDetail);
  const parsed = Bundle.safeParse(detail.envelope.payload);
  if (!parsed.success) {
    throw new Error(`run ${id} holds a payload that is not a valid bundle: ${z.prettifyError(parsed.error)}`);
  }
  return { detail, bundle: parsed.data, headlines: headlinesOf(parsed.data) };
}

async function load(): Promise<Snapshot> {
  const [hardware, models, runs] = await Promise.all([
    get("/v1/hardware", HardwareList),
    get("/v1/models", ModelList),
    allPages("/v1/runs", (p) => get(p, RunPage)),
  ]);
  const hardwareBoards = new Map<string, RunRow[]>();
  for (const h of hardware.items) {
    hardwareBoards.set(h.slug, await allPages(`/v1/leaderboard?hardware=${h.slug}`, (p) => get(p, Leaderboard)));
  }
  const modelBoards = new Map<string, RunRow[]>();
  for (const m of models.items) {
    modelBoards.set(m.slug, await allPages(`/v1/leaderboard?model=${m.slug}`, (p) => get(p, Leaderboard)));
  }
  const details = new Map<string, RunWithBundle>();
  // A few requests at a time: fast on a big registry without flooding it.
  for (let i = 0; i < runs.length; i += DETAIL_CONCURRENCY) {
    const batch = runs.slice(i, i + DETAIL_CONCURRENCY);
    const loaded = await Promise.all(batch.map((run) => loadDetail(run.id)));
    for (const entry of loaded) details.set(entry.detail.run.id, entry);
  }
  return {
    hardware: hardware.items,
    models: models.items,
    runs,
    hardwareBoards,
    modelBoards,
    details,
    hardwareBySlug: new Map(hardware.items.map((h) => [h.slug, h])),
    modelBySlug: new Map(models.items.map((m) => [m.slug, m])),
    histories: histories(runs),
    comparePairs: comparePairs(hardware.items, hardwareBoards),
  };
}

let snapshot: Promise<Snapshot> | undefined;

/** Fetched once per build and shared by every page. */
export function loadRegistry(): Promise<Snapshot> {
  snapshot ??= load();
  return snapshot;
}
