// Statements whose SQL depends only on their shape (which tables, how many rows, which columns): drizzle
// builds each shape's SQL once per isolate, with named placeholders where the values go, and every
// later use binds its own values. Building a submission's dozen statements again each time cost about
// half a millisecond of CPU, as much as a binding call.
import type { D1Database, D1PreparedStatement } from "@cloudflare/workers-types";
import { fillPlaceholders, sql } from "drizzle-orm";

interface Buildable {
  toSQL(): { sql: string; params: unknown[] };
}

/**
 * Placeholders for one statement set, named in the order they are taken (so the same shape names
 * them alike every time), and the values they stand for. A placeholder is typed as its value: drizzle
 * binds it as it would bind the value.
 */
export class Slots {
  readonly values: Record<string, unknown> = {};
  #taken = 0;

  take<T = string>(value: unknown): T {
    const name = `v${this.#taken++}`;
    this.values[name] = value;
    return sql.placeholder(name) as unknown as T;
  }

  list<T = string>(values: readonly T[]): T[] {
    return values.map((v) => this.take<T>(v));
  }
}

/** At most this many shapes are kept: batches of every size and mix stay bounded. */
const MAX_SHAPES = 512;
const built = new Map<string, Array<{ sql: string; params: unknown[] }>>();

/**
 * The statements `build` makes for the shape named `shape`, bound to the values of `slots`. `build`
 * must spell every value as a placeholder from `slots`, taken before it is called, and make the same
 * SQL whenever it is called for the same shape.
 */
export function shapedStatements(
  d1: D1Database,
  shape: string,
  build: () => Buildable[],
  slots: Slots,
): D1PreparedStatement[] {
  let templates = built.get(shape);
  if (!templates) {
    templates = build().map((q) => q.toSQL());
    if (built.size >= MAX_SHAPES) built.clear();
    built.set(shape, templates);
  }
  return templates.map((t) => d1.prepare(t.sql).bind(...fillPlaceholders(t.params, slots.values)));
}

/**
 * Rows for a multi-row insert as placeholders taken from `slots`, and their shape (the columns each
 * row sets: a column left out takes its default, so it changes the SQL).
 */
export function slottedRows<Row extends Record<string, unknown>>(
  rows: readonly Row[],
  slots: Slots,
): { rows: Row[]; shape: string } {
  const shapes: string[] = [];
  const slotted = rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [column, value] of Object.entries(row)) if (value !== undefined) out[column] = slots.take(value);
    shapes.push(Object.keys(out).join(","));
    return out as Row;
  });
  return { rows: slotted, shape: shapes.join(";") };
}

/** A select that drizzle can prepare: its SQL with placeholders, and the mapping of its rows. */
interface PreparableRead {
  prepare(): {
    getQuery(): { sql: string; params: unknown[] };
    mapAllResult(rows: unknown, isFromBatch?: boolean): unknown;
    all(): Promise<unknown>;
  };
}

type Prepared = ReturnType<PreparableRead["prepare"]>;
const builtReads = new Map<string, Prepared[]>();

/**
 * The selects `build` makes for the shape named `shape`, run in one D1 batch with the values of
 * `slots` and mapped as drizzle maps its own batches' rows (by the prepared query of each shape,
 * built once).
 */
export async function shapedReads<const Reads extends readonly PreparableRead[]>(
  d1: D1Database,
  shape: string,
  build: () => Reads,
  slots: Slots,
): Promise<{ -readonly [K in keyof Reads]: Awaited<ReturnType<ReturnType<Reads[K]["prepare"]>["all"]>> }> {
  let prepared = builtReads.get(shape);
  if (!prepared) {
    prepared = build().map((q) => q.prepare());
    if (builtReads.size >= MAX_SHAPES) builtReads.clear();
    builtReads.set(shape, prepared);
  }
  const results = await d1.batch(
    prepared.map((p) => {
      const query = p.getQuery();
      return d1.prepare(query.sql).bind(...fillPlaceholders(query.params, slots.values));
    }),
  );
  return results.map((result, i) => prepared[i]?.mapAllResult(result, true)) as never;
}
