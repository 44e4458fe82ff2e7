// Every /v1 route of workers/index.ts, described with the zod schemas the routes validate and answer
// with (test/worker/openapi.test.ts fails when a route is missing here or a path here has no route).

import * as z from "zod";
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject, ZodOpenApiResponsesObject } from "zod-openapi";
import {
  BatchResponse,
  CellList,
  DryRunResponse,
  type ERROR_STATUS,
  ErrorBody,
  HardwareDetail,
  HardwareList,
  Leaderboard,
  MAX_BATCH_BODY_BYTES,
  MAX_BATCH_RUNS,
  ModelDetail,
  ModelList,
  RunDetail,
  RunDetails,
  RunGlances,
  RunPage,
  RunRow,
  SearchResults,
  SubmitResponse,
} from "../../schema/api.ts";
import { Bundle } from "../../schema/bundle.ts";
import {
  DeviceId,
  KeyInfo,
  KeyRevocation,
  KeyRevocationResponse,
  KeyRotation,
  KeyRotationResponse,
  Retraction,
  RetractionResponse,
} from "../../schema/key-records.ts";
import {
  AliasRequest,
  AliasResponse,
  AnnotationRequest,
  AnnotationResponse,
  AuditPage,
  AuditQuery,
  HideRequest,
  MergeRequest,
  MergeResponse,
  RekeyResponse,
  RemoveAnnotationRequest,
  RunModerationResponse,
  UnhideRequest,
  UnmergeRequest,
} from "../../schema/moderation.ts";
import { Envelope } from "../../schema/signing.ts";
import { AnnotationIdParam, RunIdParam } from "../routes/admin.ts";
import { CatalogName } from "../routes/catalog.ts";
import { EXPORT_COLUMNS, ExportQuery } from "../routes/export.ts";
import { CellsQuery, SearchQuery } from "../routes/find.ts";
import { LeaderboardQuery } from "../routes/leaderboard.ts";
import { pageQuery } from "../routes/query.ts";
import { RunDetailsQuery } from "../routes/runs.ts";

/** The schemas shared by many operations, listed once under components.schemas and referenced. */
export const COMPONENT_SCHEMAS = { ErrorBody, RunRow, Envelope, Bundle };

type Status = (typeof ERROR_STATUS)[keyof typeof ERROR_STATUS];

const ERROR_MEANING: Record<Status, string> = {
  400: "The request is malformed or invalid; `details` names each failing path",
  401: "Authentication failed (bad signature, or a missing or wrong moderation token)",
  403: "Refused (revoked or rotated key, or moderation is off)",
  404: "Not found",
  405: "Method not allowed",
  409: "Conflicts with the current state (a replayed nonce, an action already taken)",
  413: "The body is too large",
  415: "The body must be application/json",
  422: "The bundle is not a valid result bundle (`details` names each failing path), or its creation time is outside the accepted window",
  429: "Rate limited; see Retry-After",
  500: "Internal error",
};

/** Error answers, all with the one error body shape. */
function errors(...statuses: Status[]): ZodOpenApiResponsesObject {
  return Object.fromEntries(
    [...statuses, 500].map((status) => [
      String(status),
      { description: ERROR_MEANING[status as Status], content: { "application/json": { schema: ErrorBody } } },
    ]),
  );
}

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** The body of every signed route: an envelope whose payload is the given record. */
function signedBody(payload: z.ZodType, description: string) {
  return {
    description,
    required: true,
    content: { "application/json": { schema: Envelope.extend({ payload }) } },
  };
}

const SIGNED_ERRORS = [400, 401, 403, 409, 413, 415, 429] as const;

/** Every moderation action: bearer token, JSON body, audit row in the same transaction. */
function adminOperation(
  summary: string,
  body: z.ZodType | undefined,
  ok: ZodOpenApiResponsesObject,
  requestParams?: ZodOpenApiOperationObject["requestParams"],
): ZodOpenApiOperationObject {
  return {
    tags: ["moderation"],
    summary,
    security: [{ adminToken: [] }],
    ...(requestParams ? { requestParams } : {}),
    ...(body ? { requestBody: { required: true, content: { "application/json": { schema: body } } } } : {}),
    responses: { ...ok, ...errors(...(body ? ([400, 401, 403, 404, 409, 413, 415] as const) : ([401, 403] as const))) },
  };
}

const runIdPath = z.object({ id: RunIdParam.meta({ description: "Run id (24 hex digits)" }) });

