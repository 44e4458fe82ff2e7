import { Bundle } from "../../schema/bundle.ts";
import { issueDetails } from "../../schema/issues.ts";
import { CliError } from "../errors.ts";

/** Validates a bundle before it is signed or sent, listing every failing path. */
export function checkBundle(value: unknown, source: string): Bundle {
  const parsed = Bundle.safeParse(value);
  if (!parsed.success) {
    const lines = issueDetails(parsed.error).map((d) => `  ${d.path}: ${d.message}`);
    throw new CliError(`${source} is not a valid result bundle:\n${lines.join("\n")}`);
  }
  return parsed.data;
}
