// Benchmark scripts write Markdown tables with figures of any width; Biome (the repo's formatter,
// which `npm run check` enforces) aligns them so the file stays as the formatter wants it.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./local-registry.ts";

const BIOME = join(ROOT, "node_modules", "@biomejs", "biome", "bin", "biome");

export async function formatMarkdown(file: string): Promise<void> {
  await promisify(execFile)(process.execPath, [BIOME, "format", "--write", file], { cwd: ROOT });
}
