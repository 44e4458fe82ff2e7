import * as z from "zod";
import { MAX_PAGE_SIZE } from "../../schema/api.ts";
import { SLUG_PATTERN } from "../../schema/slug.ts";

export const slugParam = z.string().regex(SLUG_PATTERN, "must be a slug, e.g. raspberry-pi-4");

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  cursor: z.string().max(500).optional(),
};
