// Reading bundle and envelope files with errors that name the file and what is wrong with it, and
// writing files whole.
import { chmod, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { issueDetails } from "../../schema/issues.ts";
import { ENVELOPE_SCHEMA_V1, Envelope } from "../../schema/signing.ts";
import { CliError, EXIT_USAGE } from "../errors.ts";

const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** Reads a file the user named, with a one-line error that says which file and why not. */
export async function readUserFile(path: string, what: string, maxBytes: number): Promise<Buffer> {
  try {
    // Size first: a file far too big is refused without reading it into memory.
    const size = (await stat(path)).size;
    if (size > maxBytes) {
      throw new CliError(`${path} is ${size} bytes; a ${what} may be at most ${maxBytes / 2 ** 20} MiB`);
    }
    return await readFile(path);
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (error as Error).message;
    throw new CliError(`cannot read ${what} ${path}: ${why}`, EXIT_USAGE);
  }
}

export async function readJsonFile(path: string): Promise<unknown> {
  const buffer = await readUserFile(path, "bundle", MAX_FILE_BYTES);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(buffer));
  } catch (error) {
    const why = error instanceof SyntaxError ? error.message : "it is not UTF-8 text";
    throw new CliError(`${path} is not valid JSON: ${why}`);
  }
}

export function isEnvelopeLike(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as { schema?: unknown }).schema === ENVELOPE_SCHEMA_V1;
}

export function parseEnvelope(value: unknown, source: string): Envelope {
  const parsed = Envelope.safeParse(value);
  if (!parsed.success) {
    const lines = issueDetails(parsed.error).map((d) => `  ${d.path}: ${d.message}`);
    throw new CliError(`${source} is not a signed edgebench envelope:\n${lines.join("\n")}`);
  }
  return value as Envelope;
}

/**
 * Writes `text` beside `path` and renames it over `path`, so an interruption leaves either the old
 * file or the new one whole, never a truncated one. `mode` (e.g. 0o600) applies from the first byte.
 */
export async function writeFileWhole(path: string, text: string, mode?: number): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text, mode === undefined ? {} : { mode });
    // writeFile's mode applies only to a file it creates, not to a temporary an earlier crash left.
    if (mode !== undefined) await chmod(temporary, mode);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
