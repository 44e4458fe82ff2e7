// Pages at scale: the static build (time, files written) and the on-demand pages of the one Worker
// (a run page and the largest hardware leaderboard) at 1,000 and 100,000 stored runs: p50/p99 of a
// cold render and of a cached answer, and the Worker's CPU time per request, read from the workerd
// processes' own CPU counters (/proc) around each series.
import type { ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { percentile } from "../cli/measure/stats.ts";
import { freePort } from "../test/support/load.ts";
import { benchEnvelopes, fillRuns } from "./bench-api.ts";
import { applyMigrations, astroBuild, localD1File, startWorker } from "./local-registry.ts";

const SIZES = [1_000, 100_000];
/** Requests per series: each cold one renders (a URL not asked before), each cached one is a hit. */
const REQUESTS = 100;
/** The goals of issue 13, on this machine. */
const GOAL_COLD_P50_MS = 50;
const GOAL_CACHED_P50_MS = 10;
const GOAL_FILES = 2_000;

function log(line: string) {
  process.stderr.write(`bench: pages: ${line}\n`);
}

const fmt = (n: number, digits = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** CPU time (user + system) of every process under `root` whose name is `name`, in ms (Linux /proc). */
async function treeCpuMs(root: number, name: string): Promise<number> {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  const cpu = new Map<number, number>();
  const ticks = 100; // USER_HZ, 100 on Linux
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      const pid = Number(entry);
      names.set(pid, stat.slice(stat.indexOf("(") + 1, close));
      parents.set(pid, Number(fields[1]));
      cpu.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks);
    } catch {
      // the process has ended
    }
  }
  const under = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parents.get(p) ?? 0, hops++) if (p === root) return true;
    return false;
  };
  let total = 0;
  for (const [pid, ms] of cpu) if (names.get(pid) === name && under(pid)) total += ms;
  return total;
}

interface Series {
  p50: number;
  p99: number;
  /** Worker (workerd) CPU per request, ms. */
  cpuMs: number;
  cache: string;
}

async function series(url: string, paths: string[], child: ChildProcess): Promise<Series> {
  const times: number[] = [];
  const caches = new Set<string>();
  const cpuBefore = await treeCpuMs(child.pid ?? 0, "workerd");
  for (const path of paths) {
    const t0 = performance.now();
    const res = await fetch(`${url}${path}`);
    await res.arrayBuffer();
    times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    caches.add(res.headers.get("x-edgebench-cache") ?? "none");
  }
  const cpuAfter = await treeCpuMs(child.pid ?? 0, "workerd");
  return {
    p50: percentile(times, 50) ?? 0,
    p99: percentile(times, 99) ?? 0,
    cpuMs: (cpuAfter - cpuBefore) / paths.length,
    cache: [...caches].join("/"),
  };
}

interface SizeFigures {
  runs: number;
  buildMs: number;
  staticFiles: number;
  pages: Array<{ page: string; cold: Series; cached: Series }>;
}

async function measure(dir: string, runs: number, envelope: string): Promise<SizeFigures> {
  const persistTo = join(dir, `pages-state-${runs}`);
  await applyMigrations(persistTo);
  const file = localD1File(persistTo);
  if (!file) throw new Error(`no local D1 database under ${persistTo}`);
  // One board holds every run: its leaderboard is the largest there can be at this size.
  log(`inserting ${runs.toLocaleString("en-US")} runs on one board`);
  fillRuns(file, runs, { boards: 1, envelope });

  // The static build reads no data: timed here at each size to show that it does not depend on it.
  const out = join(dir, `pages-build-${runs}`);
  const t0 = performance.now();
  await astroBuild(out);
  const buildMs = performance.now() - t0;
  const staticFiles = (await readdir(join(out, "client"), { recursive: true, withFileTypes: true })).filter((e) =>
    e.isFile(),
  ).length;
  log(`${runs} runs: static build ${fmt(buildMs / 1000)} s, ${staticFiles} files`);

  const worker = await startWorker({
    port: await freePort(),
    persistTo,
    demoKeyDir: join(dir, "key"),
    configPath: join(out, "server", "wrangler.json"),
    startupTimeoutMs: 600_000,
  });
  try {
    const runIds = Array.from({ length: REQUESTS }, (_, i) => ((i * 7919) % runs).toString(16).padStart(24, "0"));
    const pages = [
      // A run page: each cold request a run not shown before.
      { page: "/runs/:id/", cold: runIds.map((id) => `/runs/${id}/`) },
      // The largest leaderboard's first page: a query the page ignores makes each request a new cache key.
      { page: "/hardware/hw-0/", cold: runIds.map((_, i) => `/hardware/hw-0/?bench=${i}`) },
    ];
    const figures: SizeFigures["pages"] = [];
    for (const { page, cold } of pages) {
      await fetch(`${worker.url}${cold[0]}-warm`).then((r) => r.arrayBuffer()); // first request compiles the Worker
      const coldSeries = await series(worker.url, cold, worker.child);
      const cachedSeries = await series(worker.url, cold, worker.child);
      log(
        `${runs} runs ${page}: cold p50 ${fmt(coldSeries.p50)} ms (${fmt(coldSeries.cpuMs)} ms CPU), cached p50 ${fmt(cachedSeries.p50)} ms (${fmt(cachedSeries.cpuMs)} ms CPU)`,
      );
      figures.push({ page, cold: coldSeries, cached: cachedSeries });
    }
    return { runs, buildMs, staticFiles, pages: figures };
  } finally {
    await worker.stop();
  }
}

