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
import { existsSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { localD1Config, wrangler } from "./backup.ts";

/** Fails when `persistTo` already holds a local D1 database. */
async function assertEmpty(persistTo: string): Promise<void> {
  const d1 = join(persistTo, "v3", "d1");
  if (!existsSync(d1)) return;
  const files = await readdir(d1, { recursive: true });
  if (files.some((f) => String(f).endsWith(".sqlite"))) {
    throw new Error(`${persistTo} already holds a local D1 database; restore into a new directory`);
  }
}

/** Applies the dump `file` to a new local database under `persistTo`. */
export async function restoreLocal(file: string, persistTo: string): Promise<void> {
  if (!existsSync(file)) throw new Error(`no backup file ${file}`);
  await assertEmpty(resolve(persistTo));
  const { dir, configPath } = await localD1Config(persistTo);
  try {
    await wrangler([
      "d1",
      "execute",
      "DB",
      "--local",
      "--config",
      configPath,
      "--persist-to",
      resolve(persistTo),
      "--file",
      resolve(file),
      "--yes",
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
