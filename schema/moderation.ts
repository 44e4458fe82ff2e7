// The moderation contract: what a moderator sends to /v1/admin/*, and the public audit log every
// such action (and every key action) lands in. The Worker validates with these schemas, the
// OpenAPI document is generated from them, and clients parse the answers with them.
import * as z from "zod";
import { MAX_PAGE_SIZE, RunRow } from "./api.ts";
import { Engine } from "./bundle.ts";
import type { ANNOTATION_EFFECTS } from "./db.ts";
import { SLUG_PATTERN } from "./slug.ts";
import { versionKey } from "./version-key.ts";

/** Moderation bodies are a few short strings; anything bigger is refused before it is parsed. */
export const MAX_MODERATION_BODY_BYTES = 8 * 1024;

/** Every action is public, so every action says why. */
const Reason = z
  .string()
  .trim()
  .min(1, "say why: the reason is published in the audit log")
  .max(500)
  .meta({ description: "Why; published in the audit log", example: "duplicate of another run" });

export const HideRequest = z.strictObject({ reason: Reason }).meta({ id: "HideRequest" });
export type HideRequest = z.infer<typeof HideRequest>;

export const UnhideRequest = z.strictObject({ reason: Reason }).meta({ id: "UnhideRequest" });
export type UnhideRequest = z.infer<typeof UnhideRequest>;

// Kept equal to the column's enum in schema/db.ts by `satisfies`, without importing drizzle here.
export const AnnotationEffect = z
  .enum(["note", "rank_apart"] as const satisfies typeof ANNOTATION_EFFECTS)
  .describe("note: a flag shown with each run; rank_apart: the flag also ranks the runs apart");
export type AnnotationEffect = z.infer<typeof AnnotationEffect>;

const EngineVersion = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .refine((v) => versionKey(v) !== null, "must contain a version number, e.g. b6000 or 0.9.1");

export const AnnotationRequest = z
  .strictObject({
    engine: Engine,
    fromVersion: EngineVersion.meta({ description: "First version of the range, inclusive", example: "b5900" }),
    toVersion: EngineVersion.meta({ description: "Last version of the range, inclusive", example: "b6010" }),
    note: z.string().trim().min(1).max(500).meta({ example: "known decode regression on ARM in these builds" }),
    effect: AnnotationEffect,
  })
  .superRefine((value, ctx) => {
    const from = versionKey(value.fromVersion);
    const to = versionKey(value.toVersion);
    if (from !== null && to !== null && from > to) {
      ctx.addIssue({
        code: "custom",
        path: ["toVersion"],
        message: `must not be before fromVersion ${value.fromVersion}`,
      });
    }
  })
  .meta({ id: "AnnotationRequest" });
export type AnnotationRequest = z.infer<typeof AnnotationRequest>;

export const RemoveAnnotationRequest = z.strictObject({ reason: Reason }).meta({ id: "RemoveAnnotationRequest" });
export type RemoveAnnotationRequest = z.infer<typeof RemoveAnnotationRequest>;

const Slug = z.string().regex(SLUG_PATTERN, "must be a slug, e.g. raspberry-pi-4");

export const AliasKind = z.enum(["hardware", "model"]);
export type AliasKind = z.infer<typeof AliasKind>;

export const AliasRequest = z
  .strictObject({
    kind: AliasKind,
    alias: Slug.meta({ description: "The other spelling, as a slug", example: "pi4" }),
    slug: Slug.meta({ description: "The canonical slug it stands for; must exist", example: "raspberry-pi-4" }),
  })
  .refine((v) => v.alias !== v.slug, { path: ["alias"], message: "an alias must differ from its slug" })
  .meta({ id: "AliasRequest" });
export type AliasRequest = z.infer<typeof AliasRequest>;

/** One row of the public audit log. */
export const AuditEntry = z
  .strictObject({
    id: z.int(),
    at: z.string().meta({ description: "ISO 8601 time of the action" }),
    actor: z.string().meta({ description: '"admin", or the device id that signed the action' }),
    action: z.string().meta({ example: "run.hide" }),
    target: z.string().meta({ description: "What the action was about, e.g. run:<id>", example: "run:0123abcd" }),
    reason: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: "AuditEntry" });
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditPage = z
  .strictObject({ items: z.array(AuditEntry), nextCursor: z.string().nullable() })
  .meta({ id: "AuditPage" });
