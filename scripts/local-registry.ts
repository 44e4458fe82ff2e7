// The local registry on the embedded default: D1 migrations, the Worker (API, badges and the
// on-demand site, built by `astro build`) served by Miniflare (scripts/serve-worker.ts: workerd + local
// SQLite, as under `wrangler dev` but without its proxy), and the seed
// runs signed with a demo key. Used by `npm start` and by the tests, each with its own port and state
// directory.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import * as z from "zod";
import { loadOrCreateKey } from "../cli/lib/keys.ts";
import { submitEnvelope } from "../cli/lib/registry.ts";
import { RunPage } from "../schema/api.ts";
import { Envelope, signPayload } from "../schema/signing.ts";

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
  /** Where the demo signing key is kept. */
  demoKeyDir: string;
  /**
   * The wrangler configuration: the built Worker's (buildWorker) for the whole registry with its
   * site, else a configuration of the API alone (apiConfig; the benchmarks lift its rate limits).
   */
  configPath: string;
  /** The moderation token (the ADMIN_TOKEN secret in production); unset, moderation is off. */
  adminToken?: string;
  /** How long to wait for the first answer (a database of a million runs opens slowly); default 90 s. */
  startupTimeoutMs?: number;
  /** Opens workerd's inspector on this port (the registry benchmark's profiles). */
  inspectorPort?: number;
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

