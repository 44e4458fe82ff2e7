// Badges for model cards: an SVG drawn by shields.io's own badge-maker, and the same figures as a
// shields.io endpoint JSON (https://img.shields.io/endpoint?url=…). Every request gets a badge: a
// pair with no runs, or a name that is not a slug, gets a grey one with status 200, because a model
// card showing a broken image or an error page helps nobody.
import { makeBadge } from "badge-maker";
import { type Context, Hono } from "hono";
import { etag } from "hono/etag";
import { SLUG_PATTERN } from "../../schema/slug.ts";
import { answer, etagOf, keptAnswers } from "../answer-cache.ts";
import { resolveSlug } from "../db/aliases.ts";
import { LEADERBOARD_METRICS, type LeaderboardMetric, leaderboard, type RowRecord } from "../db/runs.ts";
import type { AppEnv, Database } from "../env.ts";
import { database } from "../middleware/db.ts";
import { publicBase } from "../public-url.ts";

/** Shields' endpoint badge does not cache for less than 300 s; the SVG uses the same freshness. */
const BADGE_CACHE_SECONDS = 300;

/** What a badge says, shared by the SVG and the endpoint JSON so the two never disagree. */
interface BadgeFace {
  label: string;
  message: string;
  color: string;
  /** Where a click on the SVG leads: the model's page on the site. */
  link?: string;
}

const BADGE_COLORS = {
  pass: "brightgreen",
  // Grey-blue: measured, but nothing says whether the answers were any good.
  unknown: "607d8b",
  fail: "red",
  rankedApart: "orange",
  empty: "lightgrey",
} as const;

// A hostile or careless name must not make a badge wider than a model card.
const MAX_NAME_IN_BADGE = 48;
const MAX_QUANTIZATION_IN_BADGE = 16;

const METRIC_TEXT: Record<LeaderboardMetric, (row: RowRecord) => string> = {
  decode_tps: (row) => (row.decodeTps === null ? "decode not measured" : `${speed(row.decodeTps)} tok/s`),
  prefill_tps: (row) => (row.prefillTps === null ? "prefill not measured" : `prefill ${speed(row.prefillTps)} tok/s`),
  ttft_ms: (row) => (row.ttftMs === null ? "TTFT not measured" : `TTFT ${Math.round(row.ttftMs)} ms`),
};

/** Whole numbers from 100, one decimal from 1 ("12.0 tok/s"), two below 1 so a slow device never reads 0.0. */
function speed(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 1) return value.toFixed(1);
  return value.toFixed(2);
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function isMetric(value: string): value is LeaderboardMetric {
  return (LEADERBOARD_METRICS as readonly string[]).includes(value);
}

// Nothing from the request is echoed on these: a crafted URL must not make a badge say anything.
const NO_RUNS: BadgeFace = { label: "edgebench", message: "no runs yet", color: BADGE_COLORS.empty };
const UNKNOWN_METRIC: BadgeFace = { label: "edgebench", message: "unknown metric", color: BADGE_COLORS.empty };

/** The run a badge stands for: the first of the leaderboard for the pair, ranked runs before the rest. */
async function bestRun(
  db: Database,
  requestedModel: string,
  requestedHardware: string,
  metric: LeaderboardMetric,
): Promise<RowRecord | undefined> {
  // Not a slug, so no run can be filed under it (and the database need not be asked).
  if (!SLUG_PATTERN.test(requestedModel) || !SLUG_PATTERN.test(requestedHardware)) return undefined;
  const [model, hardware] = await Promise.all([
    resolveSlug(db, "model", requestedModel),
    resolveSlug(db, "hardware", requestedHardware),
  ]);
  const { rows } = await leaderboard(db, { model, hardware, metric, limit: 1 });
  return rows[0];
}

/** The colour follows quality; a run ranked apart for a flag (implausible, outlier…) says so. */
function qualityOf(row: RowRecord): { words: string; color: string } {
  if (row.qualityStatus === "fail") return { words: "quality fail", color: BADGE_COLORS.fail };
  if (row.rankGroup !== 0) return { words: "ranked apart", color: BADGE_COLORS.rankedApart };
  if (row.qualityStatus === "pass") return { words: "quality pass", color: BADGE_COLORS.pass };
  return { words: "quality unknown", color: BADGE_COLORS.unknown };
}

/** Speed is never shown without its quality: the message names both. */
function faceOf(row: RowRecord, metric: LeaderboardMetric, base: string): BadgeFace {
  // A withdrawn run stands for nothing; retracted runs are ranked apart, so no ranked run is left.
  if (row.retractedAt) return NO_RUNS;
  const model = [shorten(row.modelName, MAX_NAME_IN_BADGE), shorten(row.quantization ?? "", MAX_QUANTIZATION_IN_BADGE)]
    .filter(Boolean)
    .join(" ");
  const quality = qualityOf(row);
  return {
    label: `edgebench · ${model} · ${shorten(row.hardwareName, MAX_NAME_IN_BADGE)}`,
    message: `${METRIC_TEXT[metric](row)} · ${quality.words}`,
    color: quality.color,
    link: `${base}/models/${row.modelSlug}/`,
  };
}

/** The badge for a request's path (model, hardware file name) and its optional ?metric=. */
async function badgeFace(c: Context<AppEnv>): Promise<BadgeFace> {
  const metric = c.req.query("metric") ?? "decode_tps";
  if (!isMetric(metric)) return UNKNOWN_METRIC;
  const file = c.req.param("hardware") ?? "";
  // "raspberry-pi-5.svg" → "raspberry-pi-5"; the route patterns guarantee an extension.
  const hardware = file.slice(0, file.lastIndexOf("."));
  const row = await bestRun(c.var.db, c.req.param("model") ?? "", hardware, metric);
  return row ? faceOf(row, metric, publicBase(c)) : NO_RUNS;
}

const CACHE_CONTROL = `public, max-age=${BADGE_CACHE_SECONDS}, s-maxage=${BADGE_CACHE_SECONDS}`;

export const badgeRoute = new Hono<AppEnv>()
  .use(database, etag())
  .get("/:model/:hardware{[^/]+\\.svg}", keptAnswers, async (c) => {
    const face = await badgeFace(c);
    // badge-maker escapes label and message as XML text; links are our own URLs made of slugs.
    const svg = makeBadge({
      label: face.label,
      message: face.message,
      color: face.color,
      ...(face.link ? { links: [face.link] } : {}),
    });
    // Kept per URL and data version with its ETag, which the etag middleware then need not hash again.
    return answer(c, svg, {
      "content-type": "image/svg+xml; charset=utf-8",
      "cache-control": CACHE_CONTROL,
      "x-content-type-options": "nosniff",
      // An SVG opened on its own is a document: let it draw, never run script or load anything.
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
      etag: await etagOf(svg),
    });
  })
  .get("/:model/:hardware{[^/]+\\.json}", async (c) => {
    const face = await badgeFace(c);
    const body = {
      schemaVersion: 1,
      label: face.label,
      message: face.message,
      color: face.color,
      cacheSeconds: BADGE_CACHE_SECONDS,
    };
    return c.json(body, 200, { "cache-control": CACHE_CONTROL, "x-content-type-options": "nosniff" });
  });
