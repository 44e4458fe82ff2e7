// D1 tables. The verified envelope is stored verbatim; the columns beside it are what leaderboards
// sort and filter on. Raw samples stay inside the envelope: one bundle writes at most four rows, and
// every index is one more row written per run, so each index here serves a query the API makes.
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { Backend, Engine, ImportFormat } from "./bundle.ts";
import { QualityStatus } from "./summary.ts";

// drizzle wants a non-empty tuple for an enum column; zod gives the same values as an array.
const values = <T extends string>(options: readonly T[]) => options as [T, ...T[]];

export const devices = sqliteTable("devices", {
  id: text("id").primaryKey(),
  // Not unique-indexed: the id is a hash of the key, so the primary key already keeps keys unique.
  publicKey: text("public_key").notNull(),
  firstSeenAt: text("first_seen_at").notNull(),
});

export const hardware = sqliteTable("hardware", {
  slug: text("slug").primaryKey(),
  name: text("name").notNull(),
  firstSeenAt: text("first_seen_at").notNull(),
});

export const models = sqliteTable("models", {
  slug: text("slug").primaryKey(),
  name: text("name").notNull(),
  family: text("family"),
  parameters: integer("parameters"),
  firstSeenAt: text("first_seen_at").notNull(),
});

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
    modelSlug: text("model_slug")
      .notNull()
      .references(() => models.slug),
    modelName: text("model_name").notNull(),
    quantization: text("quantization"),
    parameters: integer("parameters"),
    engine: text("engine", { enum: values(Engine.options) }).notNull(),
    engineVersion: text("engine_version"),
    backend: text("backend", { enum: values(Backend.options) }),
    decodeTps: real("decode_tps"),
    decodeNGen: integer("decode_n_gen"),
    prefillTps: real("prefill_tps"),
    prefillNPrompt: integer("prefill_n_prompt"),
    ttftMs: real("ttft_ms"),
    loadMs: real("load_ms"),
    peakMemoryBytes: integer("peak_memory_bytes"),
    qualityStatus: text("quality_status", { enum: values(QualityStatus.options) }).notNull(),
    qualityReason: text("quality_reason"),
    qualityScore: real("quality_score"),
    /** 0 = ranked, 1 = ranked apart (failed quality gates): the first sort key of every leaderboard. */
    rankGroup: integer("rank_group").notNull(),
    /** decode tok/s with -1 for "not measured", so keyset pagination never compares NULLs. */
    decodeSortKey: real("decode_sort_key").notNull(),
    method: text("method", { enum: ["measured", "imported"] }).notNull(),
    importFormat: text("import_format", { enum: values(ImportFormat.options) }),
    createdAt: text("created_at").notNull(),
    measuredAt: text("measured_at"),
    receivedAt: text("received_at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
    /** Canonical JSON of the signed envelope; its sha256 prefix is the run id. */
    envelope: text("envelope").notNull(),
  },
  (t) => [
    index("runs_hardware_rank").on(t.hardwareSlug, t.rankGroup, sql`${t.decodeSortKey} desc`, t.id),
    index("runs_model_rank").on(t.modelSlug, t.rankGroup, sql`${t.decodeSortKey} desc`, t.id),
    index("runs_rank").on(t.rankGroup, sql`${t.decodeSortKey} desc`, t.id),
    index("runs_received").on(t.receivedAt, t.id),
  ],
);

export type RunRecord = typeof runs.$inferSelect;
export type NewRunRecord = typeof runs.$inferInsert;
