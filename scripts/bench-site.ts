// The site's build cost at scale: 1k and 10k synthetic runs submitted to a local registry, the site
// built from it as `npm start` builds it (Astro, then the Pagefind index), with wall time, peak memory
// of the build process, pages written, and the compressed size of a leaderboard page.
import type { ChildProcess } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Envelope } from "../schema/signing.ts";
import { freePort } from "../test/support/load.ts";
import { benchConfig, benchEnvelopes } from "./bench-api.ts";
import { applyMigrations, buildSite, startWorker } from "./local-registry.ts";

const SIZES = [1_000, 10_000];
/** The budget for one leaderboard page, HTML and CSS, compressed. */
const PAGE_BUDGET_BYTES = 50 * 1024;

function log(line: string) {
  process.stderr.write(`bench: site: ${line}\n`);
}

const fmt = (n: number, digits = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function submitAll(url: string, envelopes: Envelope[]): Promise<void> {
  const queue = [...envelopes];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let e = queue.shift(); e; e = queue.shift()) {
        const res = await fetch(`${url}/v1/runs`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(e),
        });
        await res.arrayBuffer();
        if (res.status !== 201) throw new Error(`submitting a synthetic run answered ${res.status}`);
      }
    }),
  );
}

/** Peak resident memory of a process, sampled from /proc every 100 ms while it runs (Linux). */
function sampleRss(child: ChildProcess): () => number {
  let peak = 0;
  const timer = setInterval(async () => {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8");
      const kb = Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
    } catch {
      // the process has ended
    }
  }, 100);
  child.once("exit", () => clearInterval(timer));
  return () => peak;
}

async function htmlFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".html"));
}

/** The largest hardware leaderboard page with the site's CSS, gzip-compressed as it is served. */
async function leaderboardBytes(site: string): Promise<{ page: string; bytes: number }> {
  const pages = (await htmlFiles(join(site, "hardware"))).filter((f) => f !== "index.html");
  let largest = { page: "", size: -1 };
  for (const page of pages) {
    const size = (await stat(join(site, "hardware", page))).size;
    if (size > largest.size) largest = { page, size };
  }
  const css = (await readdir(join(site, "_astro"))).filter((f) => f.endsWith(".css"));
  const parts = [join(site, "hardware", largest.page), ...css.map((f) => join(site, "_astro", f))];
  let bytes = 0;
  for (const part of parts) bytes += gzipSync(await readFile(part), { level: 6 }).byteLength;
  return { page: `/hardware/${largest.page.replace(/index\.html$/, "")}`, bytes };
}

interface SiteFigures {
  runs: number;
  pages: number;
  buildMs: number;
  peakRss: number;
  leaderboard: { page: string; bytes: number };
}

async function measure(dir: string, config: string, runs: number): Promise<SiteFigures> {
  const persistTo = join(dir, `site-state-${runs}`);
  await applyMigrations(persistTo);
  const worker = await startWorker({
    port: await freePort(),
    persistTo,
    assetsDir: join(dir, "site"),
    demoKeyDir: join(dir, "key"),
    configPath: config,
  });
  try {
    log(`signing and submitting ${runs} runs`);
    await submitAll(worker.url, await benchEnvelopes(runs));
    const out = join(dir, `site-out-${runs}`);
    log(`building the site from ${runs} runs`);
    let peak = () => 0;
    const start = performance.now();
    await buildSite(worker.url, out, {
      onBuildProcess: (child) => {
        peak = sampleRss(child);
      },
    });
    const buildMs = performance.now() - start;
    return {
      runs,
      pages: (await htmlFiles(out)).length,
      buildMs,
      peakRss: peak(),
      leaderboard: await leaderboardBytes(out),
    };
  } finally {
    await worker.stop();
  }
}

export async function benchSite(dir: string): Promise<string> {
  const config = await benchConfig(dir);
  const results: SiteFigures[] = [];
  for (const runs of SIZES) {
    const r = await measure(dir, config, runs);
    log(
      `${runs} runs: ${r.pages} pages in ${fmt(r.buildMs / 1000)} s, peak ${fmt(r.peakRss / 2 ** 20, 0)} MiB, ${r.leaderboard.page} ${fmt(r.leaderboard.bytes / 1024)} KiB gzip`,
    );
    results.push(r);
  }
  const rows = results.map(
    (r) =>
      `| ${r.runs.toLocaleString("en-US")} | ${r.pages.toLocaleString("en-US")} | ${fmt(r.buildMs / 1000)} s | ${fmt(r.buildMs / r.pages, 1)} ms | ${fmt(r.peakRss / 2 ** 20, 0)} MiB | \`${r.leaderboard.page}\` ${fmt(r.leaderboard.bytes / 1024)} KiB |`,
  );
  const worst = Math.max(...results.map((r) => r.leaderboard.bytes));
  return `## Site build (\`npm run bench -- --only site\`)

Synthetic runs (20 boards × 50 models, 16 device keys) submitted to a local registry (\`wrangler dev\`), then the
site built from it exactly as \`npm start\` builds it: Astro (every hardware, model, run, compare and history page,
charts rendered to SVG at build time) and the Pagefind search index. Peak memory is the Astro build process's
high-water mark (VmHWM), sampled every 100 ms. The leaderboard figure is the largest hardware page's HTML plus the
site's CSS, gzip-compressed; budget ${PAGE_BUDGET_BYTES / 1024} KiB.

| runs | pages written | build time | per page | peak memory | largest leaderboard page (HTML + CSS, gzip) |
| ---- | ------------- | ---------- | -------- | ----------- | ------------------------------------------- |
${rows.join("\n")}

Every leaderboard page is ${worst <= PAGE_BUDGET_BYTES ? "within" : "**over**"} the ${PAGE_BUDGET_BYTES / 1024} KiB budget. The build fetches every run's
detail from the API (8 at a time), so its time grows with the run count; run pages are not indexed for search
(hardware and model pages are), which keeps the index small.
`;
}
