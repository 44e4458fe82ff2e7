// The local registry on the embedded default: D1 migrations, the Worker under `wrangler dev`
// (workerd + local SQLite), the seed runs signed with a demo key, and the site built against it.
// Used by `npm start` and by the end-to-end tests, each with its own port and state directory.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import * as pagefind from "pagefind";
import { loadOrCreateKey } from "../cli/lib/keys.ts";
import { submitEnvelope } from "../cli/lib/registry.ts";
import { RunPage } from "../schema/api.ts";
import { signPayload } from "../schema/signing.ts";

export const ROOT = resolve(import.meta.dirname, "..");
export const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const ASTRO = join(ROOT, "node_modules", "astro", "bin", "astro.mjs");
export const SEEDS_DIR = join(ROOT, "demo", "seeds");

/** No telemetry, no calls home: these machines (and many users') are offline. */
export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
  ASTRO_TELEMETRY_DISABLED: "1",
  DO_NOT_TRACK: "1",
};

export interface LocalRegistryOptions {
  port: number;
  /** Where the local D1 database lives (wrangler's --persist-to). */
  persistTo: string;
  /** The built site the Worker serves. */
  assetsDir: string;
  /** Where the demo signing key is kept. */
  demoKeyDir: string;
  /** Another wrangler configuration (the benchmarks lift the rate limits). */
  configPath?: string;
  /** The moderation token (the ADMIN_TOKEN secret in production); unset, moderation is off. */
  adminToken?: string;
  /** How long to wait for the first answer (a database of a million runs opens slowly); default 90 s. */
  startupTimeoutMs?: number;
  log?: (line: string) => void;
}

interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Called with the child once started (the site benchmark samples its memory). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs a Node script (wrangler, astro…) offline; resolves with its output, rejects with it on failure. */
export function run(args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...OFFLINE_ENV, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    options.onSpawn?.(child);
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolvePromise(output);
      else reject(new Error(`${args.slice(0, 3).join(" ")} exited with ${code}:\n${output.slice(-4000)}`));
    });
  });
}

export async function applyMigrations(persistTo: string): Promise<void> {
  await run([WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo]);
}

/**
 * The SQLite file of the local D1 database kept under `persistTo` (wrangler's --persist-to), or
 * undefined when there is none: wrangler would quietly open a new, empty database there, so a
 * mistyped directory must be caught before.
 */
export function localD1File(persistTo: string): string | undefined {
  const dir = join(resolve(persistTo), "v3", "d1", "miniflare-D1DatabaseObject");
  if (!existsSync(dir)) return undefined;
  // metadata.sqlite is miniflare's own bookkeeping, beside the database named after its id.
  const file = readdirSync(dir).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  return file === undefined ? undefined : join(dir, file);
}

/** wrangler dev needs its assets directory to exist before the site is first built. */
async function ensureAssets(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const present = await readdir(dir);
  if (present.length === 0) {
    await writeFile(
      join(dir, "index.html"),
      "<!doctype html><title>edgebench</title><p>The site is being built…</p>\n",
    );
  }
}

