// Backup and restore round trip: a local registry with the seed runs, a few more runs and some
// moderation (so every table has rows), backed up with scripts/backup.ts, restored into a fresh
// directory with scripts/restore.ts; scripts/db-digest.ts finds every table equal. A dump with one
// value changed restores to a different digest, so the comparison can fail.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, signPayload } from "../../schema/signing.ts";
import { backupLocal } from "../../scripts/backup.ts";
import { type DatabaseDigest, digestLocal, SCHEMA_ENTRY } from "../../scripts/db-digest.ts";
import {
  apiConfig,
  applyMigrations,
  localD1File,
  ROOT,
  startWorker,
  submitSeeds,
} from "../../scripts/local-registry.ts";
import { restoreLocal } from "../../scripts/restore.ts";
import { makeBundle } from "../support/bundles.ts";
import { freePort } from "../support/load.ts";
import { readSeedBundles } from "../support/seeds.ts";

const ADMIN_TOKEN = "backup-test-admin-token-0123456789";

async function post(url: string, body: unknown, admin = false): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(admin ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as Record<string, unknown>;
  expect(res.status, `${url}: ${JSON.stringify(answer)}`).toBeLessThan(300);
  return answer;
}

describe("db:backup and db:restore", () => {
  let dir: string;
  let original: DatabaseDigest;
  let dump: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgebench-backup-"));
    const persistTo = join(dir, "state");
    await applyMigrations(persistTo);
    const worker = await startWorker({
      port: await freePort(),
      persistTo,
      configPath: await apiConfig(dir),
      demoKeyDir: join(dir, "demo-key"),
      adminToken: ADMIN_TOKEN,
    });
    try {
      await submitSeeds(worker.url, join(dir, "demo-key"));
      // More runs from a second key: text that must survive byte for byte, and a real with a long expansion.
      const key = await generateKeyPair();
      const extra = [
        makeBundle({ board: "Backup Board 1", model: "Backup-Model-1B", decodeTps: 0.1 + 0.2 }),
        makeBundle({ board: "Backup Board 1", model: "Backup-Model-3B", decodeTps: 7.123456789012345 }),
        makeBundle({ board: "Backup Board 2", model: "Backup-Model-1B", notes: 'it\'s "quoted", ☃, \u202e, a\u0000b' }),
      ];
      const ids: string[] = [];
      for (const bundle of extra) {
        const answer = await post(`${worker.url}/v1/runs`, await signPayload(bundle, key.privateKey));
        ids.push(answer.id as string);
      }
      // Moderation, so audit_log, annotations and aliases have rows.
      await post(`${worker.url}/v1/admin/runs/${ids[0]}/hide`, { reason: "backup test: hidden" }, true);
      await post(`${worker.url}/v1/admin/runs/${ids[0]}/unhide`, { reason: "backup test: shown again" }, true);
      await post(`${worker.url}/v1/admin/runs/${ids[1]}/hide`, { reason: "backup test: stays hidden" }, true);
      await post(
        `${worker.url}/v1/admin/annotations`,
        { engine: "llama.cpp", fromVersion: "b5900", toVersion: "b6010", note: "backup test note", effect: "note" },
        true,
      );
      await post(`${worker.url}/v1/admin/aliases`, { kind: "hardware", alias: "bb1", slug: "backup-board-1" }, true);
      await post(`${worker.url}/v1/admin/aliases`, { kind: "model", alias: "bm1", slug: "backup-model-1b" }, true);
    } finally {
      await worker.stop();
    }
    original = await digestLocal(persistTo);
    dump = join(dir, "backup.sql");
    await backupLocal(persistTo, dump);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("has rows in every table the registry writes", () => {
    const seeds = readSeedBundles().length;
    expect(original.runs?.rows).toBe(seeds + 3);
    for (const table of ["devices", "hardware", "models", "cells", "annotations", "audit_log", "aliases"]) {
      expect(original[table]?.rows, table).toBeGreaterThan(0);
    }
    expect(original.aliases?.rows).toBe(2);
    expect(original.annotations?.rows).toBe(1);
    expect(original.audit_log?.rows).toBeGreaterThanOrEqual(6);
  });

  it("restores into a fresh directory with every table's rows and the schema equal", async () => {
    const restored = await digestLocal(await restoreInto("restored", dump));
    expect(Object.keys(restored).sort()).toEqual(Object.keys(original).sort());
    for (const table of Object.keys(original)) expect(restored[table], table).toEqual(original[table]);
  });

  it("gives a different digest for a dump with one value changed", async () => {
    const text = await readFile(dump, "utf8");
    const tampered = text.replace("backup test note", "backup test notE");
    expect(tampered).not.toBe(text);
    const file = join(dir, "tampered.sql");
    await writeFile(file, tampered);
    const restored = await digestLocal(await restoreInto("tampered", file));
    expect(restored.annotations?.rows).toBe(original.annotations?.rows);
    expect(restored.annotations?.sha256).not.toBe(original.annotations?.sha256);
    const changed = Object.keys(original).filter((t) => restored[t]?.sha256 !== original[t]?.sha256);
    expect(changed).toEqual(["annotations"]);
    expect(restored[SCHEMA_ENTRY]).toEqual(original[SCHEMA_ENTRY]);
  });

  it("refuses to restore over an existing database", async () => {
    const target = join(dir, "restored");
    await expect(restoreLocal(dump, target)).rejects.toThrow(/already holds a local D1 database/);
  });

  it("refuses to back up a directory without a database, as a script that exits non-zero, writing nothing", async () => {
    const missing = join(dir, "no-such-state");
    const out = join(dir, "never-written", "backup.sql");
    await expect(backupLocal(missing, out)).rejects.toThrow(`no local D1 database under ${missing}`);
    await expect(digestLocal(missing)).rejects.toThrow(`no local D1 database under ${missing}`);
    const script = [join(ROOT, "scripts", "backup.ts"), "--out", out, "--persist-to", missing];
    const failed = await promisify(execFile)(process.execPath, script).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(`db:backup: no local D1 database under ${missing}`);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(missing)).toBe(false);
  });

  it("refuses an empty file, a directory or a file that is not a dump, and makes no database", async () => {
    const empty = join(dir, "empty.sql");
    await writeFile(empty, "");
    const notADump = join(dir, "not-a-dump.sql");
    await writeFile(notADump, "CREATE TABLE runs (id TEXT PRIMARY KEY);\n");
    const target = join(dir, "refused");
    await expect(restoreLocal(empty, target)).rejects.toThrow(/is empty; it is not a backup/);
    await expect(restoreLocal(dir, target)).rejects.toThrow(/is not a file/);
    await expect(restoreLocal(notADump, target)).rejects.toThrow(/does not create the d1_migrations table/);
    await expect(restoreLocal(join(dir, "no-such.sql"), target)).rejects.toThrow(/no backup file/);
    expect(existsSync(target)).toBe(false);
  });

  it("removes what a failed restore made, so that a retry can restore", async () => {
    const broken = join(dir, "broken.sql");
    await writeFile(broken, "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY);\nTHIS IS NOT SQL;\n");
    const fresh = join(dir, "failed-fresh");
    await expect(restoreLocal(broken, fresh)).rejects.toThrow();
    expect(existsSync(fresh)).toBe(false);
    // A directory that was there before stays, without the half-made database.
    const existing = join(dir, "failed-existing");
    await mkdir(existing);
    await expect(restoreLocal(broken, existing)).rejects.toThrow();
    expect(existsSync(existing)).toBe(true);
    expect(localD1File(existing)).toBeUndefined();
    await restoreLocal(dump, existing);
    expect((await digestLocal(existing)).runs).toEqual(original.runs);
  });

  async function restoreInto(name: string, file: string): Promise<string> {
    const target = join(dir, name);
    await restoreLocal(file, target);
    return target;
  }
});
