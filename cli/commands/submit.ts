import { signPayload } from "../../schema/signing.ts";
import { defaultRegistry } from "../env.ts";
import { checkBundle } from "../lib/bundle.ts";
import { defineStrictCommand } from "../lib/command.ts";
import { isEnvelopeLike, parseEnvelope, readJsonFile } from "../lib/files.ts";
import { loadKey } from "../lib/keys.ts";
import { normalizeRegistry, submitEnvelope } from "../lib/registry.ts";

export default defineStrictCommand({
  meta: { name: "submit", description: "Submit a bundle (signed now with this device's key) or a signed envelope" },
  args: {
    file: { type: "positional", description: "Bundle or signed envelope JSON file", required: true },
    registry: { type: "string", description: "Registry URL (default http://127.0.0.1:8787, or EDGEBENCH_REGISTRY)" },
    json: { type: "boolean", description: "Print the registry's answer as JSON", default: false },
  },
  async run({ args }) {
    const registry = normalizeRegistry(args.registry ?? defaultRegistry());
    const value = await readJsonFile(args.file);
    let envelope: ReturnType<typeof parseEnvelope>;
    if (isEnvelopeLike(value)) {
      envelope = parseEnvelope(value, args.file);
      checkBundle(envelope.payload, `${args.file} (payload)`);
    } else {
      const bundle = checkBundle(value, args.file);
      envelope = await signPayload(value as typeof bundle, (await loadKey()).privateKey);
    }
    const answer = await submitEnvelope(registry, envelope);
    if (args.json) console.log(JSON.stringify(answer));
    else console.log(`${answer.created ? "Stored" : "Already stored"} run ${answer.id}: ${answer.url}`);
  },
});
