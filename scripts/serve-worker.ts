// The local registry's Worker served by Miniflare, straight from a wrangler configuration: the same
// workerd, local D1 and static assets `wrangler dev` runs, without `wrangler dev`'s proxy (a second
// workerd process that every request passed through, ~2 ms of CPU a request, and the restart-on-change
// that once raced `npm start`) and without its inspector. The rate limiters keep their counters in the
// Worker's isolate, as Cloudflare keeps them on the machine a Worker runs on (scripts/local-rate-limit.ts).
//
//   node scripts/serve-worker.ts --config <wrangler.json|toml> --port <n> --persist-to <dir> [--var NAME:value]…
//                                [--inspector-port <n>]
//
// Prints "ready on <url>" once it answers, and stops workerd on SIGTERM or SIGINT. The D1 database lives
// where `wrangler dev --persist-to` and `wrangler d1 … --local --persist-to` keep it, so the migrations,
// backups and tests that open the file find the same one.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare, type V4WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { LOCAL_RATE_LIMIT_PLUGIN, LOCAL_RATE_LIMIT_TYPE } from "./local-rate-limit-plugin.ts";
import { run, WRANGLER } from "./local-registry.ts";

type ModuleType = "ESModule" | "CommonJS" | "Text" | "Data" | "CompiledWasm";
type Module = { type: ModuleType; path: string };

/** The module type of each file extension the configuration's rules name ("**\/*.mjs" and the like). */
function typesByExtension(rules: ReadonlyArray<{ type: string; include: string[] }>): Map<string, ModuleType> {
  const types = new Map<string, ModuleType>();
  for (const rule of rules) {
    for (const glob of rule.include) {
      const match = /^\*\*\/\*(\.[\w.?]+)$/.exec(glob);
      if (match?.[1] && !types.has(match[1])) types.set(match[1], rule.type as ModuleType);
    }
  }
  return types;
}

type RateLimits = Record<string, { simple: { limit: number; period?: number } }>;

/**
 * The configuration's rate limiters as bindings of scripts/local-rate-limit-plugin.ts: the same limits and
 * `limit({ key })`, counted in the Worker's isolate as at Cloudflare's edge, instead of Miniflare's
 * Durable Object on disk (0.4–0.6 ms of CPU a call here).
 */
function localRateLimits(ratelimits: RateLimits | undefined) {
  const plugin = {
    package: fileURLToPath(new URL("./local-rate-limit-plugin.ts", import.meta.url)),
    name: LOCAL_RATE_LIMIT_PLUGIN,
  };
  return Object.entries(ratelimits ?? {}).map(([name, { simple }]) => ({
    name,
    type: LOCAL_RATE_LIMIT_TYPE,
    plugin,
    options: { limit: simple.limit, period: simple.period ?? 60 },
  }));
}

/** Every module file under `root` with the entry first, as workerd wants it. */
async function modulesUnder(root: string, main: string, types: Map<string, ModuleType>): Promise<Module[]> {
  const modules: Module[] = [];
  for (const file of (await readdir(root, { recursive: true })).sort()) {
    const type = types.get(extname(file));
    const path = join(root, file);
    if (type) modules.push({ type, path });
  }
  const entry = modules.findIndex((m) => m.path === resolve(main));
  if (entry < 0) throw new Error(`the Worker's entry ${main} is not among the modules under ${root}`);
  const [first] = modules.splice(entry, 1);
  return [first as Module, ...modules];
}

/**
 * The Worker's modules: a configuration whose code is built already (`no_bundle`, as `astro build`
 * writes it) is served as it is; any other is bundled first by wrangler, as `wrangler dev` would.
 */
async function workerModules(
  configPath: string,
  main: string,
  rules: ReadonlyArray<{ type: string; include: string[] }>,
): Promise<{ root: string; modules: Module[]; cleanup: () => Promise<void> }> {
  const config = unstable_readConfig({ config: configPath });
  const types = typesByExtension(rules);
  if (config.no_bundle) {
    const root = dirname(main);
    return { root, modules: await modulesUnder(root, main, types), cleanup: async () => {} };
  }
  const outdir = await mkdtemp(join(os.tmpdir(), "edgebench-worker-bundle-"));
  await run([WRANGLER, "deploy", "--dry-run", "--outdir", outdir, "--config", configPath]);
  const bundled = join(outdir, "index.js");
  return {
    root: outdir,
    modules: await modulesUnder(outdir, bundled, new Map([[".js", "ESModule"]])),
    cleanup: () => rm(outdir, { recursive: true, force: true }),
  };
}

