// Other spellings of hardware and model slugs: the catalog's built-in aliases, the rules in
// schema/slug.ts, and aliases moderators add. Every read resolves to the canonical slug.
import { and, eq } from "drizzle-orm";
import { aliases } from "../../schema/db.ts";
import { BUILTIN_HARDWARE_ALIASES } from "../../schema/hardware-catalog.ts";
import type { Database } from "./database.ts";

export async function resolveSlug(db: Database, kind: "hardware" | "model", slug: string): Promise<string> {
  if (kind === "hardware") {
    const builtin = BUILTIN_HARDWARE_ALIASES.get(slug);
    if (builtin) return builtin;
  }
  const [row] = await db
    .select({ slug: aliases.slug })
    .from(aliases)
    .where(and(eq(aliases.kind, kind), eq(aliases.alias, slug)))
    .limit(1);
  return row?.slug ?? slug;
}
