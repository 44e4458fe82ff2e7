// D1 tables. The verified envelope is stored verbatim; the columns beside it are what leaderboards
// sort and filter on. Raw samples stay inside the envelope. Every index is one more row written per
// run, so each index here serves a query the API makes. Nothing is ever deleted: runs are flagged,
// hidden, retracted or annotated, and every such action is in the audit log.
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { Backend, Engine, ImportFormat } from "./bundle.ts";
import { QualityStatus } from "./summary.ts";

// drizzle wants a non-empty tuple for an enum column; zod gives the same values as an array.
const values = <T extends string>(options: readonly T[]) => options as [T, ...T[]];

export const KEY_STATUSES = ["active", "rotated", "revoked"] as const;
export const REPRODUCTION_LEVELS = ["single", "reproduced", "disputed"] as const;
export const ANNOTATION_EFFECTS = ["note", "rank_apart"] as const;

export const devices = sqliteTable("devices", {
  id: text("id").primaryKey(),
  // Not unique-indexed: the id is a hash of the key, so the primary key already keeps keys unique.
  publicKey: text("public_key").notNull(),
  firstSeenAt: text("first_seen_at").notNull(),
  /** The id of the first key of a rotation chain: keys of one lineage are one submitter. */
  lineage: text("lineage").notNull(),
  status: text("status", { enum: KEY_STATUSES }).notNull().default("active"),
  statusAt: text("status_at"),
  /** For a rotated key, the device id of the key that replaced it. */
  replacedBy: text("replaced_by"),
});

// The catalog figures (runCount, modelCount, bestDecodeTps…) are a summary of the hardware's or
// model's cells, rewritten in the same batch as every change to their runs (workers/db/runs.ts
// cellWrites): the catalogs read one row per entry, not every run.
export const hardware = sqliteTable("hardware", {
  slug: text("slug").primaryKey(),
  name: text("name").notNull(),
  /** "gpu": discrete GPUs that held the weights; "system": a board, SoC or CPU. */
  kind: text("kind", { enum: ["gpu", "system"] })
    .notNull()
    .default("system"),
  firstSeenAt: text("first_seen_at").notNull(),
  /** Visible runs. */
  runCount: integer("run_count").notNull().default(0),
  /** Models with at least one visible run. */
  modelCount: integer("model_count").notNull().default(0),
  /** The best decode speed among ranked, visible runs. */
  bestDecodeTps: real("best_decode_tps"),
});

export const models = sqliteTable("models", {
  slug: text("slug").primaryKey(),
  name: text("name").notNull(),
  family: text("family"),
  parameters: integer("parameters"),
  /** "base", "instruct" or a named fine-tune's slug (schema/model-identity.ts). */
  variant: text("variant"),
  /** A fine-tune's base model: its page links there. */
  baseSlug: text("base_slug"),
  firstSeenAt: text("first_seen_at").notNull(),
  /** Visible runs. */
  runCount: integer("run_count").notNull().default(0),
  /** Hardware with at least one visible run of the model. */
  hardwareCount: integer("hardware_count").notNull().default(0),
});

/** Other spellings of a hardware or model slug, resolved to the canonical one on every read. */
export const aliases = sqliteTable(
  "aliases",
  {
    kind: text("kind", { enum: ["hardware", "model"] }).notNull(),
    alias: text("alias").notNull(),
    slug: text("slug").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.alias] })],
);