export interface RunningWorker {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The Worker on loopback with a local D1 under `persistTo`, served by Miniflare (scripts/serve-worker.ts):
 * node's arguments.
 */
export function workerHostArgs(
  options: Pick<LocalRegistryOptions, "port" | "persistTo" | "configPath" | "adminToken" | "inspectorPort">,
): string[] {
  return [
    join(ROOT, "scripts", "serve-worker.ts"),
    "--port",
    String(options.port),
    "--persist-to",
    options.persistTo,
    "--config",
    options.configPath,
    ...(options.adminToken ? ["--var", `ADMIN_TOKEN:${options.adminToken}`] : []),
    ...(options.inspectorPort ? ["--inspector-port", String(options.inspectorPort)] : []),
  ];
}

export async function startWorker(options: LocalRegistryOptions): Promise<RunningWorker> {
  const child = spawn(process.execPath, workerHostArgs(options), {
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
    if (child.exitCode !== null) throw new Error(`the Worker exited with ${child.exitCode}:\n${output}`);
    try {
      // A route that reads no table: on a big database, a probe that queries would pile up slow queries.
      const res = await fetch(`${url}/v1/openapi.json`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the Worker did not answer on ${url} within ${startupMs / 1000} s:\n${output}`);
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

/**
 * The seed bundles signed with the demo key, each dated now (the registry refuses bundles created
 * long ago): the same signed bytes whenever they are submitted again, so the same run ids.
 */
export async function signSeeds(demoKeyDir: string, seedsDir = SEEDS_DIR): Promise<Envelope[]> {
  const key = await loadOrCreateKey(demoKeyDir);
  const files = (await readdir(seedsDir)).filter((f) => f.endsWith(".json")).sort();
  const importedAt = new Date().toISOString();
  const envelopes: Envelope[] = [];
  for (const file of files) {
    const bundle = JSON.parse(await readFile(join(seedsDir, file), "utf8"));
    bundle.provenance.createdAt = importedAt;
    envelopes.push(await signPayload(bundle, key.privateKey));
  }
  return envelopes;
}

/** Submits signed envelopes one by one; returns how many were new (a resubmission stores nothing). */
export async function submitAll(url: string, envelopes: readonly Envelope[], pauseMs = 0): Promise<number> {
  let created = 0;
  for (const envelope of envelopes) {
    if ((await submitEnvelope(url, envelope)).created) created++;
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
  return created;
}

/** Signs every seed bundle with the demo key and submits it; returns how many were new. */
export async function submitSeeds(url: string, demoKeyDir: string, seedsDir = SEEDS_DIR): Promise<number> {
  return submitAll(url, await signSeeds(demoKeyDir, seedsDir));
}

export type SeedOutcome = { state: "seeded" | "completed"; created: number } | { state: "skipped" };

/**
 * Seeds a local registry once, even across interrupted starts. The signed seeds are written into
 * `stateDir` before the first is submitted, and a marker after the last is stored: a start stopped
 * in between (Ctrl-C) leaves the envelopes and no marker, and the next start submits all of them
 * again, the same bytes, so those already stored are answered "already stored" and the rest complete
 * the set. A database that holds runs but never began seeding (one a user filled) is left as it is.
 */
export async function seedOnce(
  url: string,
  stateDir: string,
  demoKeyDir: string,
  options: { pauseMs?: number; seedsDir?: string } = {},
): Promise<SeedOutcome> {
  const signedFile = join(stateDir, "seeds.signed.json");
  const doneFile = join(stateDir, "seeds.done");
  if (existsSync(doneFile)) return { state: "skipped" };
  let envelopes: Envelope[];
  let resumed = false;
  if (existsSync(signedFile)) {
    const kept = await readFile(signedFile, "utf8")
      .then((text) => z.array(Envelope).safeParse(JSON.parse(text)))
      .catch(() => undefined);
    if (!kept?.success) {
      throw new Error(
        `${signedFile} does not hold the signed seeds an earlier start wrote; delete it to sign them again`,
      );
    }
    envelopes = kept.data;
    resumed = true;
  } else {
    if (!(await isEmpty(url))) return { state: "skipped" };
    envelopes = await signSeeds(demoKeyDir, options.seedsDir);
    await mkdir(stateDir, { recursive: true });
    await writeFile(`${signedFile}.tmp`, JSON.stringify(envelopes));
    await rename(`${signedFile}.tmp`, signedFile);
  }
  const created = await submitAll(url, envelopes, options.pauseMs);
  await writeFile(doneFile, `${new Date().toISOString()}\n`);
  return { state: resumed ? "completed" : "seeded", created };
}

/** What the built Worker is made from: a change to any of these is a new build. */
const WORKER_SOURCES = [
  "site/src",
  "site/public",
  "site/astro.config.mjs",
  "workers",
  "schema",
  "wrangler.toml",
  "package-lock.json",
];

async function sourceFiles(path: string): Promise<string[]> {
  const full = join(ROOT, path);
  if (!(await stat(full)).isDirectory()) return [full];
  const entries = await readdir(full, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** A digest of the Worker's sources: the name of its build in the cache. */
async function sourcesDigest(): Promise<string> {
  const hash = createHash("sha256");
  for (const path of WORKER_SOURCES) {
    for (const file of (await sourceFiles(path)).sort()) {
      hash
        .update(relative(ROOT, file))
        .update("\0")
        .update(await readFile(file))
        .update("\0");
    }
  }
  return hash.digest("hex").slice(0, 16);
}

/** Where builds are kept, inside the checkout: the Worker's chunks import from node_modules. */
const BUILD_CACHE = join(ROOT, "node_modules", ".cache", "edgebench-worker");

/**
 * The Worker, API and site together, built by `astro build` (the Cloudflare adapter), once per state
 * of its sources: the build holds no data (every page that shows data is rendered on demand), so
 * every registry on this machine, the tests' and `npm start`'s, runs the same build. Returns the
 * wrangler configuration the build wrote, for scripts/serve-worker.ts (or `wrangler dev --config`).
 */
export async function buildWorker(options: { onBuildProcess?: (child: ChildProcess) => void } = {}): Promise<string> {
  const dir = join(BUILD_CACHE, await sourcesDigest());
  const config = join(dir, "server", "wrangler.json");
  if (existsSync(config)) return config;
  await mkdir(BUILD_CACHE, { recursive: true });
  // Built beside its final place and renamed into it: two builds at once (parallel tests) each
  // finish whole, and the first rename wins.
  const staging = await mkdtemp(`${dir}.build-`);
  try {
    await astroBuild(staging, options);
    await rename(staging, dir).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(config)) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return config;
}

/** `astro build` of the site and its Worker into `outDir` (`client/`: static files; `server/`: the Worker). */
export async function astroBuild(
  outDir: string,
  options: { onBuildProcess?: (child: ChildProcess) => void } = {},
): Promise<void> {
  await run([ASTRO, "build", "--root", join(ROOT, "site"), "--outDir", outDir, "--silent"], {
    ...(options.onBuildProcess ? { onSpawn: options.onBuildProcess } : {}),
  });
}

/**
 * A wrangler configuration written into `dir`: the API alone (workers/index.ts, no site), for the
 * registries that tests and benchmarks drive through the API only, optionally with the write limits
 * lifted (a benchmark is one client sending as fast as it can).
 */
export async function apiConfig(dir: string, options: { liftLimits?: boolean } = {}): Promise<string> {
  const original = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  let text = original
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(ROOT, "workers", "index.ts"))}`)
    .replace(/^migrations_dir = .*$/m, `migrations_dir = ${JSON.stringify(join(ROOT, "migrations"))}`)
    // No site: the API answers every path itself (the site's paths with a plain 404).
    .replace(/^\[assets\]\n(?:[^[\n].*\n)*/m, "")
    // Other "./…" paths (e.g. [alias]) are relative to the config file, which now lives elsewhere.
    .replace(/"(\.\.?\/[^"]*)"/g, (_match, path: string) => JSON.stringify(join(ROOT, path)));
  if (options.liftLimits) text = text.replace(/simple = \{ limit = \d+/g, "simple = { limit = 100000000");
  await mkdir(dir, { recursive: true });
  const path = join(dir, options.liftLimits ? "wrangler.bench.toml" : "wrangler.api.toml");
  await writeFile(path, text);
  return path;
}

/** The built Worker's configuration with the write limits lifted, written beside it (its paths are relative). */
export async function liftedLimitsConfig(builtConfig: string): Promise<string> {
  const config = JSON.parse(await readFile(builtConfig, "utf8")) as {
    ratelimits?: Array<{ simple?: { limit: number } }>;
  };
  for (const limit of config.ratelimits ?? []) if (limit.simple) limit.simple.limit = 100_000_000;
  const path = join(builtConfig, "..", "wrangler.bench.json");
  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

/** `npm start` (scripts/start.ts) as a child, with everything it prints kept. */
export interface StartedRegistry {
  child: ChildProcess;
  output: () => string;
}

export function spawnStart(env: Record<string, string>): StartedRegistry {
  const child = spawn(process.execPath, [join(ROOT, "scripts", "start.ts")], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (d: Buffer) => {
    output += d;
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return { child, output: () => output };
}

/** Resolves true once it says it is running; false when it exits first or `timeoutMs` passes. */
export function untilRunning(started: StartedRegistry, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const running = started.output().includes("edgebench is running");
      if (running || started.child.exitCode !== null || Date.now() > deadline) {
        clearInterval(timer);
        resolve(running);
      }
    }, 50);
  });
}

/** Stops it as Ctrl-C does, and waits until it has exited. */
export async function stopStart(started: StartedRegistry | undefined): Promise<void> {
  if (!started || started.child.exitCode !== null || started.child.signalCode !== null) return;
  const exited = new Promise((r) => started.child.once("exit", r));
  started.child.kill("SIGINT");
  await exited;
}