export async function benchSite(dir: string): Promise<string> {
  const [signed] = await benchEnvelopes(1);
  const envelope = JSON.stringify(signed);
  const results: SizeFigures[] = [];
  for (const runs of SIZES) results.push(await measure(dir, runs, envelope));
  const buildRows = results.map(
    (r) =>
      `| ${r.runs.toLocaleString("en-US")} | ${fmt(r.buildMs / 1000)} s | ${r.staticFiles.toLocaleString("en-US")} |`,
  );
  const pageRows = results.flatMap((r) =>
    r.pages.map(
      (p) =>
        `| ${r.runs.toLocaleString("en-US")} | \`${p.page}\` | ${fmt(p.cold.p50)} ms | ${fmt(p.cold.p99)} ms | ${fmt(p.cold.cpuMs)} ms | ${fmt(p.cached.p50)} ms | ${fmt(p.cached.p99)} ms | ${fmt(p.cached.cpuMs)} ms |`,
    ),
  );
  const worst = (pick: (p: SizeFigures["pages"][number]) => number) =>
    Math.max(...results.flatMap((r) => r.pages.map(pick)));
  const coldWorst = worst((p) => p.cold.p50);
  const cachedWorst = worst((p) => p.cached.p50);
  const filesWorst = Math.max(...results.map((r) => r.staticFiles));
  return `## Pages at scale (\`npm run bench -- --only site\`)

Pages whose content changes with the data are rendered on demand by the Worker (\`astro build\` with the
Cloudflare adapter makes one Worker of the API, the badges and the site) and cached under the database's data
version; the static build holds only what does not grow with the data (the 404 page, scripts, the stylesheet).
Each size is a fresh local D1 holding that many synthetic runs, all on one board, so its leaderboard is the
largest there can be; every run stores the same real signed envelope. \`wrangler dev\` serves the build; each
series is ${REQUESTS} requests one after another from this machine. A cold request asks for a URL not asked before
(another run, or the leaderboard with a query the page ignores), so it renders; the cached series asks for the same
URLs again. CPU is the workerd processes' user + system time across the series (/proc), per request.

| runs | static build | static files |
| ---- | ------------ | ------------ |
${buildRows.join("\n")}

| runs | page | cold p50 | cold p99 | cold CPU | cached p50 | cached p99 | cached CPU |
| ---- | ---- | -------- | -------- | -------- | ---------- | ---------- | ---------- |
${pageRows.join("\n")}

Goals on this machine: static files ≤ ${GOAL_FILES.toLocaleString("en-US")} (${filesWorst <= GOAL_FILES ? "met" : "**missed**"}: at most ${filesWorst}), both independent of the run count;
p50 ≤ ${GOAL_COLD_P50_MS} ms cold (${coldWorst <= GOAL_COLD_P50_MS ? "met" : "**missed**"}: at most ${fmt(coldWorst)} ms) and ≤ ${GOAL_CACHED_P50_MS} ms cached (${cachedWorst <= GOAL_CACHED_P50_MS ? "met" : "**missed**"}: at most ${fmt(cachedWorst)} ms).
A leaderboard page shows ${50} runs and links to the next ${50}; it reads those rows through the leaderboard's
index and their bundles by id, so its cost does not grow with the board.
`;
}
