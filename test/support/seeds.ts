// The hand-written seed bundles in demo/seeds/, read from disk (Node only).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const SEEDS_DIR = join(import.meta.dirname, "..", "..", "demo", "seeds");

export function readSeedBundles(): Array<{ file: string; bundle: Record<string, unknown> }> {
  return readdirSync(SEEDS_DIR)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => ({ file, bundle: JSON.parse(readFileSync(join(SEEDS_DIR, file), "utf8")) }));
}
