import { mkdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { type Bundle, ImportFormat } from "../../schema/bundle.ts";
import { type Envelope, signPayload } from "../../schema/signing.ts";
import { defaultRegistry } from "../env.ts";
import { CliError, EXIT_USAGE } from "../errors.ts";
import { notHardware, notHardwareMessage } from "../import/hardware.ts";
import { importFile } from "../import/run-import.ts";
import { describeDevice, thisDevice } from "../import/this-device.ts";
import { defineStrictCommand } from "../lib/command.ts";
import { writeFileWhole } from "../lib/files.ts";
import { loadOrCreateKey } from "../lib/keys.ts";
import { enqueue } from "../lib/outbox.ts";
import { deliverBatch, normalizeRegistry, splitBatches } from "../lib/registry.ts";
import { VERSION } from "../version.ts";

const FORMATS = ["auto", ...ImportFormat.options.filter((f) => f !== "report")] as const;

export default defineStrictCommand({
  meta: {
    name: "import",
    description: "Turn the outputs of llama-bench, lm-eval, Ollama, llama-server, MLX or RKLLM into bundles",
  },
  args: {
    files: { type: "positional", description: "Files to import", required: true },
    format: { type: "string", description: `One of ${FORMATS.join(", ")}`, default: "auto" },
    hardware: { type: "string", description: "The board or machine, when the file does not say" },
    thisDevice: {
      type: "boolean",
      description:
        "For files that do not say what hardware they ran on: this machine, fingerprinted as edgebench run does",
      default: false,
    },
    model: { type: "string", description: "The model's name, when the file does not say" },
    json: {
      type: "boolean",
      description: "Print the bundles as a JSON array on stdout (nothing is signed or sent)",
      default: false,
    },
    out: { type: "string", description: "Directory for the bundle files (default: the current directory)" },
    submit: { type: "boolean", description: "Sign with this device's key and upload", default: false },
    registry: { type: "string", description: "Registry URL for --submit" },
  },
  async run({ args }) {
    const format = args.format as (typeof FORMATS)[number];
    if (!FORMATS.includes(format)) {
      throw new CliError(
        `--format must be one of ${FORMATS.join(", ")}, got ${JSON.stringify(args.format)}`,
        EXIT_USAGE,
      );
    }
    if (args.json && (args.submit || args.out)) {
      throw new CliError("--json prints the bundles only; it does not go with --submit or --out", EXIT_USAGE);
    }
    if (args.hardware !== undefined) {
      // The registry files runs under this name: a backend or a placeholder would become a leaderboard.
      const why = notHardware(args.hardware);
      if (why) {
        throw new CliError(
          `--hardware ${JSON.stringify(args.hardware)} ${notHardwareMessage(why, "board or machine")}: give the hardware that ran it, e.g. --hardware "Raspberry Pi 4 Model B"`,
          EXIT_USAGE,
        );
      }
    }
    const files = args._.length ? args._ : [args.files];
    // --hardware wins over --this-device: this machine is only fingerprinted when it may be needed.
    const device = args.thisDevice && args.hardware === undefined ? await thisDevice() : undefined;
    const context = {
      hardware: args.hardware?.trim(),
      thisDevice: device,
      model: args.model,
      now: new Date().toISOString(),
      toolVersion: VERSION,
    };
    // Every file is read and converted before anything is written or sent: one bad file, nothing submitted.
    const imported: Array<{ file: string; bundles: Bundle[] }> = [];
    for (const file of files) {
      const { importer, bundles, thisDevice: used } = await importFile(file, format, context);
      // Said before anything is written or sent: the user sees what the bundles will name.
      if (used) {
        console.error(
          `Hardware not named in ${file} (${used.why}): using this device, ${used.devices.map(describeDevice).join("; ")} (--this-device)`,
        );
      }
      console.error(`${file}: ${bundles.length} bundle${bundles.length === 1 ? "" : "s"} from ${importer.format}`);
      imported.push({ file, bundles });
    }
    const all = imported.flatMap((i) => i.bundles);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
      return;
    }
    if (args.submit) {
      const registry = normalizeRegistry(args.registry ?? defaultRegistry());
      const key = await loadOrCreateKey();
      const envelopes = await Promise.all(all.map((bundle) => signPayload(bundle, key.privateKey)));
      // Many bundles go in batches (one request each); each bundle is answered on its own.
      const refused: string[] = [];
      let offset = 0;
      for (const batch of splitBatches(envelopes)) {
        const outcomes = await deliverBatch(registry, batch);
        for (const [index, outcome] of outcomes.entries()) {
          if (outcome.kind === "stored") {
            console.error(`${outcome.created ? "submitted" : "already stored"}: ${outcome.url}`);
          } else if (outcome.final) {
            refused.push(`bundle ${offset + index + 1} of ${envelopes.length}: ${outcome.error}`);
          } else {
            // Not delivered yet (network, rate limit, 5xx, no answer for it): it waits in the outbox.
            const id = await enqueue(registry, batch[index] as Envelope);
            console.error(`${outcome.error}; queued in the outbox as ${id}`);
          }
        }
        offset += batch.length;
      }
      if (refused.length) throw new CliError(refused.join("\n"));
      return;
    }
    const dir = resolve(args.out ?? ".");
    await mkdir(dir, { recursive: true });
    // Two inputs may share a base name (a/results.md, b/results.md): each bundle gets a name of its own.
    const taken = new Set<string>();
    for (const { file, bundles } of imported) {
      for (const [index, bundle] of bundles.entries()) {
        const stem = `${basename(file).replace(/\.[^.]+$/, "")}${bundles.length > 1 ? `-${index + 1}` : ""}`;
        let name = `${stem}.bundle.json`;
        for (let n = 2; taken.has(name); n++) name = `${stem}.${n}.bundle.json`;
        taken.add(name);
        // Whole or not at all: an interruption must not leave a truncated bundle file behind.
        await writeFileWhole(join(dir, name), `${JSON.stringify(bundle, null, 2)}\n`);
        console.error(`wrote ${join(dir, name)}`);
      }
    }
  },
});