export const paths: ZodOpenApiPathsObject = {
  "/v1/runs": {
    post: {
      tags: ["runs"],
      summary: "Submit a signed result bundle",
      description: "Verifies the signature, validates the bundle, checks plausibility, and stores it once.",
      requestBody: signedBody(Bundle, "A signed envelope whose payload is an edgebench.bundle/v1 result bundle"),
      responses: {
        "201": json(SubmitResponse, "Stored"),
        "200": json(SubmitResponse, "These exact bytes were stored before; nothing changed"),
        ...errors(...SIGNED_ERRORS, 422),
      },
    },
    get: {
      tags: ["runs"],
      summary: "Every run, newest first (hidden and retracted ones included, with their status)",
      requestParams: { query: z.strictObject(pageQuery) },
      responses: { "200": json(RunPage, "A page of runs"), ...errors(400) },
    },
  },
  "/v1/runs/batch": {
    post: {
      tags: ["runs"],
      summary: `Submit up to ${MAX_BATCH_RUNS} signed result bundles in one request`,
      description:
        "Each envelope is verified, validated, decided and answered on its own (by its index), as if sent alone and in order: one bad envelope refuses only itself. Those accepted are stored together in one transaction. The address and each key count once against their rate limits.",
      requestBody: {
        description: `Up to ${MAX_BATCH_RUNS} signed envelopes, each as POST /v1/runs takes it; the whole body at most ${MAX_BATCH_BODY_BYTES} bytes`,
        required: true,
        content: {
          "application/json": {
            schema: z.strictObject({
              envelopes: z
                .array(Envelope.extend({ payload: Bundle }))
                .min(1)
                .max(MAX_BATCH_RUNS),
            }),
          },
        },
      },
      responses: {
        "200": json(BatchResponse, "One answer per envelope: 201 stored, 200 stored before, or its own error"),
        ...errors(400, 413, 415, 429),
      },
    },
  },
  "/v1/runs/dry-run": {
    post: {
      tags: ["runs"],
      summary: "Everything POST /v1/runs would decide, without storing anything",
      requestBody: signedBody(Bundle, "The same signed envelope POST /v1/runs takes"),
      responses: { "200": json(DryRunResponse, "What the registry would decide"), ...errors(...SIGNED_ERRORS, 422) },
    },
  },
  "/v1/runs/glances": {
    get: {
      tags: ["runs"],
      summary: "For up to 100 runs, how exact each headline figure is and the roofline estimate, without the bundles",
      requestParams: { query: RunDetailsQuery },
      responses: { "200": json(RunGlances, "The runs found; unknown ids are left out"), ...errors(400) },
    },
  },
  "/v1/runs/details": {
    get: {
      tags: ["runs"],
      summary: "Up to 100 runs with their stored envelopes in one request, in the order asked",
      requestParams: { query: RunDetailsQuery },
      responses: { "200": json(RunDetails, "The runs found; unknown ids are left out"), ...errors(400) },
    },
  },
  "/v1/runs/{id}": {
    get: {
      tags: ["runs"],
      summary: "One run with its stored envelope, which anyone can re-verify",
      requestParams: { path: runIdPath },
      responses: { "200": json(RunDetail, "The run"), ...errors(404) },
    },
  },
  "/v1/keys/rotate": {
    post: {
      tags: ["keys"],
      summary: "Rotate a device key: signed by the old key, with the new key's proof",
      requestBody: signedBody(KeyRotation, "A key rotation record signed by the old key"),
      responses: {
        "200": json(KeyRotationResponse, "Rotated (or a resend of an accepted record)"),
        ...errors(...SIGNED_ERRORS),
      },
    },
  },
  "/v1/keys/revoke": {
    post: {
      tags: ["keys"],
      summary: "Revoke a device key",
      requestBody: signedBody(KeyRevocation, "A key revocation record"),
      responses: {
        "200": json(KeyRevocationResponse, "Revoked (or a resend of an accepted record)"),
        ...errors(...SIGNED_ERRORS, 404),
      },
    },
  },
  "/v1/keys/{deviceId}": {
    get: {
      tags: ["keys"],
      summary: "A key's public standing",
      requestParams: { path: z.object({ deviceId: DeviceId }) },
      responses: { "200": json(KeyInfo, "The key"), ...errors(404) },
    },
  },
  "/v1/retractions": {
    post: {
      tags: ["keys"],
      summary: "Retract a run, signed by a key of the run's lineage",
      requestBody: signedBody(Retraction, "A retraction record"),
      responses: {
        "200": json(RetractionResponse, "Retracted (or a resend of an accepted record)"),
        ...errors(...SIGNED_ERRORS, 404),
      },
    },
  },
  "/v1/leaderboard": {
    get: {
      tags: ["leaderboards"],
      summary: "Ranked runs, best first; runs ranked apart follow the ranked ones, with their reason",
      requestParams: { query: LeaderboardQuery },
      responses: { "200": json(Leaderboard, "A page of the leaderboard"), ...errors(400) },
    },
  },
  "/v1/cells": {
    get: {
      tags: ["leaderboards"],
      summary: "Hardware × model pairs with visible runs, most runs first, each with its quantizations",
      requestParams: { query: CellsQuery },
      responses: { "200": json(CellList, "The pairs"), ...errors(400) },
    },
  },
  "/v1/search": {
    get: {
      tags: ["catalog"],
      summary: "Hardware, models and hardware × model pairs whose names hold every word of q; a run by its id",
      requestParams: { query: SearchQuery },
      responses: { "200": json(SearchResults, "What q names, read from the database as it is now"), ...errors(400) },
    },
  },
  "/v1/hardware": {
    get: {
      tags: ["catalog"],
      summary: "Every hardware slug with runs",
      responses: { "200": json(HardwareList, "The hardware catalog"), ...errors() },
    },
  },
  "/v1/hardware/{slug}": {
    get: {
      tags: ["catalog"],
      summary: "One hardware entry by its slug, an alias, or a reported name",
      requestParams: {
        path: z.object({ slug: CatalogName.meta({ description: "Slug, alias or name", example: "rpi4" }) }),
      },
      responses: { "200": json(HardwareDetail, "The canonical entry"), ...errors(404) },
    },
  },
  "/v1/models": {
    get: {
      tags: ["catalog"],
      summary: "Every model slug with runs",
      responses: { "200": json(ModelList, "The model catalog"), ...errors() },
    },
  },
  "/v1/models/{slug}": {
    get: {
      tags: ["catalog"],
      summary: "One model entry by its slug, an alias, or a model name",
      requestParams: { path: z.object({ slug: CatalogName.meta({ description: "Slug, alias or name" }) }) },
      responses: { "200": json(ModelDetail, "The canonical entry"), ...errors(404) },
    },
  },
  "/v1/export/runs.ndjson": {
    get: {
      tags: ["export"],
      summary: "Every run as newline-delimited JSON, one RunRow per line, newest first",
      requestParams: { query: ExportQuery },
      responses: {
        "200": {
          description: "A stream of RunRow objects, one per line (hidden and retracted runs included)",
          // OpenAPI 3.1 has no per-line schema (3.2's itemSchema); the line type is named instead.
          content: {
            "application/x-ndjson": {
              schema: z
                .string()
                .meta({ description: "Lines of JSON, each one a RunRow (#/components/schemas/RunRow)" }),
            },
          },
        },
        ...errors(400),
      },
    },
  },
  "/v1/export/runs.csv": {
    get: {
      tags: ["export"],
      summary: "Every run as CSV with a header row, newest first",
      description: `Columns, in order:\n\n${Object.entries(EXPORT_COLUMNS)
        .map(([name, meaning]) => `- \`${name}\`: ${meaning}`)
        .join("\n")}`,
      requestParams: { query: ExportQuery },
      responses: {
        "200": { description: "CSV (RFC 4180)", content: { "text/csv": { schema: z.string() } } },
        ...errors(400),
      },
    },
  },
  "/v1/audit": {
    get: {
      tags: ["audit"],
      summary: "The public audit log of every moderation and key action, newest first",
      requestParams: { query: AuditQuery },
      responses: { "200": json(AuditPage, "A page of the audit log"), ...errors(400) },
    },
  },
  "/v1/admin/runs/{id}/hide": {
    post: adminOperation(
      "Hide a run from leaderboards (it stays readable with status hidden)",
      HideRequest,
      { "200": json(RunModerationResponse, "Hidden") },
      { path: runIdPath },
    ),
  },
  "/v1/admin/runs/{id}/unhide": {
    post: adminOperation(
      "Show a hidden run again",
      UnhideRequest,
      { "200": json(RunModerationResponse, "Visible again") },
      { path: runIdPath },
    ),
  },
  "/v1/admin/annotations": {
    post: adminOperation(
      "Annotate an engine version range: flags existing runs now and later runs at ingest",
      AnnotationRequest,
      { "201": json(AnnotationResponse, "Stored and applied") },
    ),
  },
  "/v1/admin/annotations/{id}/remove": {
    post: adminOperation(
      "Withdraw an annotation and its flag from every run",
      RemoveAnnotationRequest,
      { "200": json(AnnotationResponse, "Removed") },
      { path: z.object({ id: AnnotationIdParam.meta({ description: "Annotation id" }) }) },
    ),
  },
  "/v1/admin/aliases": {
    post: adminOperation("Add another spelling of a hardware or model slug", AliasRequest, {
      "201": json(AliasResponse, "Added"),
      "200": json(AliasResponse, "The same alias already pointed at the same slug; nothing written"),
    }),
  },
  "/v1/admin/merges": {
    post: adminOperation(
      "Merge a hardware or model entry into another: its runs move, its slug becomes an alias",
      MergeRequest,
      { "201": json(MergeResponse, "Merged") },
    ),
  },
  "/v1/admin/merges/undo": {
    post: adminOperation("Undo a merge: the runs filed under the merged slug move back", UnmergeRequest, {
      "200": json(MergeResponse, "Unmerged"),
    }),
  },
  "/v1/admin/rekey": {
    post: adminOperation("Re-key stored runs summarized by older identity rules (after a migration)", undefined, {
      "200": json(RekeyResponse, "A bounded number of passes; call again until remaining is 0"),
    }),
  },
  "/v1/openapi.json": {
    get: {
      tags: ["meta"],
      summary: "This document",
      responses: {
        "200": json(z.record(z.string(), z.unknown()).meta({ description: "An OpenAPI 3.1 document" }), "OpenAPI 3.1"),
      },
    },
  },
};
