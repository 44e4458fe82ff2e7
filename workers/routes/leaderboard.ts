import { type Context, Hono } from "hono";
import * as z from "zod";
import { type Leaderboard, ReproductionLevel } from "../../schema/api.ts";
import { Backend, Engine } from "../../schema/bundle.ts";
import { normalizeQuantization } from "../../schema/model-identity.ts";
import { QualityStatus } from "../../schema/summary.ts";
import { answer, keptAnswers } from "../answer-cache.ts";
import { decodeCursor, encodeCursor, RankCursorSchema } from "../cursor.ts";
import { resolveSlug } from "../db/aliases.ts";
import { LEADERBOARD_METRICS, leaderboard, toRunRow } from "../db/runs.ts";
import type { AppEnv } from "../env.ts";
import { validQuery } from "../middleware/validate.ts";
import { publicBase } from "../public-url.ts";
import { pageQuery, slugParam } from "./query.ts";

export const LeaderboardQuery = z.strictObject({
  hardware: slugParam.optional(),
  model: slugParam.optional(),
  quantization: z.string().min(1).max(100).optional(),
  engine: Engine.optional(),
  backend: Backend.optional(),
  /** GPU runs filed under their GPU, or runs filed under a board, SoC or CPU. */
  kind: z.enum(["gpu", "system"]).optional(),
  /** The host CPU as the device reported it (exact, case-insensitive): GPU runs by the machine around the GPU. */
  hostCpu: z.string().min(1).max(200).optional(),
  quality: QualityStatus.optional(),
  reproduction: ReproductionLevel.optional(),
  metric: z.enum(LEADERBOARD_METRICS).default("decode_tps"),
  ...pageQuery,
});

export const leaderboardRoute = new Hono<AppEnv>().get("/", keptAnswers, validQuery(LeaderboardQuery), async (c) => {
  // Kept per URL and data version: a repeat costs one read of the version, not the page's queries.
  const body = JSON.stringify(await leaderboardOf(c, c.req.valid("query")));
  return answer(c, body, { "content-type": "application/json" });
});

async function leaderboardOf(c: Context<AppEnv>, q: z.infer<typeof LeaderboardQuery>): Promise<Leaderboard> {
  const hardware = q.hardware ? await resolveSlug(c.var.db, "hardware", q.hardware) : undefined;
  const model = q.model ? await resolveSlug(c.var.db, "model", q.model) : undefined;
  // Runs store the normalized spelling (schema/model-identity.ts): "q4_k_m" and "Q4_K - Medium" find Q4_K_M.
  const quantization = q.quantization ? (normalizeQuantization(q.quantization) ?? q.quantization) : undefined;
  const page = await leaderboard(c.var.db, {
    ...q,
    hardware,
    model,
    quantization,
    after: decodeCursor(q.cursor, RankCursorSchema),
  });
  const base = publicBase(c);
  return {
    hardware: hardware ?? null,
    model: model ?? null,
    metric: q.metric,
    items: page.rows.map((row) => toRunRow(row, base)),
    nextCursor: page.next ? encodeCursor(page.next) : null,
  };
}
