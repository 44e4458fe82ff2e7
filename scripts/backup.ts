// `npm run db:backup -- --out FILE [--persist-to DIR] [--remote]`: the whole D1 database (schema, every
// row, and the d1_migrations table that says which migrations it has) as one SQL file, written by
// `wrangler d1 export`. `npm run db:restore` (scripts/restore.ts) reads it back; docs/DEPLOY.md has both.
//
// wrangler d1 export has no --persist-to: locally it always reads `.wrangler/state` beside the
// wrangler configuration it is given. So for another state directory the export runs with a small
// configuration in a temporary directory whose `.wrangler/state` is a link to that state directory.
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { localD1File, ROOT, run, WRANGLER } from "./local-registry.ts";

/** Where `npm start`, `npm run db:migrate` and a plain `wrangler dev` keep the local database. */
export const DEFAULT_PERSIST_TO = join(ROOT, ".wrangler", "state");

/** Runs wrangler with these arguments; resolves with its output, rejects with it on failure. */
export function wrangler(args: string[]): Promise<string> {
  return run([WRANGLER, ...args]);
}

/**
 * A wrangler configuration with only the DB binding of wrangler.toml (same database name and id, so
 * the same local SQLite file), written to a temporary directory whose `.wrangler/state` links to
 * `persistTo` (which it does not create: a database that is not there must not appear). The caller
 * removes `dir` when done.
 */
export async function localD1Config(persistTo: string): Promise<{ dir: string; configPath: string }> {
  const toml = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  const field = (name: string) => {
    const value = new RegExp(`^${name} = "([^"]*)"`, "m").exec(toml)?.[1];
    if (value === undefined) throw new Error(`wrangler.toml has no ${name}`);
    return value;
  };
  const dir = await mkdtemp(join(tmpdir(), "edgebench-d1-"));
  const configPath = join(dir, "wrangler.toml");
  await writeFile(
    configPath,
    [
      'name = "edgebench-db-tools"',
      `compatibility_date = "${field("compatibility_date")}"`,
      "send_metrics = false",
      "",
      "[[d1_databases]]",
      'binding = "DB"',
      `database_name = "${field("database_name")}"`,
      `database_id = "${field("database_id")}"`,
      `migrations_dir = ${JSON.stringify(join(ROOT, "migrations"))}`,
      "",
    ].join("\n"),
  );
  await mkdir(join(dir, ".wrangler"));
  await symlink(resolve(persistTo), join(dir, ".wrangler", "state"), "dir");
  return { dir, configPath };
}

/** Exports the local database kept under `persistTo` to `out`. */
export async function backupLocal(persistTo: string, out: string): Promise<void> {
  // Else wrangler would export a new, empty database made on the spot, and report success.
  if (localD1File(persistTo) === undefined) throw new Error(`no local D1 database under ${resolve(persistTo)}`);
  const { dir, configPath } = await localD1Config(persistTo);
  try {
    await mkdir(dirname(resolve(out)), { recursive: true });
    await wrangler(["d1", "export", "DB", "--local", "--config", configPath, "--output", resolve(out)]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Exports the production database named in wrangler.toml (needs `wrangler login`). */
async function backupRemote(out: string): Promise<void> {
  await wrangler(["d1", "export", "DB", "--remote", "--output", resolve(out)]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      "persist-to": { type: "string" },
      remote: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help || !values.out || (values.remote && values["persist-to"])) {
    process.stderr.write(
      "usage: npm run db:backup -- --out FILE [--persist-to DIR]   (local database, default .wrangler/state)\n" +
        "       npm run db:backup -- --out FILE --remote             (the production D1 database)\n",
    );
    process.exit(values.help ? 0 : 2);
  }
  if (values.remote) await backupRemote(values.out);
  else await backupLocal(values["persist-to"] ?? DEFAULT_PERSIST_TO, values.out);
  process.stdout.write(`backed up to ${resolve(values.out)}\n`);
}

if (import.meta.main) {
  main().catch((error: Error) => {
    process.stderr.write(`db:backup: ${error.message}\n`);
    process.exit(1);
  });
}
