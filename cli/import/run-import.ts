// Reading, recognising and converting one file. The command (cli/commands/import.ts) only parses
// flags and decides where the bundles go.
import type { Bundle, Device, ImportFormat } from "../../schema/bundle.ts";
import { Bundle as BundleSchema } from "../../schema/bundle.ts";
import { issueDetails } from "../../schema/issues.ts";
import { readUserFile } from "../lib/files.ts";
import { IMPORTERS } from "./formats.ts";
import { cleanText } from "./text.ts";
import { type ImportContext, ImportError, type Importer } from "./types.ts";

/** Larger files are not benchmark outputs; reading them whole would only cost memory. */
const MAX_IMPORT_BYTES = 16 * 1024 * 1024;
/** Below this, no importer is sure enough for --format auto. */
const DETECTION_THRESHOLD = 0.5;

function decodeText(file: string, buffer: Buffer): string {
  const text = new TextDecoder("utf-8").decode(buffer);
  const sample = text.slice(0, 64 * 1024);
  const replaced = (sample.match(/\uFFFD/g) ?? []).length;
  if (sample.includes("\u0000") || replaced > sample.length * 0.05) {
    throw new ImportError(file, undefined, "this is a binary file, not a text output of a benchmark tool");
  }
  return text;
}

export function chooseImporter(file: string, text: string, format: ImportFormat | "auto"): Importer {
  if (format !== "auto") {
    const forced = IMPORTERS.find((i) => i.format === format);
    if (!forced) throw new ImportError(file, undefined, `there is no importer for ${format}`);
    return forced;
  }
  const ranked = IMPORTERS.map((importer) => ({ importer, score: importer.detect(text) })).sort(
    (a, b) => b.score - a.score,
  );
  const best = ranked[0];
  if (!best || best.score < DETECTION_THRESHOLD) {
    const known = IMPORTERS.map((i) => i.format).join(", ");
    throw new ImportError(file, undefined, `not a format edgebench recognises (${known}); force one with --format`);
  }
  return best.importer;
}

export interface ImportedFile {
  importer: Importer;
  bundles: Bundle[];
  /**
   * Why the file's bundles got this machine's device (--this-device), when they did, and each
   * distinct device they got (one, unless the file's runs name different GPUs).
   */
  thisDevice?: { why: string; devices: Device[] };
}

export async function importFile(
  file: string,
  format: ImportFormat | "auto",
  context: Omit<ImportContext, "file" | "onThisDevice">,
): Promise<ImportedFile> {
  const text = cleanText(decodeText(file, await readUserFile(file, "file", MAX_IMPORT_BYTES)));
  if (text.trim() === "") throw new ImportError(file, undefined, "the file is empty");
  const importer = chooseImporter(file, text, format);
  let thisDevice: { why: string; devices: Device[] } | undefined;
  const bundles = importer.parse(text, {
    ...context,
    file,
    onThisDevice: (why, device) => {
      thisDevice ??= { why, devices: [] };
      if (!thisDevice.devices.some((d) => JSON.stringify(d) === JSON.stringify(device))) {
        thisDevice.devices.push(device);
      }
    },
  });
  if (bundles.length === 0) throw new ImportError(file, undefined, `no ${importer.format} results found in it`);
  for (const bundle of bundles) {
    const checked = BundleSchema.safeParse(bundle);
    if (!checked.success) {
      const paths = issueDetails(checked.error).map((d) => `${d.path}: ${d.message}`);
      throw new ImportError(
        file,
        undefined,
        `the ${importer.format} importer built an invalid bundle (${paths.join("; ")})`,
      );
    }
  }
  return { importer, bundles, ...(thisDevice ? { thisDevice } : {}) };
}
