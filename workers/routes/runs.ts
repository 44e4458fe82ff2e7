import { Hono } from "hono";
import * as z from "zod";
import type { DryRunResponse, RunDetail, RunPage, SubmitResponse } from "../../schema/api.ts";
import { Bundle } from "../../schema/bundle.ts";
import { issueDetails } from "../../schema/issues.ts";
import { Envelope } from "../../schema/signing.ts";
import { decodeCursor, encodeCursor, ReceivedCursorSchema } from "../cursor.ts";
import { getRun, listRuns, toRunRow } from "../db/runs.ts";
import type { AppEnv } from "../env.ts";
import { apiError } from "../errors.ts";
import { prepareRun, storeRun } from "../ingest.ts";
import { rateLimitedByAddress, rateLimitedByKey } from "../middleware/rate-limit.ts";
import { signedEnvelope } from "../middleware/signed-envelope.ts";
import { validQuery } from "../middleware/validate.ts";
import { publicBase } from "../public-url.ts";
import { pageQuery } from "./query.ts";

const RunId = z.string().regex(/^[0-9a-f]{24}$/);

function bundleOf(payload: Record<string, unknown>): Bundle {
  const bundle = Bundle.safeParse(payload);
  if (!bundle.success) {
    throw apiError("invalid_bundle", "the payload is not a valid result bundle", issueDetails(bundle.error, "payload"));
  }
  return bundle.data;
}

export const runsRoute = new Hono<AppEnv>()
  .post("/", rateLimitedByAddress, ...signedEnvelope, rateLimitedByKey, async (c) => {
    const envelope = c.get("envelope");
    const bundle = bundleOf(envelope.payload);
    const now = new Date();
    const prepared = await prepareRun(c.var.db, envelope, bundle, c.get("deviceId"), now);
    const { created } = await storeRun(c.var.db, prepared, envelope, bundle, now);
    const body: SubmitResponse = {
      id: prepared.id,
      url: `${publicBase(c)}/runs/${prepared.id}/`,
      deviceId: prepared.deviceId,
      created,
    };
    return c.json(body, created ? 201 : 200);
  })
  // Everything POST /v1/runs would decide, without storing anything.
  .post("/dry-run", rateLimitedByAddress, ...signedEnvelope, rateLimitedByKey, async (c) => {
    const envelope = c.get("envelope");
    const bundle = bundleOf(envelope.payload);
    const prepared = await prepareRun(c.var.db, envelope, bundle, c.get("deviceId"), new Date());
    const body: DryRunResponse = {
      valid: true,
      id: prepared.id,
      deviceId: prepared.deviceId,
      alreadyStored: prepared.exists,
      summary: prepared.summary,
      flags: prepared.flags,
      rankedApart: prepared.rankGroup === 1,
    };
    return c.json(body);
  })
  .get("/", validQuery(z.strictObject(pageQuery)), async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await listRuns(c.var.db, { limit, after: decodeCursor(cursor, ReceivedCursorSchema) });
    const body: RunPage = {
      items: page.rows.map((row) => toRunRow(row, publicBase(c))),
      nextCursor: page.next ? encodeCursor(page.next) : null,
    };
    return c.json(body);
  })
  .get("/:id", async (c) => {
    const id = c.req.param("id");
    const record = RunId.safeParse(id).success ? await getRun(c.var.db, id) : undefined;
    if (!record) throw apiError("not_found", `no run with id ${JSON.stringify(id.slice(0, 64))}`);
    const { envelope, ...row } = record;
    const body: RunDetail = { run: toRunRow(row, publicBase(c)), envelope: Envelope.parse(JSON.parse(envelope)) };
    return c.json(body);
  });
