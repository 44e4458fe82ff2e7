// `npm run db:restore -- FILE --persist-to NEWDIR`: a fresh local database made from a backup
// (scripts/backup.ts), with `wrangler d1 execute DB --local --file FILE --persist-to NEWDIR`.
//
// Nothing but the dump is applied, migrations included: the dump holds the schema exactly as the
// migrations left it (tables, indexes) and the d1_migrations table, so the restored database is the
// same database, and a later `wrangler d1 migrations apply` applies only migrations newer than the
// backup. Running the migrations first and then the data would create d1_migrations twice over (the
// dump's inserts collide with the rows the migrations wrote) and would lose the backup's own schema
// whenever the migrations in the checkout differ from the ones the backed-up database had.
// The target must be empty: restoring over a database would mix two databases.
import { createReadStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { localD1Config, wrangler } from "./backup.ts";
import { localD1File } from "./local-registry.ts";

/** Fails when `persistTo` already holds a local D1 database. */
function assertEmpty(persistTo: string): void {
  if (localD1File(persistTo) !== undefined) {
    throw new Error(`${persistTo} already holds a local D1 database; restore into a new directory`);
  }
}

/** Whether the dump creates the d1_migrations table, as every `wrangler d1 export` of a migrated database does. */
async function declaresMigrationsTable(file: string): Promise<boolean> {
  const statement = /CREATE TABLE\s+(?:IF NOT EXISTS\s+)?["'`[]?d1_migrations\b/i;
  // Read in chunks, not whole: a dump of a large registry can exceed what one string holds.
  let tail = "";
  for await (const chunk of createReadStream(file, { encoding: "utf8" })) {
    const text = tail + chunk;
    if (statement.test(text)) return true;
    tail = text.slice(-64);
  }
  return false;
}

/** Fails unless `file` looks like a backup made by scripts/backup.ts. */
async function assertDump(file: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) throw new Error(`no backup file ${file}`);
  if (!info.isFile()) throw new Error(`${file} is not a file; give the .sql file that db:backup wrote`);
  if (info.size === 0) throw new Error(`${file} is empty; it is not a backup`);
  if (!(await declaresMigrationsTable(file))) {
    throw new Error(`${file} does not create the d1_migrations table; it is not a backup made by db:backup`);
  }
}

/** Applies the dump `file` to a new local database under `persistTo`. */
export async function restoreLocal(file: string, persistTo: string): Promise<void> {
  await assertDump(file);
  const target = resolve(persistTo);
  assertEmpty(target);
  // The first directory this call creates (undefined when `target` was there already).
  const created = await mkdir(target, { recursive: true });
  const { dir, configPath } = await localD1Config(target);
  try {
    await wrangler([
      "d1",
      "execute",
      "DB",
      "--local",
      "--config",
      configPath,
      "--persist-to",
      target,
      "--file",
      resolve(file),
      "--yes",
    ]);
  } catch (error) {
    // A half-restored database would make a retry refuse this directory as already taken.
    await removeFailedRestore(target, created);
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function removeFailedRestore(target: string, created: string | undefined): Promise<void> {
  if (created !== undefined) {
    await rm(created, { recursive: true, force: true });
    return;
  }
  // The directory was there before, without a database (assertEmpty): any database in it now is this one's.
  const database = localD1File(target);
  if (database === undefined) return;
  for (const suffix of ["", "-wal", "-shm", "-journal"]) await rm(`${database}${suffix}`, { force: true });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      "persist-to": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [file] = positionals;
  if (values.help || !file || positionals.length > 1 || !values["persist-to"]) {
    process.stderr.write(
      "usage: npm run db:restore -- FILE --persist-to NEWDIR\n" +
        "       (production: wrangler d1 execute DB --remote --file FILE, into a new, empty database)\n",
    );
    process.exit(values.help ? 0 : 2);
  }
  await restoreLocal(file, values["persist-to"]);
  process.stdout.write(
    `restored ${resolve(file)} into ${resolve(values["persist-to"])}` +
      ` (wrangler dev --persist-to ${values["persist-to"]} serves it)\n`,
  );
}

if (import.meta.main) {
  main().catch((error: Error) => {
    process.stderr.write(`db:restore: ${error.message}\n`);
    process.exit(1);
  });
}
