// How validation failures are named, the same way in API answers and CLI messages.
import type * as z from "zod";
import type { IssueDetail } from "./api.ts";

/** "measurements[0].unit" from ["measurements", 0, "unit"], with an optional prefix such as "payload". */
export function formatPath(path: readonly PropertyKey[], prefix?: string): string {
  let out = prefix ?? "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(root)";
}

/** Each failing path, named; an unknown key is reported at its own path. */
export function issueDetails(error: z.ZodError, prefix?: string): IssueDetail[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: formatPath([...issue.path, key], prefix), message: "unknown field" }));
    }
    return [{ path: formatPath(issue.path, prefix), message: issue.message }];
  });
}
