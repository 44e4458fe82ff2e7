import { writeFile } from "node:fs/promises";
import { signPayload } from "../../schema/signing.ts";
import { CliError } from "../errors.ts";
import { checkBundle } from "../lib/bundle.ts";
import { defineStrictCommand } from "../lib/command.ts";
import { isEnvelopeLike, readJsonFile } from "../lib/files.ts";
import { loadKey } from "../lib/keys.ts";

export default defineStrictCommand({
  meta: { name: "sign", description: "Sign a result bundle with this device's key" },
  args: {
    bundle: { type: "positional", description: "Bundle JSON file", required: true },
    out: { type: "string", alias: "o", description: "Write the signed envelope here instead of stdout" },
  },
  async run({ args }) {
    const value = await readJsonFile(args.bundle);
    if (isEnvelopeLike(value)) throw new CliError(`${args.bundle} is already signed`);
    const bundle = checkBundle(value, args.bundle);
    const key = await loadKey();
    const envelope = await signPayload(value as typeof bundle, key.privateKey);
    const text = `${JSON.stringify(envelope, null, 2)}\n`;
    if (args.out) {
      await writeFile(args.out, text);
      console.error(`Signed by device ${key.deviceId}: ${args.out}`);
    } else {
      process.stdout.write(text);
    }
  },
});
