// Open data: every run as NDJSON or CSV, hidden and retracted ones included with their status, so a
// mirror sees what the registry decided and why. Streamed one keyset page at a time, so memory stays
// flat however many runs there are.

import { stringify } from "csv-stringify/sync";
import type { Context } from "hono";
import { Hono } from "hono";
import * as z from "zod";
import type { RunRow } from "../../schema/api.ts";
import { listRuns, type ReceivedCursor, type RowRecord, toRunRow } from "../db/runs.ts";
import type { AppEnv } from "../env.ts";
import { validQuery } from "../middleware/validate.ts";
import { publicBase } from "../public-url.ts";

/** Rows read per D1 query while streaming. */
export const EXPORT_PAGE_SIZE = 500;

/**
 * The export's columns, in CSV order, with what each holds. Every field of RunRow is here (the type
 * makes sure): an NDJSON line is exactly a RunRow, a CSV row the same fields flattened.
 */
export const EXPORT_COLUMNS = {
  id: "run id: the first 24 hex digits of the sha256 of the signed envelope's canonical JSON",
  url: "the run's page",
  receivedAt: "when the registry stored the run (ISO 8601); the export is ordered by it, newest first",
  status: "visible, hidden (by a moderator) or retracted (by its signer)",
  statusReason: "why it was hidden or retracted; empty when visible",
  deviceId: "the signing key's id",
  hardwareSlug: "canonical hardware slug: the discrete GPU(s) that held most layers, else the board, SoC or CPU",
  hardwareName: "canonical hardware name, e.g. NVIDIA H200, Raspberry Pi 5",
  hardwareKind: "gpu (filed under discrete GPUs) or system (a board, SoC or CPU)",
  sourceHardwareName: "the hardware name as the bundle gave it",
  hostCpu: "the host CPU as reported (for a GPU run, the machine around the GPU)",
  hostRamBytes: "the host's RAM, bytes",
  gpuLayers: "layers offloaded to the GPU (llama.cpp -ngl; at least modelLayers means all)",
  modelLayers: "the model's layer count, when stated",
  modelSlug: "canonical model slug (family, version, size, variant)",
  modelName: "canonical model name",
  sourceModelName: "the model name as the source gave it",
  quantization: "normalized quantization, e.g. Q4_K_M, 4bit, w8a8",
  parameters: "model parameters",
  engine: "inference engine",
  engineVersion: "engine version as reported",
  backend: "compute backend (cpu, cuda, metal…)",
  decodeTps: "headline decode speed, tokens/s: the median repetition, engine-timed where measured (as llama-bench tg)",
  decodeNGen: "tokens generated in the headline decode measurement",
  prefillTps: "headline prefill speed, tokens/s",
  prefillNPrompt: "prompt tokens in the headline prefill measurement",
  ttftMs: "time to first token, ms",
  loadMs: "cold model load, ms",
  peakMemoryBytes: "peak host memory (RSS, or as the tool reported it), bytes",
  peakVramBytes: "peak GPU memory, bytes",
  decodeDeliveredTps: "decode as the application receives tokens (sampling included), tokens/s",
  qualityStatus: "pass, fail or unknown",
  qualityReason: "why the quality gates failed",
  qualityScore: "task-suite score, 0–1",
  rankedApart: "true when the run is listed after the ranked runs (failed quality, flagged, retracted)",
  reproduction: "single, reproduced or disputed",
  flags: "the registry's findings, a JSON array of {code, reason, rankApart} (CSV: as JSON text)",
  method: "measured or imported",
  importFormat: "the tool the result was imported from",
  createdAt: "when the bundle was created (signed time, ISO 8601)",
  measuredAt: "when the measurement ran (ISO 8601)",
} as const satisfies Record<keyof RunRow, string>;

const COLUMN_NAMES = Object.keys(EXPORT_COLUMNS) as Array<keyof RunRow>;

export const ExportQuery = z.strictObject({
  since: z
    .union([z.iso.datetime({ offset: true }), z.iso.date()])
    .transform((value) => new Date(value).toISOString())
    .optional()
    .meta({ description: "Only runs received at or after this time (ISO 8601 date or date-time)" }),
});

function csvChunk(rows: RunRow[], header: boolean): string {
  return stringify(
    rows.map((row) => ({ ...row, flags: JSON.stringify(row.flags) })),
    {
      header,
      columns: COLUMN_NAMES,
      // The default writes true as "1" and false as "": spelled out, a CSV reader needs no legend.
      cast: { boolean: (value) => String(value) },
    },
  );
}

const ndjsonChunk = (rows: RunRow[]) => rows.map((row) => `${JSON.stringify(row)}\n`).join("");

type Format = "ndjson" | "csv";

const CONTENT_TYPE: Record<Format, string> = {
  ndjson: "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8; header=present",
};

/**
 * Pages through listRuns (newest first) until the end or the first run older than `since`. The
 * first page is read before answering, so a failing database is a 500, not a truncated 200.
 */
async function exportResponse(c: Context<AppEnv>, format: Format, since: string | undefined): Promise<Response> {
  const db = c.var.db;
  const base = publicBase(c);
  const encoder = new TextEncoder();
  const read = async (after: ReceivedCursor | undefined) => {
    const page = await listRuns(db, { after, limit: EXPORT_PAGE_SIZE });
    const fresh = since === undefined ? page.rows : page.rows.filter((r: RowRecord) => r.receivedAt >= since);
    // Newest first: once a page holds a run older than `since`, every later page does too.
    const done = page.next === null || fresh.length < page.rows.length;
    return { rows: fresh.map((r) => toRunRow(r, base)), next: done ? null : page.next };
  };
  let page: Awaited<ReturnType<typeof read>> | null = await read(undefined);
  let first = true;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (page === null) {
          controller.close();
          return;
        }
        const current = page;
        // A CSV always has its header row, even with no runs.
        const text = format === "csv" ? csvChunk(current.rows, first) : ndjsonChunk(current.rows);
        first = false;
        if (text) controller.enqueue(encoder.encode(text));
        page = current.next ? await read(current.next) : null;
      } catch (error) {
        console.error("export stream failed", error);
        controller.error(error);
      }
    },
  });
  const day = new Date().toISOString().slice(0, 10);
  c.header("Content-Type", CONTENT_TYPE[format]);
  c.header("Content-Disposition", `attachment; filename="edgebench-runs-${day}.${format}"`);
  c.header("Cache-Control", "public, max-age=300");
  return c.body(stream);
}

export const exportRoute = new Hono<AppEnv>()
  .get("/runs.ndjson", validQuery(ExportQuery), (c) => exportResponse(c, "ndjson", c.req.valid("query").since))
  .get("/runs.csv", validQuery(ExportQuery), (c) => exportResponse(c, "csv", c.req.valid("query").since));
