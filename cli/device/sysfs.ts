// Reads under a root directory, so tests can point every /proc, /sys, /dev and /etc path at a fake tree.
// Every reader answers `undefined` (or an empty list) instead of throwing: a file that is missing or
// unreadable (no permission, a sysfs attribute the driver refuses) means "not known", never an error.
import { readdirSync, readFileSync } from "node:fs";
import { access, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export function at(root: string, path: string): string {
  return join(root, path);
}

/** The file's bytes as text, untouched (device-tree strings keep their NUL separators). */
export async function readRaw(root: string, path: string): Promise<string | undefined> {
  try {
    return await readFile(at(root, path), "utf8");
  } catch {
    return undefined;
  }
}

function trimmed(raw: string | undefined): string | undefined {
  const text = raw?.replace(/^[\s\0]+|[\s\0]+$/g, "");
  return text ? text : undefined;
}

/** The file as one trimmed string; device-tree strings are NUL-terminated, so NULs are trimmed too. */
export async function readText(root: string, path: string): Promise<string | undefined> {
  return trimmed(await readRaw(root, path));
}

/** readText for the few callers that must answer synchronously (a default thread count). */
export function readTextSync(root: string, path: string): string | undefined {
  try {
    return trimmed(readFileSync(at(root, path), "utf8"));
  } catch {
    return undefined;
  }
}

export function listSync(root: string, dir: string): string[] {
  try {
    return readdirSync(at(root, dir)).sort(naturalCompare);
  } catch {
    return [];
  }
}

/** A device-tree string list (`compatible`): NUL-separated entries. */
export async function readStringList(root: string, path: string): Promise<string[]> {
  const raw = await readRaw(root, path);
  if (raw === undefined) return [];
  return raw
    .split("\0")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** A decimal integer file (sysfs counters, frequencies, millidegrees). */
export async function readInt(root: string, path: string): Promise<number | undefined> {
  const text = await readText(root, path);
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

export async function list(root: string, dir: string): Promise<string[]> {
  try {
    return (await readdir(at(root, dir))).sort(naturalCompare);
  } catch {
    return [];
  }
}

export async function exists(root: string, path: string): Promise<boolean> {
  try {
    await access(at(root, path));
    return true;
  } catch {
    return false;
  }
}

/** Orders thermal_zone2 before thermal_zone10, as a person reads them. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/** A kernel CPU list such as "0-3,6" (sysfs `online`, `core_cpus_list`) as numbers. */
export function parseCpuList(text: string | undefined): number[] {
  if (!text) return [];
  const cpus: number[] = [];
  for (const part of text.split(",")) {
    const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!match) continue;
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    for (let cpu = from; cpu <= to && cpu - from < 4096; cpu++) cpus.push(cpu);
  }
  return cpus;
}
