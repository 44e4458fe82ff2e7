import { Bundle } from "../../schema/bundle.ts";
import { runIdOf, verifyEnvelope } from "../../schema/signing.ts";
import { CliError } from "../errors.ts";
import { defineStrictCommand } from "../lib/command.ts";
import { parseEnvelope, readJsonFile } from "../lib/files.ts";
import { fetchRunDetail } from "../lib/registry.ts";

export default defineStrictCommand({
  meta: { name: "verify", description: "Verify a signed envelope file, or a run on a registry by its URL" },
  args: {
    source: { type: "positional", description: "Signed envelope JSON file, or a run URL", required: true },
  },
  async run({ args }) {
    const isUrl = /^https?:\/\//.test(args.source);
    const detail = isUrl ? await fetchRunDetail(args.source) : undefined;
    const envelope = detail ? detail.envelope : parseEnvelope(await readJsonFile(args.source), args.source);
    const verdict = await verifyEnvelope(envelope);
    if (!verdict.ok) throw new CliError(`INVALID: ${verdict.reason}`);
    if (detail && (await runIdOf(envelope)) !== detail.run.id) {
      throw new CliError(
        `INVALID: the registry served an envelope whose content does not hash to run id ${detail.run.id}`,
      );
    }
    const bundle = Bundle.safeParse(envelope.payload);
    if (!bundle.success) throw new CliError("INVALID: the signature is good but the payload is not a valid v1 bundle");
    console.log(`Valid: signed by device ${verdict.deviceId} (public key ${envelope.publicKey})`);
    if (detail) console.log(`  run ${detail.run.id} matches its content hash`);
  },
});