export interface RunningWorker {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `wrangler dev` on loopback with a local D1 under `persistTo`, serving `assetsDir`: node's arguments. */
export function wranglerDevArgs(
  options: Pick<LocalRegistryOptions, "port" | "persistTo" | "assetsDir" | "configPath" | "adminToken">,
): string[] {
  return [
    WRANGLER,
    "dev",
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(options.port),
    "--persist-to",
    options.persistTo,
    "--assets",
    options.assetsDir,
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
    ...(options.configPath ? ["--config", options.configPath] : []),
    ...(options.adminToken ? ["--var", `ADMIN_TOKEN:${options.adminToken}`] : []),
  ];
}

export async function startWorker(options: LocalRegistryOptions): Promise<RunningWorker> {
  await ensureAssets(options.assetsDir);
  const child = spawn(process.execPath, wranglerDevArgs(options), {
    cwd: ROOT,
    env: { ...process.env, ...OFFLINE_ENV },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (d: Buffer) => {
    output = (output + d).slice(-8000);
    options.log?.(String(d).trimEnd());
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const url = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  const startupMs = options.startupTimeoutMs ?? 90_000;
  const deadline = Date.now() + startupMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output}`);
    try {
      // A route that reads no table: on a big database, a probe that queries would pile up slow queries.
      const res = await fetch(`${url}/v1/openapi.json`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer on ${url} within ${startupMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, child, stop };
}

export async function isEmpty(url: string): Promise<boolean> {
  const res = await fetch(`${url}/v1/runs?limit=1`);
  if (!res.ok) throw new Error(`GET ${url}/v1/runs answered ${res.status}`);
  return RunPage.parse(await res.json()).items.length === 0;
}

/** Signs every seed bundle with the demo key and submits it; returns how many were new. */
export async function submitSeeds(url: string, demoKeyDir: string, seedsDir = SEEDS_DIR): Promise<number> {
  const key = await loadOrCreateKey(demoKeyDir);
  const files = (await readdir(seedsDir)).filter((f) => f.endsWith(".json")).sort();
  // A seed is imported when it is submitted: the registry refuses bundles created long ago.
  const importedAt = new Date().toISOString();
  let created = 0;
  for (const file of files) {
    const bundle = JSON.parse(await readFile(join(seedsDir, file), "utf8"));
    bundle.provenance.createdAt = importedAt;
    const answer = await submitEnvelope(url, await signPayload(bundle, key.privateKey));
    if (answer.created) created++;
  }
  return created;
}

/**
 * Builds the site against a registry into `outDir`. Astro empties its output directory by removing
 * it, and wrangler dev's watcher loses a directory that is removed, so the build goes to a staging
 * directory and is then synced into `outDir`, which stays in place.
 */
export async function buildSite(
  apiUrl: string,
  outDir: string,
  options: { onBuildProcess?: (child: ChildProcess) => void } = {},
): Promise<void> {
  // Each build in a directory of its own inside the checkout: Astro puts its prerender chunks in the
  // output directory when that is under the working directory (else in one shared ./.astro, where two
  // builds at once, as parallel tests run them, overwrite each other's chunks), and those chunks must
  // be able to import from node_modules.
  const cache = join(ROOT, "node_modules", ".cache");
  await mkdir(cache, { recursive: true });
  const work = await mkdtemp(join(cache, "edgebench-site-"));
  const staging = join(work, "dist");
  try {
    await run([ASTRO, "build", "--root", join(ROOT, "site"), "--outDir", staging, "--silent"], {
      env: { EDGEBENCH_API: apiUrl },
      ...(options.onBuildProcess ? { onSpawn: options.onBuildProcess } : {}),
    });
    await writeSearchIndex(staging);
    await syncDir(staging, resolve(outDir));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The site search: Pagefind indexes the built pages and writes its index and UI into `siteDir/pagefind/`,
 * offline (its binary comes with the npm package). Only pages whose main element carries
 * data-pagefind-body are indexed: home, hardware and model pages, which name every model and hardware.
 * Run pages are left out: they would add one page per run (the bulk of the site) for names a search
 * already finds on the hardware and model pages.
 */
async function writeSearchIndex(siteDir: string): Promise<void> {
  const { index, errors } = await pagefind.createIndex({ forceLanguage: "en" });
  try {
    if (!index) throw new Error(`pagefind could not start: ${errors.join("; ")}`);
    const added = await index.addDirectory({ path: siteDir });
    if (added.errors.length > 0) throw new Error(`pagefind could not index the site: ${added.errors.join("; ")}`);
    const written = await index.writeFiles({ outputPath: join(siteDir, "pagefind") });
    if (written.errors.length > 0) throw new Error(`pagefind could not write its index: ${written.errors.join("; ")}`);
  } finally {
    await pagefind.close();
  }
}

/** Makes `dest` hold exactly what `src` holds, without removing `dest` itself. */
async function syncDir(src: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  await cp(src, dest, { recursive: true, force: true });
  const wanted = new Set(await readdir(src, { recursive: true }));
  const present = (await readdir(dest, { recursive: true })).sort().reverse();
  for (const entry of present) {
    if (!wanted.has(entry)) await rm(join(dest, entry), { recursive: true, force: true });
  }
}

/**
 * wrangler dev notices a rebuilt assets directory by itself, a moment later: wait until it serves
 * the built file at `path` (e.g. "/" or "/hardware/x/") byte for byte.
 */
export async function waitForBuiltPage(url: string, outDir: string, path = "/", timeoutMs = 30_000): Promise<void> {
  const file = join(outDir, ...path.split("/").filter(Boolean), "index.html");
  const expected = await readFile(file, "utf8");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}${path}`);
    if (res.ok && (await res.text()) === expected) return;
    if (Date.now() > deadline) throw new Error(`${url}${path} still does not serve the freshly built ${file}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
