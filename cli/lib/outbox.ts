// The outbox: bundles that could not be delivered wait here and are delivered exactly once later.
// Exactly once = every queued envelope is sent until the registry confirms it, and the registry
// stores the same bytes only once (the run id is the hash of the content). Claims are atomic
// renames, so two processes flushing at the same time never send the same file concurrently.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod";
import { Envelope, runIdOf } from "../../schema/signing.ts";
import { configDir } from "../env.ts";
import { CliError } from "../errors.ts";
import { submitEnvelope } from "./registry.ts";

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

/** Delivers every pending bundle (to its own registry, or `registry` when given). */
export async function flushOutbox(options: { registry?: string; root?: string } = {}): Promise<FlushReport> {
  const root = options.root ?? outboxDir();
  const d = await dirs(root);
  await reclaimStale(d);
  const report: FlushReport = { delivered: [], failed: [], rejected: [] };
  for (const file of (await readdir(d.pending)).filter((f) => f.endsWith(".json")).sort()) {
    const id = file.split(".")[0] as string;
    const claimed = join(d.sending, `${id}.${process.pid}.json`);
    try {
      await rename(join(d.pending, file), claimed);
    } catch {
      continue; // another process claimed it first
    }
    const entry = await readEntry(claimed);
    if (!entry) {
      await rename(claimed, join(d.rejected, `${id}.json`));
      report.rejected.push({ id, error: "the queued file is damaged" });
      continue;
    }
    try {
      const answer = await submitEnvelope(options.registry ?? entry.registry, entry.envelope);
      await rm(claimed);
      report.delivered.push({ id, url: answer.url, created: answer.created });
    } catch (error) {
      const message = (error as Error).message;
      const next: Entry = { ...entry, attempts: entry.attempts + 1, lastError: message };
      await writeFile(claimed, JSON.stringify(next));
      // The registry said no (4xx): sending the same bytes again cannot succeed.
      const refused = error instanceof CliError && /refused it \(4\d\d/.test(message);
      await rename(claimed, join(refused ? d.rejected : d.pending, `${id}.json`));
      (refused ? report.rejected : report.failed).push({ id, error: message });
    }
  }
  return report;
}
