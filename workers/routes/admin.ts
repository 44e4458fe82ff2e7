// Moderation, behind the ADMIN_TOKEN secret: hide and unhide runs, annotate engine version ranges,
// add aliases, merge entries (and undo), re-key stored runs after a change of identity rules. Every action lands in the public audit log, in the same transaction as the change.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { validator } from "hono/validator";
import * as z from "zod";
import { issueDetails } from "../../schema/issues.ts";
import {
  AliasRequest,
  type AliasResponse,
  AnnotationRequest,
  type AnnotationResponse,
  HideRequest,
  MAX_MODERATION_BODY_BYTES,
  MergeRequest,
  type MergeResponse,
  type RekeyResponse,
  RemoveAnnotationRequest,
  type RunModerationResponse,
  UnhideRequest,
  UnmergeRequest,
} from "../../schema/moderation.ts";
import { addAlias, addAnnotation, removeAnnotation, setRunHidden } from "../db/moderation.ts";
import { mergeEntries, rekeyAll, unmergeEntries } from "../db/rekey.ts";
import { toRunRow } from "../db/runs.ts";
import type { AppEnv } from "../env.ts";
import { apiError } from "../errors.ts";
import { publicBase } from "../public-url.ts";

export const RunIdParam = z.string().regex(/^[0-9a-f]{24}$/, "must be a run id: 24 lowercase hex digits");
export const AnnotationIdParam = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/**
 * Compares the digests rather than the tokens, so the time taken depends on neither the token's
 * length nor where the first difference is.
 */
async function sameToken(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(given), sha256(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Checked before anything else of the request is read. */
const adminOnly = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) throw apiError("forbidden", "moderation is off: this registry has no ADMIN_TOKEN set");
  const match = /^Bearer +(\S+)$/.exec(c.req.header("authorization") ?? "");
  if (!match?.[1]) {
    c.header("WWW-Authenticate", 'Bearer realm="edgebench moderation"');
    throw apiError("unauthorized", "send the moderation token as Authorization: Bearer <ADMIN_TOKEN>");
  }
  if (!(await sameToken(match[1], expected))) {
    c.header("WWW-Authenticate", 'Bearer realm="edgebench moderation", error="invalid_token"');
    throw apiError("unauthorized", "the moderation token is wrong");
  }
  await next();
});

const jsonOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw apiError("unsupported_media_type", "send the request body as application/json");
  }
  await next();
});

const sizeCap = bodyLimit({
  maxSize: MAX_MODERATION_BODY_BYTES,
  onError: () => {
    throw apiError("payload_too_large", `the body exceeds ${MAX_MODERATION_BODY_BYTES} bytes`);
  },
});

/**
 * Reads and parses the body here, so a malformed body gets a precise malformed_json answer and the
 * size cap's refusal is not mistaken for bad JSON; the validator below then reads the cached body.
 */
const parsedJson = createMiddleware<AppEnv>(async (c, next) => {
  const text = await c.req.text();
  try {
    JSON.parse(text);
  } catch (error) {
    throw apiError("malformed_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
  await next();
});

/** JSON body validated with the action's zod schema: one 400 naming every failing path. */
const validBody = <T extends z.ZodType>(schema: T) =>
  [
    jsonOnly,
    sizeCap,
    parsedJson,
    validator("json", (value): z.infer<T> => {
      const result = schema.safeParse(value);
      if (!result.success) throw apiError("invalid_request", "invalid request body", issueDetails(result.error));
      return result.data;
    }),
  ] as const;

function runId(raw: string): string {
  const parsed = RunIdParam.safeParse(raw);
  if (!parsed.success) throw apiError("not_found", `no run with id ${JSON.stringify(raw.slice(0, 64))}`);
  return parsed.data;
}

function annotationId(raw: string): number {
  const parsed = AnnotationIdParam.safeParse(raw);
  if (!parsed.success) throw apiError("not_found", `no annotation with id ${JSON.stringify(raw.slice(0, 32))}`);
  return parsed.data;
}

export const adminRoute = new Hono<AppEnv>()
  .use(adminOnly)
  .post("/runs/:id/hide", ...validBody(HideRequest), async (c) => {
    const { reason } = c.req.valid("json");
    const { run, audit } = await setRunHidden(c.var.db, runId(c.req.param("id")), true, reason, new Date());
    const body: RunModerationResponse = { run: toRunRow(run, publicBase(c)), audit };
    return c.json(body);
  })
  .post("/runs/:id/unhide", ...validBody(UnhideRequest), async (c) => {
    const { reason } = c.req.valid("json");
    const { run, audit } = await setRunHidden(c.var.db, runId(c.req.param("id")), false, reason, new Date());
    const body: RunModerationResponse = { run: toRunRow(run, publicBase(c)), audit };
    return c.json(body);
  })
  .post("/annotations", ...validBody(AnnotationRequest), async (c) => {
    const body: AnnotationResponse = await addAnnotation(c.var.db, c.req.valid("json"), new Date());
    return c.json(body, 201);
  })
  .post("/annotations/:id/remove", ...validBody(RemoveAnnotationRequest), async (c) => {
    const { reason } = c.req.valid("json");
    const body: AnnotationResponse = await removeAnnotation(
      c.var.db,
      annotationId(c.req.param("id")),
      reason,
      new Date(),
    );
    return c.json(body);
  })
  .post("/aliases", ...validBody(AliasRequest), async (c) => {
    const body: AliasResponse = await addAlias(c.var.db, c.req.valid("json"), new Date());
    return c.json(body, body.created ? 201 : 200);
  })
  .post("/merges", ...validBody(MergeRequest), async (c) => {
    const body: MergeResponse = await mergeEntries(c.var.db, c.req.valid("json"), new Date());
    return c.json(body, 201);
  })
  .post("/merges/undo", ...validBody(UnmergeRequest), async (c) => {
    const body: MergeResponse = await unmergeEntries(c.var.db, c.req.valid("json"), new Date());
    return c.json(body);
  })
  // After a migration that changes the identity rules: re-key the stored runs, call again until remaining is 0.
  .post("/rekey", async (c) => {
    const body: RekeyResponse = await rekeyAll(c.var.db, new Date());
    return c.json(body);
  });
