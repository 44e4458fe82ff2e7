// The device key: created once, kept in the user's config directory with mode 0600, never printed.
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod";
import { deviceIdOf, Envelope, generateKeyPair, type KeyPair, PrivateKeyJwk } from "../../schema/signing.ts";
import { configDir } from "../env.ts";
import { CliError } from "../errors.ts";
import { writeFileWhole } from "./files.ts";

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

/** Where a key replaced by `edgebench key rotate` is kept: its runs stay signed by it, and it may still revoke itself. */
export function rotatedKeyPath(deviceId: string, dir = configDir()): string {
  return join(dir, `device-key.rotated-${deviceId}.json`);
}

/**
 * Makes `next` this device's key, keeping the current key file as a backup first. The new file is
 * written beside the old one and renamed over it, so an interruption leaves one whole key file,
 * never a half-written one.
 */
export async function replaceKey(current: DeviceKey, next: KeyPair, dir = configDir()): Promise<DeviceKey> {
  const path = keyPath(dir);
  const backup = rotatedKeyPath(current.deviceId, dir);
  await copyFile(current.path, backup);
  await chmod(backup, 0o600);
  const file: z.infer<typeof KeyFile> = {
    kind: "edgebench.device-key/v1",
    createdAt: new Date().toISOString(),
    ...next,
  };
  await writeFileWhole(path, `${JSON.stringify(file, null, 2)}\n`, 0o600);
  return { ...next, deviceId: await deviceIdOf(next.publicKey), path };
}

// ---------------------------------------------------------------------------------------------
// a rotation in flight

const PendingRotationFile = z.strictObject({
  kind: z.literal("edgebench.pending-rotation/v1"),
  next: z.strictObject({ publicKey: z.string(), privateKey: PrivateKeyJwk }),
  envelope: Envelope,
});
export type PendingRotation = z.infer<typeof PendingRotationFile>;

function pendingRotationPath(dir = configDir()): string {
  return join(dir, "device-key.pending-rotation.json");
}

/**
 * The rotation record sent but not yet confirmed, with the new key it names. Kept so that a lost
 * answer (the registry applied the rotation, the device never heard) is recovered by sending the same
 * bytes again, instead of leaving the device with a key the registry no longer accepts.
 */
export async function readPendingRotation(current: DeviceKey, dir = configDir()): Promise<PendingRotation | undefined> {
  const path = pendingRotationPath(dir);
  if (!(await exists(path))) return undefined;
  const text = await readFile(path, "utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`the pending key rotation file ${path} is damaged; move it away and rotate again`);
  }
  const parsed = PendingRotationFile.safeParse(json);
  if (!parsed.success) throw new CliError(`${path} is not a pending key rotation; move it away and rotate again`);
  // A record signed by another key (e.g. the device key was replaced by hand) is of no use any more.
  return parsed.data.envelope.publicKey === current.publicKey ? parsed.data : undefined;
}

export async function writePendingRotation(
  pending: Omit<PendingRotation, "kind">,
  dir = configDir(),
): Promise<PendingRotation> {
  const file: PendingRotation = { kind: "edgebench.pending-rotation/v1", ...pending };
  await writeFileWhole(pendingRotationPath(dir), `${JSON.stringify(file, null, 2)}\n`, 0o600);
  return file;
}

export async function clearPendingRotation(dir = configDir()): Promise<void> {
  await rm(pendingRotationPath(dir), { force: true });
}
