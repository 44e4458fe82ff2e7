import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import * as z from "zod";
import {
  type BatchItem,
  BatchRequest,
  type BatchResponse,
  type DryRunResponse,
  MAX_BATCH_BODY_BYTES,
  MAX_BODY_BYTES,
  MAX_PAGE_SIZE,
  type RunDetail,
  type RunDetails,
  type RunGlance,
  type RunGlances,
  type RunPage,
  type SubmitResponse,
} from "../../schema/api.ts";
import { BoundedMap } from "../../schema/bounded-map.ts";
import { Bundle } from "../../schema/bundle.ts";
import { issueDetails } from "../../schema/issues.ts";
import { figurePrecisions } from "../../schema/precision.ts";
import { Envelope } from "../../schema/signing.ts";
import { headlines } from "../../schema/summary.ts";
import { decodeCursor, encodeCursor, ReceivedCursorSchema } from "../cursor.ts";
import { getRun, getRuns, listRuns, toRunRow } from "../db/runs.ts";
import type { AppEnv } from "../env.ts";
import { apiError, itemError } from "../errors.ts";
import { type Prepared, prepareRun, prepareRuns, type Submission, storeRuns, submitRun } from "../ingest.ts";
import { bumpStatement } from "../middleware/data-version.ts";
import { keyAllowed, keyRateLimited, rateLimitedByAddress, rateLimitedByKey } from "../middleware/rate-limit.ts";
import { jsonBody, jsonOnly, signedEnvelope, sizeCap, verifiedEnvelope } from "../middleware/signed-envelope.ts";
import { validQuery } from "../middleware/validate.ts";
import { publicBase } from "../public-url.ts";
import { pageQuery } from "./query.ts";

const RunId = z.string().regex(/^[0-9a-f]{24}$/);

/**
 * What a table shows of a run's bundle. The stored envelope was validated whole when it was stored,
 * so it is read as that bundle here, not validated again: a glance of 50 runs with thousands of raw
 * samples each would otherwise spend most of a leaderboard page's time re-checking numbers it never shows.
 */
function glanceOf(id: string, envelope: string): RunGlance {
  const bundle = (JSON.parse(envelope) as { payload: Bundle }).payload;
  return {
    id,
    precision: figurePrecisions(headlines(bundle.measurements), bundle.memory),
    roofline: bundle.roofline ?? null,
  };
}

/**
 * Glances already worked out in this isolate: a run's envelope never changes once stored, so neither
 * does its glance, and a page rendered again (after any write) reads none of its 50 envelopes again.
 */
const glances = new BoundedMap<string, RunGlance>(20_000);

/** Up to a page of run ids, comma-separated; each is checked, duplicates are asked once. */
export const RunDetailsQuery = z.strictObject({
  ids: z
    .string()
    .max(MAX_PAGE_SIZE * 25)
    .transform((text) => [...new Set(text.split(",").filter(Boolean))])
    .pipe(
      z
        .array(RunId.meta({ description: "a run id" }))
        .min(1)
        .max(MAX_PAGE_SIZE),
    ),
});

function bundleOf(payload: Record<string, unknown>, at = "payload"): Bundle {
  const bundle = Bundle.safeParse(payload);
  if (!bundle.success) {
    throw apiError("invalid_bundle", "the payload is not a valid result bundle", issueDetails(bundle.error, at));
  }
  return bundle.data;
}

const utf8Bytes = (text: string) => new TextEncoder().encode(text).byteLength;

