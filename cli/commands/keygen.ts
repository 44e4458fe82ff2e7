import { defineStrictCommand } from "../lib/command.ts";
import { createKey } from "../lib/keys.ts";

export default defineStrictCommand({
  meta: { name: "keygen", description: "Create this device's signing key (kept private, mode 0600)" },
  args: {
    force: { type: "boolean", description: "Replace an existing key", default: false },
  },
  async run({ args }) {
    const key = await createKey({ force: args.force });
    console.log(`Created device key ${key.deviceId}`);
    console.log(`  public key: ${key.publicKey}`);
    console.log(`  stored in:  ${key.path} (private; never share this file)`);
  },
});
