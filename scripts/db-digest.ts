// `node scripts/db-digest.ts [--persist-to DIR] [--json]`: per table of the local D1 database, the row
// count and a sha256 over every row in primary-key order, every column, with each value's SQLite type;
// plus one line for the schema (every table's and index's CREATE statement). Two databases with equal
// digests hold the same rows: the backup test restores a backup and compares the two.
//
// Values are hashed exactly: text, blobs and integers as the hex of their bytes (so NUL bytes and
// 64-bit integers survive), reals as JavaScript numbers (a double reads back exactly), NULL as NULL.
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { getPlatformProxy } from "wrangler";
import { DEFAULT_PERSIST_TO, localD1Config } from "./backup.ts";
import { localD1File } from "./local-registry.ts";

interface TableDigest {
  rows: number;
  sha256: string;
}

/** Table name → digest, sorted by name; "(schema)" is the digest of the CREATE statements. */
export type DatabaseDigest = Record<string, TableDigest>;

export const SCHEMA_ENTRY = "(schema)";

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

interface D1Like {
  prepare(sql: string): { all<T>(): Promise<{ results: T[] }> };
}

async function tableDigest(db: D1Like, table: string): Promise<TableDigest> {
  const columns = (
    await db.prepare(`select name, pk from pragma_table_info('${table.replaceAll("'", "''")}')`).all<{
      name: string;
      pk: number;
    }>()
  ).results;
  const keys = columns
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => ident(c.name));
  // A table without a declared primary key (sqlite_sequence) is ordered by every column.
  const order = keys.length > 0 ? keys : columns.map((c) => ident(c.name));
  const select = columns
    .map((c, i) => {
      const col = ident(c.name);
      return `typeof(${col}) as t${i}, case typeof(${col}) when 'real' then ${col} else hex(${col}) end as v${i}`;
    })
    .join(", ");
  const rows = (
    await db
      .prepare(`select ${select} from ${ident(table)} order by ${order.join(", ")}`)
      .all<Record<string, string | number>>()
  ).results;
  const hash = createHash("sha256");
  hash.update(JSON.stringify(columns.map((c) => c.name)));
  for (const row of rows) {
    hash.update("\n");
    hash.update(JSON.stringify(columns.map((_, i) => [row[`t${i}`], row[`v${i}`]])));
  }
  return { rows: rows.length, sha256: hash.digest("hex") };
}

/** The digest of every table of a D1 database (miniflare's and Cloudflare's own tables left out). */
async function digestDatabase(db: D1Like): Promise<DatabaseDigest> {
  const objects = (
    await db
      .prepare(
        "select type, name, sql from sqlite_master where name not like '\\_cf\\_%' escape '\\' and sql is not null order by type, name",
      )
      .all<{ type: string; name: string; sql: string }>()
  ).results;
  const schema = createHash("sha256");
  for (const o of objects) schema.update(`${o.type} ${o.name}\n${o.sql}\n`);
  const out: DatabaseDigest = { [SCHEMA_ENTRY]: { rows: objects.length, sha256: schema.digest("hex") } };
  for (const { name } of objects.filter((o) => o.type === "table")) out[name] = await tableDigest(db, name);
  return out;
}

/** Opens the local database under `persistTo` (wrangler's --persist-to) and digests it. */
export async function digestLocal(persistTo: string): Promise<DatabaseDigest> {
  // Else getPlatformProxy would digest a new, empty database made on the spot.
  if (localD1File(persistTo) === undefined) throw new Error(`no local D1 database under ${resolve(persistTo)}`);
  const { dir, configPath } = await localD1Config(persistTo);
  try {
    const proxy = await getPlatformProxy<{ DB: D1Like }>({
      configPath,
      // getPlatformProxy takes the versioned directory that wrangler creates under --persist-to.
      persist: { path: join(resolve(persistTo), "v3") },
    });
    try {
      return await digestDatabase(proxy.env.DB);
    } finally {
      await proxy.dispose();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function formatDigest(digest: DatabaseDigest): string {
  const width = Math.max(...Object.keys(digest).map((k) => k.length));
  return Object.entries(digest)
    .map(([table, d]) => `${table.padEnd(width)}  ${String(d.rows).padStart(8)}  ${d.sha256}`)
    .join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "persist-to": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const digest = await digestLocal(values["persist-to"] ?? DEFAULT_PERSIST_TO);
  process.stdout.write(`${values.json ? JSON.stringify(digest, null, 2) : formatDigest(digest)}\n`);
}

if (import.meta.main) {
  main().catch((error: Error) => {
    process.stderr.write(`db-digest: ${error.message}\n`);
    process.exit(1);
  });
}