export const runsRoute = new Hono<AppEnv>()
  .post("/", rateLimitedByAddress, ...signedEnvelope, rateLimitedByKey, async (c) => {
    const envelope = c.get("envelope");
    const submission = {
      envelope,
      bundle: bundleOf(envelope.payload),
      deviceId: c.get("deviceId"),
      canonical: c.get("canonical"),
    };
    // The data version is bumped in the same batch as the run (when there is one to write).
    const { prepared, created } = await submitRun(c.var.db, submission, new Date(), [bumpStatement(c)]);
    c.set("unchanged", true);
    const body: SubmitResponse = {
      id: prepared.id,
      url: `${publicBase(c)}/runs/${prepared.id}/`,
      deviceId: prepared.deviceId,
      created,
    };
    return c.json(body, created ? 201 : 200);
  })
  // Up to MAX_BATCH_RUNS envelopes in one request (an outbox flush, an import of many results): each
  // is checked, decided and answered on its own, as if sent alone and in order; those accepted are
  // stored together in one transaction. The address and each key are counted once per request.
  .post("/batch", rateLimitedByAddress, jsonOnly, sizeCap(MAX_BATCH_BODY_BYTES), async (c) => {
    const request = BatchRequest.safeParse(await jsonBody(c));
    if (!request.success) {
      throw apiError("invalid_request", "the body is not a batch of signed envelopes", issueDetails(request.error));
    }
    const items: Array<BatchItem | undefined> = request.data.envelopes.map(() => undefined);
    const refuse = (index: number, error: unknown) => {
      if (!(error instanceof HTTPException)) throw error;
      items[index] = { index, ...itemError(error) };
    };
    const accepted: Array<{ index: number; submission: Submission }> = [];
    for (const [index, json] of request.data.envelopes.entries()) {
      try {
        if (utf8Bytes(JSON.stringify(json)) > MAX_BODY_BYTES) {
          throw apiError("payload_too_large", `envelope ${index} exceeds ${MAX_BODY_BYTES} bytes`);
        }
        const { envelope, deviceId, canonical } = await verifiedEnvelope(json, `envelopes.${index}`);
        accepted.push({
          index,
          submission: {
            envelope,
            bundle: bundleOf(envelope.payload, `envelopes.${index}.payload`),
            deviceId,
            canonical,
          },
        });
      } catch (error) {
        refuse(index, error);
      }
    }
    const limited = new Set<string>();
    for (const deviceId of new Set(accepted.map((a) => a.submission.deviceId))) {
      if (!(await keyAllowed(c, deviceId))) limited.add(deviceId);
    }
    const toDecide = accepted.filter((a) => {
      if (limited.has(a.submission.deviceId)) refuse(a.index, keyRateLimited());
      return !limited.has(a.submission.deviceId);
    });
    const now = new Date();
    const decisions = toDecide.length
      ? await prepareRuns(
          c.var.db,
          toDecide.map((a) => a.submission),
          now,
        )
      : [];
    const prepared: Array<{ index: number; prepared: Prepared }> = [];
    for (const [i, decision] of decisions.entries()) {
      const index = (toDecide[i] as (typeof toDecide)[number]).index;
      if (decision.ok) prepared.push({ index, prepared: decision.prepared });
      else refuse(index, decision.error);
    }
    const { results } = prepared.length
      ? await storeRuns(
          c.var.db,
          prepared.map((p) => p.prepared),
          now,
          [bumpStatement(c)],
        )
      : { results: [] };
    for (const [i, result] of results.entries()) {
      const { index, prepared: p } = prepared[i] as (typeof prepared)[number];
      if (!result.ok) refuse(index, result.error);
      else {
        const { id, deviceId } = p;
        const url = `${publicBase(c)}/runs/${id}/`;
        items[index] = { index, status: result.created ? 201 : 200, id, url, deviceId, created: result.created };
      }
    }
    const done = items.filter((item): item is BatchItem => item !== undefined);
    if (done.length !== items.length) throw new Error("a batch item was left without an answer");
    const body: BatchResponse = {
      items: done,
      created: done.filter((item) => item.status === 201).length,
      refused: done.filter((item) => "error" in item).length,
    };
    // Bumped in the write batch, if there was one.
    c.set("unchanged", true);
    return c.json(body);
  })
  // Everything POST /v1/runs would decide, without storing anything.
  .post("/dry-run", rateLimitedByAddress, ...signedEnvelope, rateLimitedByKey, async (c) => {
    c.set("unchanged", true);
    const envelope = c.get("envelope");
    const bundle = bundleOf(envelope.payload);
    const submission = { envelope, bundle, deviceId: c.get("deviceId"), canonical: c.get("canonical") };
    const prepared = await prepareRun(c.var.db, submission, new Date());
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
  .get("/glances", validQuery(RunDetailsQuery), async (c) => {
    const ids = c.req.valid("query").ids;
    const missing = ids.filter((id) => !glances.has(id));
    for (const record of await getRuns(c.var.db, missing)) glances.set(record.id, glanceOf(record.id, record.envelope));
    const body: RunGlances = {
      items: ids.flatMap((id) => {
        const glance = glances.get(id);
        return glance ? [glance] : [];
      }),
    };
    return c.json(body);
  })
  .get("/details", validQuery(RunDetailsQuery), async (c) => {
    const ids = c.req.valid("query").ids;
    const records = new Map((await getRuns(c.var.db, ids)).map((r) => [r.id, r]));
    const base = publicBase(c);
    const body: RunDetails = {
      items: ids.flatMap((id) => {
        const record = records.get(id);
        if (!record) return [];
        const { envelope, ...row } = record;
        return [{ run: toRunRow(row, base), envelope: Envelope.parse(JSON.parse(envelope)) }];
      }),
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
