import * as z from "zod";
import { MAX_BATCH_RUNS } from "../../schema/api.ts";
import { CliError, EXIT_USAGE } from "../errors.ts";
import { defineStrictCommand } from "../lib/command.ts";
import { flushOutbox, listOutbox } from "../lib/outbox.ts";
import { normalizeRegistry } from "../lib/registry.ts";

const BatchSize = z
  .string()
  .regex(/^\d{1,3}$/)
  .transform(Number)
  .pipe(z.int().min(1).max(MAX_BATCH_RUNS));

export default defineStrictCommand({
  meta: { name: "outbox", description: "List or deliver bundles that could not be submitted yet" },
  args: {
    action: { type: "positional", description: "list (default) or flush", required: false, default: "list" },
    registry: { type: "string", description: "Deliver to this registry instead of the one each bundle was meant for" },
    json: { type: "boolean", description: "Print as JSON", default: false },
    batch: {
      type: "string",
      description: `Bundles per request when flushing (1 to ${MAX_BATCH_RUNS})`,
      default: String(MAX_BATCH_RUNS),
    },
  },
  async run({ args }) {
    if (args.action === "list") {
      const items = await listOutbox();
      if (args.json) console.log(JSON.stringify(items));
      else if (items.length === 0) console.log("The outbox is empty.");
      else
        for (const i of items)
          console.log(
            `${i.state.padEnd(8)} ${i.id}  ${i.registry}  queued ${i.queuedAt}${i.lastError ? `  (${i.lastError.split("\n")[0]})` : ""}`,
          );
      return;
    }
    if (args.action !== "flush")
      throw new CliError(`unknown outbox action ${JSON.stringify(args.action)}; use list or flush`, EXIT_USAGE);
    const batchSize = BatchSize.safeParse(args.batch);
    if (!batchSize.success) {
      throw new CliError(
        `--batch must be a whole number from 1 to ${MAX_BATCH_RUNS}, got ${JSON.stringify(args.batch)}`,
        EXIT_USAGE,
      );
    }
    const registry = args.registry ? normalizeRegistry(args.registry) : undefined;
    const report = await flushOutbox({ ...(registry ? { registry } : {}), batchSize: batchSize.data });
    if (args.json) console.log(JSON.stringify(report));
    else {
      for (const d of report.delivered)
        console.log(`delivered ${d.id}: ${d.url}${d.created ? "" : " (already stored)"}`);
      for (const f of report.failed) console.error(`not yet delivered ${f.id}: ${f.error}`);
      for (const r of report.rejected) console.error(`rejected ${r.id}: ${r.error}`);
      if (report.delivered.length + report.failed.length + report.rejected.length === 0)
        console.log("Nothing to deliver.");
    }
    if (report.failed.length || report.rejected.length) process.exitCode = 1;
  },
});