export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    deviceId: text("device_id")
      .notNull()
      .references(() => devices.id),
    hardwareSlug: text("hardware_slug")
      .notNull()
      .references(() => hardware.slug),
    hardwareName: text("hardware_name").notNull(),
    hardwareKind: text("hardware_kind", { enum: ["gpu", "system"] })
      .notNull()
      .default("system"),
    sourceHardwareName: text("source_hardware_name").notNull().default(""),
    /** The host of a GPU run (its CPU and RAM), or the CPU of a CPU run: filterable attributes. */
    hostCpu: text("host_cpu"),
    hostRamBytes: integer("host_ram_bytes"),
    gpuLayers: integer("gpu_layers"),
    modelLayers: integer("model_layers"),
    modelSlug: text("model_slug")
      .notNull()
      .references(() => models.slug),
    modelName: text("model_name").notNull(),
    sourceModelName: text("source_model_name").notNull().default(""),
    quantization: text("quantization"),
    parameters: integer("parameters"),
    engine: text("engine", { enum: values(Engine.options) }).notNull(),
    engineVersion: text("engine_version"),
    /** engineVersion with every number zero-padded, so versions compare as strings (annotations). */
    versionKey: text("version_key"),
    backend: text("backend", { enum: values(Backend.options) }),
    decodeTps: real("decode_tps"),
    decodeNGen: integer("decode_n_gen"),
    prefillTps: real("prefill_tps"),
    prefillNPrompt: integer("prefill_n_prompt"),
    ttftMs: real("ttft_ms"),
    loadMs: real("load_ms"),
    peakMemoryBytes: integer("peak_memory_bytes"),
    peakVramBytes: integer("peak_vram_bytes"),
    decodeDeliveredTps: real("decode_delivered_tps"),
    qualityStatus: text("quality_status", { enum: values(QualityStatus.options) }).notNull(),
    qualityReason: text("quality_reason"),
    qualityScore: real("quality_score"),
    /** Server-side findings (implausible, outlier, revoked key…): JSON array of {code, reason}. */
    flags: text("flags").notNull().default("[]"),
    /** 0 = ranked, 1 = ranked apart (failed quality gates, flagged, retracted): the first sort key. */
    rankGroup: integer("rank_group").notNull(),
    /** Sort keys with -1 for "not measured" (+inf for TTFT), so keyset pagination never compares NULLs. */
    decodeSortKey: real("decode_sort_key").notNull(),
    prefillSortKey: real("prefill_sort_key").notNull(),
    ttftSortKey: real("ttft_sort_key").notNull(),
    /** hardware|model|quantization|engine: the cell whose runs are compared and reproduced. */
    cell: text("cell").notNull(),
    /** The cell's reproduction level, kept on each run so leaderboards read no other table. */
    reproduction: text("reproduction", { enum: REPRODUCTION_LEVELS }).notNull().default("single"),
    method: text("method", { enum: ["measured", "imported"] }).notNull(),
    importFormat: text("import_format", { enum: values(ImportFormat.options) }),
    createdAt: text("created_at").notNull(),
    measuredAt: text("measured_at"),
    receivedAt: text("received_at").notNull(),
    nonce: text("nonce"),
    hiddenReason: text("hidden_reason"),
    retractedAt: text("retracted_at"),
    retractionReason: text("retraction_reason"),
    /** Canonical JSON of the signed envelope; its sha256 prefix is the run id. */
    envelope: text("envelope").notNull(),
    /** The IDENTITY_VERSION (schema/summary.ts) its hardware, model and headlines were derived with. */
    identityVersion: integer("identity_version").notNull().default(0),
  },
  (t) => [
    index("runs_hardware_rank").on(t.hardwareSlug, t.rankGroup, sql`${t.decodeSortKey} desc`, t.id),
    index("runs_hardware_prefill").on(t.hardwareSlug, t.rankGroup, sql`${t.prefillSortKey} desc`, t.id),
    index("runs_hardware_ttft").on(t.hardwareSlug, t.rankGroup, t.ttftSortKey, t.id),
    index("runs_model_rank").on(t.modelSlug, t.rankGroup, sql`${t.decodeSortKey} desc`, t.id),
    index("runs_rank").on(t.rankGroup, sql`${t.decodeSortKey} desc`, t.id),
    index("runs_received").on(t.receivedAt, t.id),
    // The cell with each run's copy of its reproduction level: a level change rewrites only the runs
    // that differ, found by range on this index, whatever the cell's size.
    index("runs_cell_reproduction").on(t.cell, t.reproduction),
    // No index on identity_version: the re-key scans for older runs only after a migration, while an
    // index would cost every submission one more row written.
    // A nonce may be used once per key: the same bytes again are an idempotent resend, other bytes a replay.
    uniqueIndex("runs_device_nonce").on(t.deviceId, t.nonce).where(sql`${t.nonce} is not null`),
  ],
);

/**
 * Per cell: how many ranked runs and independent submitters (key lineages) it has, and whether they
 * reproduce each other. A new run updates it in place from its own figures (ingest's cost does not
 * grow with the cell); a run hidden, retracted or re-ranked has it recomputed from the runs.
 */
