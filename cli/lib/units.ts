// Parsing the durations and sizes people type: "60m", "2s", "1h30m", "500ms"; "10GB", "512MiB".
import { CliError, EXIT_USAGE } from "../errors.ts";

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string, what: string): number {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const consumed = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || consumed !== text.trim()) {
    throw new CliError(`${what} must be a duration like 90s, 60m or 1h30m, got ${JSON.stringify(text)}`, EXIT_USAGE);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (DURATION_UNITS[p[2] as string] as number), 0);
}

/** Byte multipliers by unit, lower case: SI for kB…TB, binary for KiB…TiB; no unit is bytes. */
export const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Bytes from "10GB" (SI) or "512MiB" (binary); a bare number is bytes. */
export function parseBytes(text: string): number | undefined {
  const match = text.trim().match(/^(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([a-zA-Z]*)$/);
  const factor = match ? SIZE_UNITS[(match[2] ?? "").toLowerCase()] : undefined;
  return match && factor !== undefined ? Number(match[1]) * factor : undefined;
}
