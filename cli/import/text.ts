// Cleaning console captures before parsing: ANSI colour codes, carriage returns from progress bars
import { stripVTControlCharacters } from "node:util";
// and CRLF line ends, a byte-order mark, and UTF-8 that was decoded twice (mojibake).

// Colours, cursor moves, titles and hyperlinks: Node's own stripper knows every sequence.
export function stripAnsi(text: string): string {
  return stripVTControlCharacters(text);
}

/** Keeps what a terminal would finally show on a line rewritten with \r (progress bars). */
function lastCarriageSegment(line: string): string {
  const parts = line.split("\r");
  return parts.findLast((p) => p.length > 0) ?? "";
}

// UTF-8 bytes shown through a single-byte code page. Windows-1252 ("âœ…") and Mac Roman ("‚úÖ")
// are the two that reports actually contain (seed report 001 and 003 are Mac Roman).
const CODE_PAGES = ["windows-1252", "macintosh"] as const;
const reverseTables = new Map<string, Map<string, number>>();

function reverseTable(encoding: string): Map<string, number> {
  let table = reverseTables.get(encoding);
  if (!table) {
    table = new Map();
    const decoder = new TextDecoder(encoding);
    for (let byte = 0; byte < 256; byte++) {
      const char = decoder.decode(new Uint8Array([byte]));
      if (char !== "\uFFFD" && !table.has(char)) table.set(char, byte);
    }
    reverseTables.set(encoding, table);
  }
  return table;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Re-decodes one run of non-ASCII characters if it is UTF-8 seen through a code page. */
function repairRun(run: string): string {
  for (const encoding of CODE_PAGES) {
    const table = reverseTable(encoding);
    const bytes: number[] = [];
    let ok = true;
    for (const char of run) {
      const byte = table.get(char);
      if (byte === undefined) {
        ok = false;
        break;
      }
      bytes.push(byte);
    }
    if (!ok || bytes.every((b) => b < 0x80)) continue;
    try {
      const decoded = strictUtf8.decode(new Uint8Array(bytes));
      if (decoded.length < run.length) return decoded;
    } catch {
      // not UTF-8 in this code page: try the next, or leave the text as it is
    }
  }
  return run;
}

/** Fixes mojibake run by run, so correct text around it is left untouched. */
export function repairMojibake(text: string): string {
  return text.replace(/[\u{80}-\u{10FFFF}]+/gu, repairRun);
}

export function cleanText(text: string): string {
  const unified = stripAnsi(text.replace(/^\uFEFF/, "")).replace(/\r\n/g, "\n");
  return repairMojibake(unified.split("\n").map(lastCarriageSegment).join("\n"));
}
