// `edgebench key rotate` and `edgebench key revoke`: signed key records sent to the registry. The
// local key file changes only after the registry has accepted a rotation.
import { defineCommand } from "citty";
import {
  KeyRevocationResponse,
  KeyRotationResponse,
  keyRevocationRecord,
  keyRotationRecord,
} from "../../schema/key-records.ts";
import { generateKeyPair, signPayload } from "../../schema/signing.ts";
import { defaultRegistry } from "../env.ts";
import { CliError, EXIT_USAGE } from "../errors.ts";
import { defineStrictCommand } from "../lib/command.ts";
import {
  clearPendingRotation,
  loadKey,
  readPendingRotation,
  replaceKey,
  rotatedKeyPath,
  writePendingRotation,
} from "../lib/keys.ts";
import { finalRefusal, normalizeRegistry, postSigned } from "../lib/registry.ts";

const registryArg = {
  type: "string",
  description: "Registry URL (default http://127.0.0.1:8787, or EDGEBENCH_REGISTRY)",
} as const;
const jsonArg = { type: "boolean", description: "Print the registry's answer as JSON", default: false } as const;

const rotate = defineStrictCommand({
  meta: {
    name: "rotate",
    description: "Replace this device's key with a new one; the registry keeps both as one submitter",
  },
  args: { registry: registryArg, json: jsonArg },
  async run({ args }) {
    const registry = normalizeRegistry(args.registry ?? defaultRegistry());
    const current = await loadKey();
    // A rotation sent before whose answer never came is sent again, byte for byte: the registry
    // answers "already applied" if it got it, and the device then switches to the key it named.
    let pending = await readPendingRotation(current);
    if (!pending) {
      const fresh = await generateKeyPair();
      const record = await keyRotationRecord(current.publicKey, fresh.privateKey);
      pending = await writePendingRotation({ next: fresh, envelope: await signPayload(record, current.privateKey) });
    }
    const next = pending.next;
    let answer: KeyRotationResponse;
    try {
      answer = await postSigned(registry, "/v1/keys/rotate", pending.envelope, KeyRotationResponse);
    } catch (error) {
      // Only a final refusal means the registry never applied it. Anything else (unreachable, a 5xx,
      // a rate limit, an unreadable answer) may have been applied: keep the record to send again.
      if (finalRefusal(error)) {
        await clearPendingRotation();
        throw error;
      }
      if (error instanceof CliError) {
        throw new CliError(`${error.message}; the device keeps its key: run edgebench key rotate again to finish`);
      }
      throw error;
    }
    const saved = await replaceKey(current, next);
    await clearPendingRotation();
    if (args.json) {
      console.log(JSON.stringify(answer));
      return;
    }
    console.log(`Rotated device key ${current.deviceId} -> ${saved.deviceId} (lineage ${answer.newKey.lineage})`);
    console.log(`  new key in:  ${saved.path}`);
    console.log(`  old key in:  ${rotatedKeyPath(current.deviceId)} (runs it signed stay valid; it signs no new ones)`);
  },
});

const revoke = defineStrictCommand({
  meta: {
    name: "revoke",
    description: "Revoke this device's key (or, with --device, an older key of its lineage)",
  },
  args: {
    reason: { type: "string", description: "Why; published with the key and its runs", required: true },
    device: { type: "string", description: "Device id of an older key of this device's lineage to revoke" },
    registry: registryArg,
    json: jsonArg,
  },
  async run({ args }) {
    const registry = normalizeRegistry(args.registry ?? defaultRegistry());
    if (!args.reason.trim()) throw new CliError("--reason must say why the key is revoked", EXIT_USAGE);
    if (args.device !== undefined && !/^[0-9a-f]{24}$/.test(args.device)) {
      throw new CliError(
        `--device must be a device id (24 hex digits), got ${JSON.stringify(args.device)}`,
        EXIT_USAGE,
      );
    }
    const key = await loadKey();
    const record = keyRevocationRecord(args.reason.trim(), args.device);
    const envelope = await signPayload(record, key.privateKey);
    const answer = await postSigned(registry, "/v1/keys/revoke", envelope, KeyRevocationResponse);
    if (args.json) {
      console.log(JSON.stringify(answer));
      return;
    }
    const what = answer.applied ? "Revoked" : "Already revoked";
    console.log(`${what} key ${answer.key.deviceId}; ${answer.flaggedRuns} earlier run(s) flagged key_revoked`);
    if (answer.key.deviceId === key.deviceId) {
      console.log("  runs signed with this key are now refused; create a new key with: edgebench keygen --force");
    }
  },
});

export default defineCommand({
  meta: { name: "key", description: "Rotate or revoke this device's signing key on the registry" },
  subCommands: { rotate, revoke },
});
