// `edgebench retract <run id or URL> --reason "…"`: withdraw one of this device's runs with a signed
// retraction. The run stays readable, marked retracted, and is no longer ranked or counted.
import { RetractionResponse, retractionRecord } from "../../schema/key-records.ts";
import { signPayload } from "../../schema/signing.ts";
import { defaultRegistry } from "../env.ts";
import { CliError, EXIT_USAGE } from "../errors.ts";
import { defineStrictCommand } from "../lib/command.ts";
import { loadKey } from "../lib/keys.ts";
import { normalizeRegistry, postSigned } from "../lib/registry.ts";

/** A bare run id, or a run page / API URL (…/runs/<id>/ or …/v1/runs/<id>), whose origin is the registry. */
function parseRunRef(ref: string): { id: string; origin?: string } {
  if (/^[0-9a-f]{24}$/.test(ref)) return { id: ref };
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    throw new CliError(`${JSON.stringify(ref)} is neither a run id (24 hex digits) nor a run URL`, EXIT_USAGE);
  }
  const id = url.pathname.match(/\/runs\/([0-9a-f]{24})\/?$/)?.[1];
  if (!id || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new CliError(`${ref} is not a run URL (…/runs/<id>/)`, EXIT_USAGE);
  }
  return { id, origin: url.origin };
}

export default defineStrictCommand({
  meta: { name: "retract", description: "Retract one of this device's runs (signed; only its own key's lineage can)" },
  args: {
    run: { type: "positional", description: "Run id or run URL", required: true },
    reason: { type: "string", description: "Why; published with the run", required: true },
    registry: {
      type: "string",
      description: "Registry URL (default: the run URL's origin, else http://127.0.0.1:8787 or EDGEBENCH_REGISTRY)",
    },
    json: { type: "boolean", description: "Print the registry's answer as JSON", default: false },
  },
  async run({ args }) {
    const ref = parseRunRef(args.run);
    const registry = normalizeRegistry(args.registry ?? ref.origin ?? defaultRegistry());
    if (!args.reason.trim()) throw new CliError("--reason must say why the run is retracted", EXIT_USAGE);
    const key = await loadKey();
    const envelope = await signPayload(retractionRecord(ref.id, args.reason.trim()), key.privateKey);
    const answer = await postSigned(registry, "/v1/retractions", envelope, RetractionResponse);
    if (args.json) console.log(JSON.stringify(answer));
    else console.log(`${answer.applied ? "Retracted" : "Already retracted"} run ${answer.runId}: ${answer.url}`);
  },
});