export type AuditPage = z.infer<typeof AuditPage>;

export const AuditQuery = z.strictObject({
  target: z.string().min(1).max(200).optional().meta({ description: "Only actions on this target, e.g. run:<id>" }),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  cursor: z.string().max(500).optional(),
});

/** What a hide or unhide answers: the run as it now reads, and the audit row written with it. */
export const RunModerationResponse = z
  .strictObject({ run: RunRow, audit: AuditEntry })
  .meta({ id: "RunModerationResponse" });
export type RunModerationResponse = z.infer<typeof RunModerationResponse>;

export const Annotation = z
  .strictObject({
    id: z.int(),
    engine: Engine,
    fromVersion: z.string(),
    toVersion: z.string(),
    note: z.string(),
    effect: AnnotationEffect,
    createdAt: z.string(),
    removedAt: z.string().nullable(),
  })
  .meta({ id: "Annotation" });
export type Annotation = z.infer<typeof Annotation>;

export const AnnotationResponse = z
  .strictObject({
    annotation: Annotation,
    /** Existing runs whose flags changed; later runs get the flag when they are submitted. */
    runsAffected: z.int(),
    audit: AuditEntry,
  })
  .meta({ id: "AnnotationResponse" });
export type AnnotationResponse = z.infer<typeof AnnotationResponse>;

export const Alias = z
  .strictObject({ kind: AliasKind, alias: z.string(), slug: z.string(), createdAt: z.string() })
  .meta({ id: "Alias" });
export type Alias = z.infer<typeof Alias>;

export const AliasResponse = z
  .strictObject({
    alias: Alias,
    /** False when the same alias already pointed at the same slug: nothing was written. */
    created: z.boolean(),
    audit: AuditEntry.nullable(),
  })
  .meta({ id: "AliasResponse" });
export type AliasResponse = z.infer<typeof AliasResponse>;

/** Merge one catalog entry into another: its runs move there, and its slug becomes an alias. */
export const MergeRequest = z
  .strictObject({
    kind: AliasKind,
    from: Slug.meta({ description: "The entry merged away; its runs move", example: "gemma3-270m" }),
    into: Slug.meta({ description: "The entry that keeps its page; must exist", example: "gemma-3-270m-instruct" }),
    reason: Reason,
  })
  .refine((v) => v.from !== v.into, { path: ["into"], message: "an entry cannot be merged into itself" })
  .meta({ id: "MergeRequest" });
export type MergeRequest = z.infer<typeof MergeRequest>;

/** Undo a merge: the runs that the identity rules file under `from` go back there. */
export const UnmergeRequest = z
  .strictObject({ kind: AliasKind, from: Slug, reason: Reason })
  .meta({ id: "UnmergeRequest" });
export type UnmergeRequest = z.infer<typeof UnmergeRequest>;

export const MergeResponse = z
  .strictObject({
    kind: AliasKind,
    from: z.string(),
    into: z.string(),
    /** Runs whose hardware or model changed. */
    runsMoved: z.int(),
    audit: AuditEntry,
  })
  .meta({ id: "MergeResponse" });
export type MergeResponse = z.infer<typeof MergeResponse>;

export const RekeyResponse = z
  .strictObject({
    rekeyed: z.int().meta({ description: "Runs summarized again with the current identity rules" }),
    moved: z.int().meta({ description: "Of those, runs whose hardware or model changed" }),
    unreadable: z
      .array(z.string())
      .meta({ description: "Runs whose stored envelope no longer parses, left as they were" }),
    aliased: z.array(z.strictObject({ kind: AliasKind, alias: z.string(), slug: z.string() })),
    remaining: z.int().meta({ description: "Runs still summarized by older rules: call again until 0" }),
  })
  .meta({ id: "RekeyResponse" });
export type RekeyResponse = z.infer<typeof RekeyResponse>;
