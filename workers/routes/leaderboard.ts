import { Hono } from "hono";
import * as z from "zod";
import type { Leaderboard } from "../../schema/api.ts";
import { decodeCursor, encodeCursor, RankCursorSchema } from "../cursor.ts";
import { leaderboard, toRunRow } from "../db/runs.ts";
import type { AppEnv } from "../env.ts";
import { validQuery } from "../middleware/validate.ts";
import { publicBase } from "../public-url.ts";
import { pageQuery, slugParam } from "./query.ts";

const LeaderboardQuery = z.strictObject({
  hardware: slugParam.optional(),
  model: slugParam.optional(),
  metric: z.literal("decode_tps").default("decode_tps"),
  ...pageQuery,
});

export const leaderboardRoute = new Hono<AppEnv>().get("/", validQuery(LeaderboardQuery), async (c) => {
  const q = c.req.valid("query");
  const page = await leaderboard(c.var.db, {
    hardware: q.hardware,
    model: q.model,
    limit: q.limit,
    after: decodeCursor(q.cursor, RankCursorSchema),
  });
  const body: Leaderboard = {
    hardware: q.hardware ?? null,
    model: q.model ?? null,
    metric: q.metric,
    items: page.rows.map((row) => toRunRow(row, publicBase(c))),
    nextCursor: page.next ? encodeCursor(page.next) : null,
  };
  return c.json(body);
});
