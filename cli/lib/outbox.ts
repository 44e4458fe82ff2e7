// The outbox: bundles that could not be delivered wait here and are delivered exactly once later.
// Exactly once = every queued envelope is sent until the registry confirms it, and the registry
// stores the same bytes only once (the run id is the hash of the content). Claims are atomic
// renames, so two processes flushing at the same time never send the same file concurrently.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod";
import { MAX_BATCH_RUNS } from "../../schema/api.ts";
import { Envelope, runIdOf } from "../../schema/signing.ts";
import { configDir } from "../env.ts";
import { BatchCutter, type DeliveryOutcome, deliverBatch } from "./registry.ts";

const Entry = z.strictObject({
  registry: z.string(),
  envelope: Envelope,
  queuedAt: z.string(),
  attempts: z.int().min(0),
  lastError: z.string().optional(),
});
type Entry = z.infer<typeof Entry>;

/** A claim older than this whose process is gone is taken back into the queue. */
const STALE_CLAIM_MS = 10 * 60_000;

export interface OutboxItem {
  id: string;
  state: "pending" | "sending" | "rejected";
  registry: string;
  queuedAt: string;
  attempts: number;
  lastError?: string | undefined;
}

export interface FlushReport {
  delivered: Array<{ id: string; url: string; created: boolean }>;
  failed: Array<{ id: string; error: string }>;
  rejected: Array<{ id: string; error: string }>;
}

export function outboxDir(dir = configDir()): string {
  return join(dir, "outbox");
}

async function dirs(root: string) {
  const d = { pending: join(root, "pending"), sending: join(root, "sending"), rejected: join(root, "rejected") };
  for (const path of Object.values(d)) await mkdir(path, { recursive: true, mode: 0o700 });
  return d;
}

export async function enqueue(registry: string, envelope: Envelope, root = outboxDir()): Promise<string> {
  const d = await dirs(root);
  const id = await runIdOf(envelope);
  const entry: Entry = { registry, envelope, queuedAt: new Date().toISOString(), attempts: 0 };
  const tmp = join(root, `.${id}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(entry));
  await rename(tmp, join(d.pending, `${id}.json`));
  return id;
}

async function readEntry(path: string): Promise<Entry | undefined> {
  try {
    return Entry.parse(JSON.parse(await readFile(path, "utf8")));
  } catch {
    return undefined;
  }
}

export async function listOutbox(root = outboxDir()): Promise<OutboxItem[]> {
  const d = await dirs(root);
  const items: OutboxItem[] = [];
  for (const state of ["pending", "sending", "rejected"] as const) {
    for (const file of (await readdir(d[state])).filter((f) => f.endsWith(".json")).sort()) {
      const entry = await readEntry(join(d[state], file));
      if (!entry) continue;
      items.push({
        id: file.split(".")[0] as string,
        state,
        registry: entry.registry,
        queuedAt: entry.queuedAt,
        attempts: entry.attempts,
        lastError: entry.lastError,
      });
    }
  }
  return items;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Puts claims of processes that died mid-delivery back into the queue. */
async function reclaimStale(d: Awaited<ReturnType<typeof dirs>>): Promise<void> {
  for (const file of await readdir(d.sending)) {
    const [id, pid] = file.split(".");
    const path = join(d.sending, file);
    const age = Date.now() - (await stat(path)).mtimeMs;
    if (processAlive(Number(pid)) && age < STALE_CLAIM_MS) continue;
    await rename(path, join(d.pending, `${id}.json`)).catch(() => {});
  }
}

interface Claimed {
  id: string;
  /** The claimed file under sending/. */
  path: string;
  entry: Entry;
}

/**
 * Delivers every pending bundle (to its own registry, or `registry` when given), up to `batchSize`
 * in one request (POST /v1/runs/batch; one at a time to a registry without that route). Each
 * bundle is settled on its own answer: delivered (removed), refused for good (moved to rejected/),
 * or not delivered yet (back to pending/, with the error).
 */
export async function flushOutbox(
  options: { registry?: string; root?: string; batchSize?: number } = {},
): Promise<FlushReport> {
  const root = options.root ?? outboxDir();
  const batchSize = options.batchSize ?? MAX_BATCH_RUNS;
  const d = await dirs(root);
  await reclaimStale(d);
  const report: FlushReport = { delivered: [], failed: [], rejected: [] };
  // Claims are taken one file at a time and each registry's batch is sent as soon as it is full, so
  // a concurrent flush can claim the files after it meanwhile.
  const batches = new Map<string, BatchCutter<Claimed>>();

  const settle = async (c: Claimed, outcome: DeliveryOutcome) => {
    if (outcome.kind === "stored") {
      await rm(c.path);
      report.delivered.push({ id: c.id, url: outcome.url, created: outcome.created });
      return;
    }
    const next: Entry = { ...c.entry, attempts: c.entry.attempts + 1, lastError: outcome.error };
    await writeFile(c.path, JSON.stringify(next));
    await rename(c.path, join(outcome.final ? d.rejected : d.pending, `${c.id}.json`));
    (outcome.final ? report.rejected : report.failed).push({ id: c.id, error: outcome.error });
  };

  const send = async (registry: string, claimed: Claimed[]) => {
    const outcomes = await deliverBatch(
      registry,
      claimed.map((c) => c.entry.envelope),
    );
    for (const [index, c] of claimed.entries()) await settle(c, outcomes[index] as DeliveryOutcome);
  };

  for (const file of (await readdir(d.pending)).filter((f) => f.endsWith(".json")).sort()) {
    const id = file.split(".")[0] as string;
    const path = join(d.sending, `${id}.${process.pid}.json`);
    try {
      await rename(join(d.pending, file), path);
    } catch {
      continue; // another process claimed it first
    }
    const entry = await readEntry(path);
    if (!entry) {
      await rename(path, join(d.rejected, `${id}.json`));
      report.rejected.push({ id, error: "the queued file is damaged" });
      continue;
    }
    const registry = options.registry ?? entry.registry;
    let cutter = batches.get(registry);
    if (!cutter) {
      cutter = new BatchCutter<Claimed>((c) => c.entry.envelope, batchSize);
      batches.set(registry, cutter);
    }
    const full = cutter.add({ id, path, entry });
    if (full) await send(registry, full);
  }
  for (const [registry, cutter] of batches) {
    const last = cutter.finish();
    if (last) await send(registry, last);
  }
  return report;
}