export async function serveWorker(options: {
  configPath: string;
  port: number;
  persistTo: string;
  vars?: Record<string, string>;
  /** Opens workerd's inspector (Chrome DevTools protocol) here: for profiles, never in `npm start`. */
  inspectorPort?: number;
}): Promise<{ url: URL; dispose: () => Promise<void> }> {
  const { workerOptions, main } = unstable_getMiniflareWorkerOptions(options.configPath);
  if (!main) throw new Error(`${options.configPath} names no main module`);
  const { modulesRules, rootPath: _rootPath, bindings, ratelimits, ...rest } = workerOptions;
  const code = await workerModules(options.configPath, main, modulesRules ?? []);
  const worker = {
    ...rest,
    name: "edgebench",
    modules: code.modules,
    modulesRoot: code.root,
    bindings: { ...(bindings as Record<string, unknown> | undefined), ...options.vars },
    // Clients reach the Worker (behind its asset router, as at Cloudflare) on a socket of its own, not
    // through Miniflare's entry worker: a hop of ~0.4 ms of CPU a request here, for what the registry
    // does not use (a placeholder request.cf, pretty error pages, re-encoding the body for the client).
    // It also set CF-Connecting-IP to the loopback address every local client has; without it the
    // address limit counts them all under "unknown", the same single bucket.
    unsafeDirectSockets: [{ host: "127.0.0.1", port: options.port }],
    unsafeBindings: localRateLimits(ratelimits as RateLimits | undefined),
  } as V4WorkerOptions;
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      // Miniflare's own entry (see the direct socket below) listens on a free loopback port nobody uses.
      port: 0,
      ...(options.inspectorPort ? { inspectorPort: options.inspectorPort, inspectorHost: "127.0.0.1" } : {}),
      // Placeholder request.cf: nothing is fetched from Cloudflare (these machines are offline).
      cf: false,
      enableDevRegistry: false,
      // Where `wrangler dev --persist-to` keeps its state, D1 under v3/d1.
      resourcePersistencePath: join(options.persistTo, "v3"),
      log: new Log(LogLevel.WARN),
      logRequests: false,
      workers: [worker],
    }),
  );
  let url: URL;
  try {
    await mf.ready;
    url = await mf.unsafeGetDirectURL(worker.name);
  } catch (error) {
    // A runtime that did not start leaves neither workerd nor the bundle behind.
    await mf.dispose().catch(() => {});
    await code.cleanup();
    throw error;
  }
  return {
    url,
    dispose: async () => {
      await mf.dispose();
      await code.cleanup();
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      port: { type: "string" },
      "persist-to": { type: "string" },
      var: { type: "string", multiple: true },
      "inspector-port": { type: "string" },
    },
    strict: true,
  });
  const isPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65_535;
  const port = Number(values.port);
  const inspectorPort = values["inspector-port"] === undefined ? undefined : Number(values["inspector-port"]);
  if (
    !values.config ||
    !values["persist-to"] ||
    !isPort(port) ||
    (inspectorPort !== undefined && !isPort(inspectorPort))
  ) {
    console.error(
      "usage: serve-worker --config <file> --port <1-65535> --persist-to <dir> [--var NAME:value]… [--inspector-port <1-65535>]",
    );
    process.exit(2);
  }
  const vars: Record<string, string> = {};
  for (const pair of values.var ?? []) {
    const colon = pair.indexOf(":");
    if (colon < 1) {
      console.error(`--var wants NAME:value, got ${JSON.stringify(pair)}`);
      process.exit(2);
    }
    vars[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  let served: Awaited<ReturnType<typeof serveWorker>>;
  try {
    served = await serveWorker({
      configPath: values.config,
      port,
      persistTo: values["persist-to"],
      vars,
      ...(inspectorPort === undefined ? {} : { inspectorPort }),
    });
  } catch (error) {
    console.error(`serve-worker: the Worker did not start: ${(error as Error).message}`);
    process.exit(1);
  }
  const stop = async () => {
    await served.dispose();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  console.log(`ready on ${served.url.origin}`);
}
