// The device key: created once, kept in the user's config directory with mode 0600, never printed.
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod";
import { deviceIdOf, generateKeyPair, type KeyPair, PrivateKeyJwk } from "../../schema/signing.ts";
import { configDir } from "../env.ts";
import { CliError } from "../errors.ts";

const KeyFile = z.strictObject({
  kind: z.literal("edgebench.device-key/v1"),
  createdAt: z.string(),
  publicKey: z.string(),
  privateKey: PrivateKeyJwk,
});

export function keyPath(dir = configDir()): string {
  return join(dir, "device-key.json");
}

export interface DeviceKey extends KeyPair {
  deviceId: string;
  path: string;
}

export async function createKey(options: { force?: boolean; dir?: string } = {}): Promise<DeviceKey> {
  const dir = options.dir ?? configDir();
  const path = keyPath(dir);
  if (!options.force && (await exists(path))) {
    throw new CliError(
      `a device key already exists at ${path}; pass --force to replace it (its runs stay signed by it)`,
    );
  }
  const key = await generateKeyPair();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file: z.infer<typeof KeyFile> = {
    kind: "edgebench.device-key/v1",
    createdAt: new Date().toISOString(),
    ...key,
  };
  // Written with 0600 from the first byte; chmod covers a file that existed with wider mode.
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return { ...key, deviceId: await deviceIdOf(key.publicKey), path };
}

export async function loadKey(dir = configDir()): Promise<DeviceKey> {
  const path = keyPath(dir);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new CliError(`no device key at ${path}; create one with: edgebench keygen`);
  }
  let parsed: z.infer<typeof KeyFile>;
  try {
    parsed = KeyFile.parse(JSON.parse(text));
  } catch {
    throw new CliError(`the device key file ${path} is damaged; move it away and run: edgebench keygen`);
  }
  if (parsed.privateKey.x !== parsed.publicKey) {
    throw new CliError(`the device key file ${path} is inconsistent: its public key does not match its private key`);
  }
  return {
    publicKey: parsed.publicKey,
    privateKey: parsed.privateKey,
    deviceId: await deviceIdOf(parsed.publicKey),
    path,
  };
}

/** Loads the device key, creating it first if there is none (used by the local demo). */
export async function loadOrCreateKey(dir = configDir()): Promise<DeviceKey> {
  return (await exists(keyPath(dir))) ? loadKey(dir) : createKey({ dir });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