export const cells = sqliteTable(
  "cells",
  {
    cell: text("cell").primaryKey(),
    hardwareSlug: text("hardware_slug").notNull(),
    modelSlug: text("model_slug").notNull(),
    /** Visible runs, ranked or not: what the catalogs count. */
    visibleRuns: integer("visible_runs").notNull().default(0),
    /** The best decode speed among the cell's ranked, visible runs. */
    bestDecodeTps: real("best_decode_tps"),
    /** The quantization as the cell's runs spell it (the cell key holds it lowercased). */
    quantization: text("quantization"),
    runs: integer("runs").notNull(),
    lineages: integer("lineages").notNull(),
    decodeMean: real("decode_mean"),
    decodeStddev: real("decode_stddev"),
    /** The sum of the ranked runs' decode speeds and of their squared deviations from the mean (Welford's M2). */
    decodeSum: real("decode_sum").notNull().default(0),
    decodeM2: real("decode_m2").notNull().default(0),
    /**
     * Per submitter lineage, its ranked runs and their decode sum, as JSON ({"<lineage>": [runs, sum]}):
     * the lineage means decide the level. In the cell's own row, so a new run writes one row here.
     */
    lineageSums: text("lineage_sums").notNull().default("{}"),
    /**
     * Within one write batch with several ranked runs of this cell, their lineages' entries of lineage_sums
     * (and the witness's), kept here while the runs go in and merged into lineage_sums at the batch's end:
     * each run then reads and writes this small object instead of the whole sums. '{}' outside a batch.
     */
    lineagePending: text("lineage_pending").notNull().default("{}"),
    /**
     * Two lineages whose means agree (JSON ["<lineage>", "<lineage>"]), null when none do: the witness
     * of a reproduced level, so a new run re-checks the level against it instead of every lineage.
     */
    agreeingPair: text("agreeing_pair"),
    level: text("level", { enum: REPRODUCTION_LEVELS }).notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("cells_hardware").on(t.hardwareSlug), index("cells_model").on(t.modelSlug)],
);

/** Moderators' notes on every run of an engine version range (e.g. a known-slow build). */
export const annotations = sqliteTable("annotations", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  engine: text("engine", { enum: values(Engine.options) }).notNull(),
  fromVersion: text("from_version").notNull(),
  toVersion: text("to_version").notNull(),
  fromKey: text("from_key").notNull(),
  toKey: text("to_key").notNull(),
  note: text("note").notNull(),
  effect: text("effect", { enum: ANNOTATION_EFFECTS }).notNull(),
  createdAt: text("created_at").notNull(),
  removedAt: text("removed_at"),
});

/** Every moderation and key action, public. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: text("at").notNull(),
    /** "admin", or the device id that signed the action. */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target").notNull(),
    reason: text("reason"),
    details: text("details"),
  },
  // By signer (replay checks of key records) and by target (a run's or key's history).
  (t) => [
    index("audit_log_at").on(t.at),
    index("audit_log_actor").on(t.actor, t.id),
    index("audit_log_target").on(t.target, t.id),
  ],
);

export type RunRecord = typeof runs.$inferSelect;
export type NewRunRecord = typeof runs.$inferInsert;
export type DeviceRecord = typeof devices.$inferSelect;

/**
 * One row: the number the site's page cache is keyed by (site/src/lib/page-cache.ts), bumped after
 * every API request that wrote (workers/middleware/data-version.ts).
 */
export const dataVersion = sqliteTable("data_version", {
  id: integer("id").primaryKey(),
  version: integer("version").notNull(),
});

/**
 * Never holds a row. A single submission's write batch is decided without reading D1 first, on
 * assumptions (its run and nonce unused, its key active, no merge, annotation or outlier that would
 * change the decision); the batch opens with an insert here that selects a row only where one of them
 * is false, and the check refuses that row, which rolls the whole batch back (workers/ingest.ts).
 */
export const ingestAssumptions = sqliteTable("ingest_assumptions", { held: integer("held").notNull() }, (t) => [
  check("ingest_assumptions_hold", sql`${t.held} = 1`),
]);
