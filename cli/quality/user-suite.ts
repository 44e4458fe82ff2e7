// A user's own task suite: a JSONL file, one item per line, so it can be written by hand, generated
// by a script and diffed. Every line is validated before anything runs, and a mistake is reported as
// one line naming the file, the line number and what is wrong, like a compiler would.
import { createHash } from "node:crypto";
import { basename, extname } from "node:path";
import * as z from "zod";
import { issueDetails } from "../../schema/issues.ts";
import { CliError } from "../errors.ts";
import { readUserFile } from "../lib/files.ts";
import { MAX_SUITE_ITEMS, Suite, SuiteItem } from "./suite.ts";

/** Longest line: room for a long prompt or a large JSON Schema, not for a pasted document. */
export const MAX_LINE_BYTES = 64 * 1024;
/** Largest file read at all, checked before parsing so a wrong path to a model file fails at once. */
export const MAX_SUITE_FILE_BYTES = 16 * 1024 * 1024;

/** The optional first line naming the suite: {"suite": "my-tasks", "version": "3"}. */
const Header = z.strictObject({
  suite: z.string().trim().min(1).max(100),
  version: z.string().trim().min(1).max(40).optional(),
  description: z.string().trim().min(1).max(2000).optional(),
});

/** Reads and validates a suite file; throws a CliError whose message is one line. */
export async function loadUserSuite(path: string): Promise<Suite> {
  const buffer = await readUserFile(path, "suite", MAX_SUITE_FILE_BYTES);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(buffer);
  } catch {
    throw new CliError(`${path}: not UTF-8 text`);
  }
  return parseUserSuite(text, path);
}

const describeIssues = (error: z.ZodError) =>
  issueDetails(error)
    .map((d) => (d.path === "(root)" ? d.message : `${d.path}: ${d.message}`))
    .join("; ");

const cut = (message: string) => {
  const line = message.replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
};

/** Parses the text of a suite file; `path` names it in errors. */
export function parseUserSuite(text: string, path: string): Suite {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const error = (line: number, message: string) => new CliError(`${path}:${line}: ${cut(message)}`);
  let header: z.infer<typeof Header> | undefined;
  const items: SuiteItem[] = [];
  const firstLine = new Map<string, number>();
  let sawContent = false;

  lines.forEach((raw, index) => {
    const line = index + 1;
    const bytes = Buffer.byteLength(raw, "utf8");
    if (bytes > MAX_LINE_BYTES)
      throw error(line, `the line is ${bytes} bytes; the limit is ${MAX_LINE_BYTES} (64 KiB)`);
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (e) {
      throw error(line, `invalid JSON: ${(e as Error).message}`);
    }
    const first = !sawContent;
    sawContent = true;
    if (typeof value === "object" && value !== null && !Array.isArray(value) && "suite" in value) {
      if (!first) throw error(line, 'the {"suite": …} header must be the first line that is not blank or a comment');
      const parsed = Header.safeParse(value);
      if (!parsed.success) throw error(line, `invalid suite header: ${describeIssues(parsed.error)}`);
      header = parsed.data;
      return;
    }
    if (items.length >= MAX_SUITE_ITEMS) throw error(line, `more than ${MAX_SUITE_ITEMS} items; split the suite`);
    const parsed = SuiteItem.safeParse(value);
    if (!parsed.success) throw error(line, describeIssues(parsed.error));
    const seen = firstLine.get(parsed.data.id);
    if (seen !== undefined) throw error(line, `duplicate id ${JSON.stringify(parsed.data.id)} (first on line ${seen})`);
    firstLine.set(parsed.data.id, line);
    items.push(parsed.data);
  });

  if (!items.length) throw new CliError(`${path}: no items (every line is blank, a comment or the header)`);
  const suite = Suite.safeParse({
    name: header?.suite ?? (basename(path, extname(path)).trim().slice(0, 100) || "user-suite"),
    // Without a declared version the content names it: the same file always gets the same version,
    // and any edit gets a new one, so scores are never compared across different items.
    version: header?.version ?? `sha256:${createHash("sha256").update(text).digest("hex").slice(0, 12)}`,
    ...(header?.description ? { description: header.description } : {}),
    items,
  });
  if (!suite.success) throw new CliError(`${path}: ${cut(describeIssues(suite.error))}`);
  return suite.data;
}
