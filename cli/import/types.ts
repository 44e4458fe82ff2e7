// What every importer provides. An importer turns the text of a file another tool wrote into
// result bundles; it never invents a value: what the file does not say stays absent, and is named
// in provenance.notMeasured.
import type { Bundle, Device, ImportFormat } from "../../schema/bundle.ts";
import { CliError } from "../errors.ts";

export interface ImportContext {
  /** The file as the user named it, for messages and provenance. */
  file: string;
  /** --hardware: the board or machine, when the file does not say. */
  hardware?: string | undefined;
  /**
   * --this-device: this machine's fingerprint, the device of a file that names no hardware;
   * `onThisDevice` hears why each time it is used, and the device the bundle gets (the fingerprint,
   * with the GPUs the file names in place of this machine's).
   */
  thisDevice?: Device | undefined;
  onThisDevice?: ((why: string, device: Device) => void) | undefined;
  /** --model: the model name, when the file does not say. */
  model?: string | undefined;
  /** When the import happens (provenance.createdAt). */
  now: string;
  /** edgebench's version (provenance.tool). */
  toolVersion: string;
}

export interface Importer {
  format: ImportFormat;
  /** How sure (0 to 1) the cleaned text is in this format; used by --format auto. */
  detect(text: string): number;
  /** Bundles from the cleaned text, one per distinct model × configuration. Throws ImportError. */
  parse(text: string, context: ImportContext): Bundle[];
}

/** A file that cannot be imported: one line naming the file, the line and what was expected. */
export class ImportError extends CliError {
  constructor(file: string, line: number | undefined, message: string) {
    super(`${file}${line === undefined ? "" : `:${line}`}: ${message}`);
    this.name = "ImportError";
  }
}
