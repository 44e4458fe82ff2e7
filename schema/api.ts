// The registry's HTTP answers. The Worker builds them, the CLI and the site parse them with these
// same schemas, so a change on one side fails the other's typecheck and tests.
import * as z from "zod";
import { Precision, Roofline } from "./bundle.ts";
import { Envelope } from "./signing.ts";
import { RunSummary } from "./summary.ts";

/** Every non-2xx answer has this shape, with one code from a closed list. */
export const ERROR_STATUS = {
  malformed_json: 400,
  invalid_envelope: 400,
  // A well-formed, signed envelope whose bundle says something the registry cannot take (a negative
  // offload, an absurd accelerator, a wrong unit): unprocessable content, not a malformed request.
  invalid_bundle: 422,
  invalid_query: 400,
  invalid_request: 400,
  bad_signature: 401,
  unauthorized: 401,
  key_revoked: 403,
  key_rotated: 403,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  nonce_reused: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  created_out_of_window: 422,
  rate_limited: 429,
  internal: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;
export const ErrorCode = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

export const IssueDetail = z.strictObject({
  path: z.string(),
  message: z.string(),
});
export type IssueDetail = z.infer<typeof IssueDetail>;

export const ErrorBody = z.strictObject({
  error: z.strictObject({
    code: ErrorCode,
    message: z.string(),
    details: z.array(IssueDetail).optional(),
    requestId: z.string(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** A finding the registry made about a run (implausible speed, outlier, revoked key, a moderator's note…). */
export const RunFlag = z.strictObject({
  code: z.string(),
  reason: z.string(),
  rankApart: z.boolean(),
});
export type RunFlag = z.infer<typeof RunFlag>;

export const REPRODUCTION_TOLERANCE = 0.15;
export const ReproductionLevel = z
  .enum(["single", "reproduced", "disputed"])
  .describe(
    `single: one submitter; reproduced: at least two independent keys whose mean decode speeds agree within ${REPRODUCTION_TOLERANCE * 100}%; disputed: two or more that do not`,
  );
export type ReproductionLevel = z.infer<typeof ReproductionLevel>;

export const RunStatus = z.enum(["visible", "hidden", "retracted"]);

export const RunRow = RunSummary.extend({
  id: z.string(),
  url: z.string(),
  deviceId: z.string(),
  receivedAt: z.string(),
  /** Runs that failed quality gates or were flagged are listed after the ranked ones, with their reason. */
  rankedApart: z.boolean(),
  flags: z.array(RunFlag),
  reproduction: ReproductionLevel,
  status: RunStatus,
  statusReason: z.string().nullable(),
});
export type RunRow = z.infer<typeof RunRow>;

export const SubmitResponse = z.strictObject({
  id: z.string(),
  url: z.string(),
  deviceId: z.string(),
  created: z.boolean(),
});
export type SubmitResponse = z.infer<typeof SubmitResponse>;

/** How many signed envelopes one POST /v1/runs/batch may carry, and the cap on its whole body. */
export const MAX_BATCH_RUNS = 25;
export const MAX_BATCH_BODY_BYTES = 1024 * 1024;

/** The batch as the route reads it: each envelope is then checked on its own, so one bad one refuses only itself. */
export const BatchRequest = z.strictObject({
  envelopes: z.array(z.unknown()).min(1).max(MAX_BATCH_RUNS),
});

/** An error of one item of a batch: the error body's fields, without the request's id. */
export const ItemError = z.strictObject({
  code: ErrorCode,
  message: z.string(),
  details: z.array(IssueDetail).optional(),
});
export type ItemError = z.infer<typeof ItemError>;

/** What became of one envelope of a batch, by its position: stored (201), stored before (200), or refused. */
export const BatchItem = z.union([
  SubmitResponse.extend({ index: z.int().min(0), status: z.union([z.literal(200), z.literal(201)]) }),
  z.strictObject({ index: z.int().min(0), status: z.int().min(400).max(599), error: ItemError }),
]);
export type BatchItem = z.infer<typeof BatchItem>;

export const BatchResponse = z.strictObject({
  items: z.array(BatchItem),
  /** Runs stored by this request. */
  created: z.int().min(0),
  /** Envelopes refused, each with its own error. */
  refused: z.int().min(0),
});
export type BatchResponse = z.infer<typeof BatchResponse>;

export const DryRunResponse = z.strictObject({
  valid: z.literal(true),
  id: z.string(),
  deviceId: z.string(),
  alreadyStored: z.boolean(),
  summary: RunSummary,
  flags: z.array(RunFlag),
  rankedApart: z.boolean(),
});
export type DryRunResponse = z.infer<typeof DryRunResponse>;

export const RunDetail = z.strictObject({
  run: RunRow,
  /** The verified envelope exactly as stored (canonical JSON), so anyone can re-verify it. */
  envelope: Envelope,
});
export type RunDetail = z.infer<typeof RunDetail>;

/**
 * GET /v1/runs/glances?ids=: what a table of runs shows from each one's bundle, without the bundle:
 * how exact each headline figure is (null: exact or not known), and the roofline estimate if any.
 */
export const RunGlance = z.strictObject({
  id: z.string(),
  precision: z.strictObject({
    decode: Precision.nullable(),
    prefill: Precision.nullable(),
    ttft: Precision.nullable(),
    peakMemory: Precision.nullable(),
    peakVram: Precision.nullable(),
  }),
  roofline: Roofline.nullable(),
});
export type RunGlance = z.infer<typeof RunGlance>;
export const RunGlances = z.strictObject({ items: z.array(RunGlance) });
export type RunGlances = z.infer<typeof RunGlances>;

/** GET /v1/runs/details?ids=: several runs with their envelopes, in the order asked; unknown ids left out. */
export const RunDetails = z.strictObject({ items: z.array(RunDetail) });
export type RunDetails = z.infer<typeof RunDetails>;

export const Page = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    items: z.array(item),
    nextCursor: z.string().nullable(),
  });

export const RunPage = Page(RunRow);
export type RunPage = z.infer<typeof RunPage>;

export const Leaderboard = z.strictObject({
  hardware: z.string().nullable(),
  model: z.string().nullable(),
  metric: z.enum(["decode_tps", "prefill_tps", "ttft_ms"]),
  items: z.array(RunRow),
  nextCursor: z.string().nullable(),
});
export type Leaderboard = z.infer<typeof Leaderboard>;

export const HardwareEntry = z.strictObject({
  slug: z.string(),
  name: z.string(),
  /** "gpu": discrete GPUs that held the weights; "system": a board, SoC or CPU. */
  kind: z.enum(["gpu", "system"]),
  runs: z.number(),
  models: z.number(),
  bestDecodeTps: z.number().nullable(),
});
export type HardwareEntry = z.infer<typeof HardwareEntry>;

export const ModelEntry = z.strictObject({
  slug: z.string(),
  name: z.string(),
  family: z.string().nullable(),
  parameters: z.number().nullable(),
  /** "base", "instruct", or a named fine-tune. */
  variant: z.string().nullable(),
  /** A fine-tune's base model, whose page it links to. */
  baseSlug: z.string().nullable(),
  runs: z.number(),
  hardware: z.number(),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

export const HardwareList = z.strictObject({ items: z.array(HardwareEntry) });
export const ModelList = z.strictObject({ items: z.array(ModelEntry) });

export const DEFAULT_REGISTRY_URL = "http://127.0.0.1:8787";
export const MAX_BODY_BYTES = 256 * 1024;
export const MAX_PAGE_SIZE = 100;

/** GET /v1/hardware/:slug: the canonical entry, whatever alias was asked for. */
export const HardwareDetail = HardwareEntry.extend({
  /** The slug in the request, which may be an alias of `slug`. */
  requested: z.string(),
  /** Every other slug that resolves to this one (built-in and moderator-added). */
  aliases: z.array(z.string()),
});
export type HardwareDetail = z.infer<typeof HardwareDetail>;

/** GET /v1/models/:slug: the canonical entry, whatever alias was asked for. */
export const ModelDetail = ModelEntry.extend({
  requested: z.string(),
  aliases: z.array(z.string()),
});
export type ModelDetail = z.infer<typeof ModelDetail>;

/** GET /v1/cells: one hardware × model pair with visible runs (histories and comparisons are built on them). */
export const CellEntry = z.strictObject({
  hardwareSlug: z.string(),
  hardwareName: z.string(),
  modelSlug: z.string(),
  modelName: z.string(),
  /** Visible runs, ranked or not. */
  runs: z.number(),
  /** The best decode speed among the cell's ranked, visible runs. */
  bestDecodeTps: z.number().nullable(),
  /** The quantizations its visible runs were made in, sorted. */
  quantizations: z.array(z.string()),
});
export type CellEntry = z.infer<typeof CellEntry>;
export const CellList = z.strictObject({ items: z.array(CellEntry) });
export type CellList = z.infer<typeof CellList>;

/** GET /v1/search: what a query names, read live from the database (a run stored a moment ago included). */
export const SearchResults = z.strictObject({
  query: z.string(),
  /** The run whose id the query is, when it is one. */
  run: RunRow.nullable(),
  hardware: z.array(HardwareEntry),
  models: z.array(ModelEntry),
  /** Hardware × model pairs whose names hold every word of the query, most runs first. */
  cells: z.array(CellEntry),
});
export type SearchResults = z.infer<typeof SearchResults>;
