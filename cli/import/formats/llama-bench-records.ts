// Reading llama-bench's machine-readable outputs (-o json, jsonl, csv, sql) into one shape: a record of
// field name → value per test, with the line it came from. All four print the same fields (the
// llama-bench `test` struct); CSV and SQL print every value as a string, JSON as typed values.
import { parse as parseCsv } from "csv-parse/sync";
import { ImportError } from "../types.ts";

export interface RawRecord {
  /** 1-based line of the file where this test's result starts. */
  line: number;
  fields: Record<string, unknown>;
}

type RecordMode = "json" | "jsonl" | "csv" | "sql";

/** A field every llama-bench result has, in every version since the first (August 2023). */
const MARKER_FIELDS = ["n_prompt", "n_gen"] as const;

/** Which machine-readable mode the text is in, if any. */
export function recordModeOf(text: string): RecordMode | undefined {
  if (/^INSERT INTO \w+ \(.*\bn_prompt\b.*\) VALUES \(/m.test(text)) return "sql";
  if (/^"?build_commit"?,.*"?n_prompt"?,/m.test(text) || /^"?model_filename"?,.*"?n_prompt"?,/m.test(text))
    return "csv";
  if (/^\s*\{\s*"[a-z_]+"\s*:.*"n_prompt"\s*:.*\}\s*$/m.test(text)) return "jsonl";
  if (/^\s*"n_prompt"\s*:/m.test(text) && /^\s*\[/m.test(text)) return "json";
  return undefined;
}

export function readRecords(file: string, text: string, mode: RecordMode): RawRecord[] {
  const lines = text.split("\n");
  switch (mode) {
    case "json":
      return readJsonArray(file, lines);
    case "jsonl":
      return readJsonLines(file, lines);
    case "csv":
      return readCsv(file, lines);
    case "sql":
      return readSql(file, lines);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// -o json: one array, pretty-printed; a console capture may have log lines before and after it.

function readJsonArray(file: string, lines: string[]): RawRecord[] {
  const start = lines.findIndex((l) => l.trim().startsWith("["));
  if (start < 0) throw new ImportError(file, 1, "expected a JSON array of llama-bench results ([ … ])");
  let end = lines.length - 1;
  while (end > start && !lines[end]?.trim().endsWith("]")) end--;
  // No closing bracket: parse to the end, so that JSON.parse names where the text stops (a truncated file).
  if (end === start) end = lines.length - 1;
  const slice = lines.slice(start, end + 1).join("\n");
  let parsed: unknown;
  try {
    parsed = JSON.parse(slice);
  } catch (error) {
    throw new ImportError(file, start + jsonErrorLine(slice, error), `not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new ImportError(file, start + 1, "expected a JSON array of llama-bench results");
  const objectLines = topLevelObjectLines(slice);
  return parsed.map((item, index) => {
    const line = start + (objectLines[index] ?? 1);
    if (!isObject(item)) throw new ImportError(file, line, "expected an object for each llama-bench result");
    return { line, fields: item };
  });
}

/** The 1-based line (within `json`) where each element of the top-level array opens. */
function topLevelObjectLines(json: string): number[] {
  const result: number[] = [];
  let depth = 0;
  let line = 1;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const char = json[i];
    if (char === "\n") line++;
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === "[" || char === "{") {
      if (depth === 1 && char === "{") result.push(line);
      depth++;
    } else if (char === "]" || char === "}") depth--;
  }
  return result;
}

/** The 1-based line a JSON.parse error points at: V8 names a position, or the end for truncated input. */
export function jsonErrorLine(json: string, error: unknown): number {
  const message = (error as Error).message;
  const lineMatch = /line (\d+) column/.exec(message);
  if (lineMatch) return Number(lineMatch[1]);
  const position = /position (\d+)/.exec(message);
  const offset = position ? Number(position[1]) : json.length;
  return json.slice(0, offset).split("\n").length;
}

// ---------------------------------------------------------------------------------------------
// -o jsonl: one object per line; other lines (stderr logs) are skipped.

function readJsonLines(file: string, lines: string[]): RawRecord[] {
  const records: RawRecord[] = [];
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line.startsWith("{")) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new ImportError(
        file,
        index + 1,
        `expected one complete JSON object per line (${(error as Error).message})`,
      );
    }
    if (!isObject(parsed)) throw new ImportError(file, index + 1, "expected a JSON object");
    records.push({ line: index + 1, fields: parsed });
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// -o csv: a header row, then one row per test, every value quoted. Values never span lines.

function parseCsvLine(file: string, line: number, text: string): string[] {
  try {
    const rows = parseCsv(text, { relax_quotes: false }) as string[][];
    return rows[0] ?? [];
  } catch (error) {
    throw new ImportError(file, line, `not a valid CSV row (${(error as Error).message})`);
  }
}

function readCsv(file: string, lines: string[]): RawRecord[] {
  const headerIndex = lines.findIndex((l) => /^"?(build_commit|model_filename)"?,/.test(l.trim()));
  if (headerIndex < 0) throw new ImportError(file, 1, "expected a llama-bench CSV header (build_commit,…)");
  const header = parseCsvLine(file, headerIndex + 1, (lines[headerIndex] as string).trim());
  for (const field of MARKER_FIELDS) {
    if (!header.includes(field))
      throw new ImportError(file, headerIndex + 1, `expected a ${field} column in the header`);
  }
  const records: RawRecord[] = [];
  for (let index = headerIndex + 1; index < lines.length; index++) {
    const text = (lines[index] as string).trim();
    // Rows start with a quote (llama-bench quotes every value); anything else is a log line after the table.
    if (!text.startsWith('"')) {
      if (text === "" || records.length > 0) continue;
      throw new ImportError(file, index + 1, "expected a CSV row of quoted values after the header");
    }
    const cells = parseCsvLine(file, index + 1, text);
    if (cells.length !== header.length) {
      throw new ImportError(
        file,
        index + 1,
        `expected ${header.length} values as in the header (line ${headerIndex + 1}), found ${cells.length}`,
      );
    }
    records.push({ line: index + 1, fields: Object.fromEntries(header.map((name, i) => [name, cells[i]])) });
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// -o sql: CREATE TABLE, then one INSERT per test with every value as a single-quoted string.

const INSERT = /^INSERT INTO (\w+) \(([^)]*)\) VALUES \((.*)\);\s*$/;

/** SQL literals: 'text' with '' for a quote, bare numbers, NULL. */
function sqlValues(file: string, line: number, text: string): unknown[] {
  const values: unknown[] = [];
  let i = 0;
  const fail = (): never => {
    throw new ImportError(file, line, `expected a list of SQL values ('text', numbers or NULL) at column ${i + 1}`);
  };
  while (i < text.length) {
    while (text[i] === " ") i++;
    if (text[i] === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) fail();
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      values.push(value);
    } else {
      const bare = /^(-?[\d.]+(?:e[+-]?\d+)?|NULL)/i.exec(text.slice(i));
      if (!bare) fail();
      const token = (bare as RegExpExecArray)[1] as string;
      values.push(token.toUpperCase() === "NULL" ? null : Number(token));
      i += token.length;
    }
    while (text[i] === " ") i++;
    if (i < text.length) {
      if (text[i] !== ",") fail();
      i++;
    }
  }
  return values;
}

function readSql(file: string, lines: string[]): RawRecord[] {
  const records: RawRecord[] = [];
  for (const [index, raw] of lines.entries()) {
    const text = raw.trim();
    if (!text.startsWith("INSERT INTO")) continue;
    const match = INSERT.exec(text);
    if (!match) throw new ImportError(file, index + 1, "expected INSERT INTO table (columns) VALUES (values);");
    const columns = (match[2] as string).split(",").map((c) => c.trim());
    const values = sqlValues(file, index + 1, match[3] as string);
    if (values.length !== columns.length) {
      throw new ImportError(
        file,
        index + 1,
        `expected ${columns.length} values for the columns, found ${values.length}`,
      );
    }
    records.push({ line: index + 1, fields: Object.fromEntries(columns.map((name, i) => [name, values[i]])) });
  }
  return records;
}
