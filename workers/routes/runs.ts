import { Hono } from "hono";
import * as z from "zod";
import type { RunDetail, RunPage, SubmitResponse } from "../../schema/api.ts";
import { Bundle } from "../../schema/bundle.ts";
import { issueDetails } from "../../schema/issues.ts";
import { canonicalJson, Envelope, runIdOf } from "../../schema/signing.ts";
import { summarize } from "../../schema/summary.ts";
import { decodeCursor, encodeCursor, ReceivedCursorSchema } from "../cursor.ts";
import { getRun, insertRun, listRuns, toRunRow } from "../db/runs.ts";
import type { AppEnv } from "../env.ts";
import { apiError } from "../errors.ts";
import { signedEnvelope } from "../middleware/signed-envelope.ts";
import { validQuery } from "../middleware/validate.ts";
import { publicBase } from "../public-url.ts";
import { pageQuery } from "./query.ts";

const RunId = z.string().regex(/^[0-9a-f]{24}$/);

export const runsRoute = new Hono<AppEnv>()
  .post("/", ...signedEnvelope, async (c) => {
    const envelope = c.get("envelope");
    const bundle = Bundle.safeParse(envelope.payload);
    if (!bundle.success) {
      throw apiError(
        "invalid_bundle",
        "the payload is not a valid result bundle",
        issueDetails(bundle.error, "payload"),
      );
    }
    const id = await runIdOf(envelope);
    const { created } = await insertRun(c.var.db, {
      id,
      deviceId: c.get("deviceId"),
      publicKey: envelope.publicKey,
      summary: summarize(bundle.data),
      model: bundle.data.model,
      envelopeJson: canonicalJson(envelope),
      receivedAt: new Date().toISOString(),
    });
    const body: SubmitResponse = { id, url: `${publicBase(c)}/runs/${id}/`, deviceId: c.get("deviceId"), created };
    return c.json(body, created ? 201 : 200);
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
