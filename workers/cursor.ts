// Opaque page cursors: base64url JSON of the last row's sort key, validated on the way back in.
import * as z from "zod";
import { fromBase64Url, toBase64Url } from "../schema/signing.ts";
import { apiError } from "./errors.ts";

export function encodeCursor(value: unknown): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify(value)));
}

export function decodeCursor<T extends z.ZodType>(text: string | undefined, schema: T): z.infer<T> | undefined {
  if (text === undefined) return undefined;
  try {
    return schema.parse(JSON.parse(new TextDecoder().decode(fromBase64Url(text))));
  } catch {
    throw apiError("invalid_query", "the cursor is not one this API handed out", [
      { path: "cursor", message: "invalid cursor" },
    ]);
  }
}

export const RankCursorSchema = z.strictObject({
  rankGroup: z.int().min(0).max(1),
  sortKey: z.number(),
  id: z.string().max(64),
});

export const ReceivedCursorSchema = z.strictObject({
  receivedAt: z.string().max(40),
  id: z.string().max(64),
});
