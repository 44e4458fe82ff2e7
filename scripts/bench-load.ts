// `npm run bench:load [-- --seconds N]`: sustained mixed traffic against a local registry (wrangler
// dev: workerd + local D1, rate limits lifted), on loopback only, for a fixed time, with autocannon.
// About one request in five is a submission of a distinct pre-signed bundle (one in eight of those
// re-sends a bundle already sent, on purpose); the rest read leaderboards, runs and badges. Reports
// throughput, p50/p99 latency, errors and non-2xx answers per kind of route, then checks that the
// registry stored each accepted bundle exactly once. Writes the "Load" section of docs/BENCHMARKS.md
// (also `npm run bench -- --only load`).

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { percentile } from "../cli/measure/stats.ts";
import { SubmitResponse } from "../schema/api.ts";
import { freePort, type SignedBundle, signBundles, storedRunIds } from "../test/support/load.ts";
import { formatMarkdown } from "./format-markdown.ts";
import { applyMigrations, buildWorker, liftedLimitsConfig, ROOT, startWorker } from "./local-registry.ts";

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const fmt = (n: number, digits = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

export interface LoadOptions {
  seconds: number;
  /** Connections kept open by autocannon, each with one request in flight. */
  connections: number;
}

const DEFAULT_LOAD: LoadOptions = { seconds: 60, connections: 10 };

type Kind = "write" | "leaderboard" | "run" | "badge" | "page";
const KINDS: Kind[] = ["write", "leaderboard", "run", "badge", "page"];

/**
 * One cycle of 20 requests: 4 writes (20%), 5 leaderboards, 4 runs, 4 badges and 3 site pages (a run
 * page or a hardware leaderboard, rendered on demand), interleaved.
 */
const SCHEDULE: Kind[] = [
  ...["write", "leaderboard", "run", "badge", "page"],
  ...["write", "run", "leaderboard", "badge", "leaderboard"],
  ...["write", "leaderboard", "badge", "run", "page"],
  ...["write", "run", "leaderboard", "badge", "page"],
] as Kind[];

/** Every eighth write re-sends a bundle sent shortly before (often still in flight). */
const REPEAT_EVERY = 8;

/** Writes stop this long before the end, so that every write's answer is seen before the count. */
const WRITE_DRAIN_S = 2;

interface KindStats {
  sent: number;
  answered: number;
  latencies: number[];
  statuses: Map<number, number>;
}

interface LoadContext {
  kind?: Kind;
  bundle?: number;
}

interface LoadResult {
  options: LoadOptions;
  seconds: number;
  badgeRoute: string;
  stats: Record<Kind, KindStats>;
  autocannon: { requests: number; errors: number; timeouts: number; p50: number; p99: number; rps: number };
  preloaded: number;
  distinctSigned: number;
  distinctSent: number;
  repeatsSent: number;
  created201: number;
  distinctCreated: number;
  retried: number;
  lostAnswers: number;
  wrongIds: number;
  stored: number;
  storedDistinct: number;
  storedUnexpected: number;
  integrity: boolean;
  /** The machine's 1-minute load average as the traffic started and as it stopped. */
  loadAverage: [number, number];
}

function machine(): string {
  const cores = os.availableParallelism();
  return `${os.cpus()[0]?.model ?? "unknown CPU"}, ${cores} logical CPUs, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

async function post(url: string, body: string): Promise<{ status: number; id?: string }> {
  const res = await fetch(`${url}/v1/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200) return { status: res.status };
  return { status: res.status, id: SubmitResponse.parse(JSON.parse(text)).id };
}

async function runLoad(dir: string, options: LoadOptions = DEFAULT_LOAD): Promise<LoadResult> {
  // The whole Worker, as deployed (API, badges and on-demand pages), with the write limits lifted.
  const configPath = await liftedLimitsConfig(await buildWorker());
  const persistTo = join(dir, "load-state");
  await applyMigrations(persistTo);
  const preload = 200;
  // Enough distinct bundles for the writes of the whole run (ingest alone does ~150/s here).
  const distinct = Math.max(500, Math.ceil(options.seconds * 60));
  log(`load: signing ${preload + distinct} distinct bundles`);
  const seeded = await signBundles(preload, { prefix: "Load", boards: 8, models: 12 });
  const pool = await signBundles(distinct, { prefix: "Load", boards: 8, models: 12, keys: 32 });
  // Both lists use the same nonces with different keys: distinct devices, so no replay refusal.
  const expectedIds = new Set([...seeded, ...pool].map((b) => b.id));
  if (expectedIds.size !== preload + distinct) throw new Error("signed bundles are not all distinct");

  const port = await freePort();
  const worker = await startWorker({
    port,
    persistTo,
    demoKeyDir: join(dir, "key"),
    configPath,
  });
  try {
    const created = new Map<string, number>();
    const acknowledged = new Set<string>();
    let wrongIds = 0;
    const record = (bundle: SignedBundle, status: number, id: string | undefined) => {
      if (id === undefined) return;
      if (id !== bundle.id) wrongIds++;
      acknowledged.add(id);
      if (status === 201) created.set(id, (created.get(id) ?? 0) + 1);
    };

    log(`load: storing ${preload} runs first, so that reads find something`);
    const storedIds: string[] = [];
    for (const b of seeded) {
      const answer = await post(worker.url, b.body);
      if (answer.status !== 201) throw new Error(`preloading answered ${answer.status}`);
      record(b, answer.status, answer.id);
      storedIds.push(b.id);
    }

    const pairs = [...new Map(seeded.map((b) => [`${b.modelSlug}/${b.hardwareSlug}`, b])).values()];
    const boards = [...new Set(seeded.map((b) => b.hardwareSlug))];
    const probe = pairs[0] as SignedBundle;
    const badgeRes = await fetch(`${worker.url}/badge/${probe.modelSlug}/${probe.hardwareSlug}.svg`);
    await badgeRes.arrayBuffer();
    const badgeRoute = badgeRes.ok ? "/badge/<model>/<hardware>.svg" : "/v1/hardware";
    if (!badgeRes.ok) log(`load: GET /badge/… answered ${badgeRes.status}; reading /v1/hardware in its place`);

    const fresh = (): KindStats => ({ sent: 0, answered: 0, latencies: [], statuses: new Map() });
    const stats: Record<Kind, KindStats> = {
      write: fresh(),
      leaderboard: fresh(),
      run: fresh(),
      badge: fresh(),
      page: fresh(),
    };
    let step = 0;
    let writes = 0;
    let nextDistinct = 0;
    let repeatsSent = 0;
    const sentBundles = new Set<number>();
    const answeredBundles = new Set<number>();
    const writeUntil = Date.now() + (options.seconds - WRITE_DRAIN_S) * 1000;
    let lastKind: Kind | undefined;

    const setupRequest = (request: autocannon.Request, context: object): autocannon.Request => {
      const ctx = context as LoadContext;
      let kind = SCHEDULE[step % SCHEDULE.length] as Kind;
      step++;
      if (kind === "write" && Date.now() > writeUntil) kind = "leaderboard";
      stats[kind].sent++;
      ctx.kind = kind;
      ctx.bundle = undefined;
      if (kind === "write") {
        let index: number;
        const repeat = (writes + 1) % REPEAT_EVERY === 0 && nextDistinct > 0;
        if (repeat || nextDistinct >= pool.length) {
          // Recently sent: it may still be in flight, so the registry sees the same bytes twice at once.
          index = Math.max(0, nextDistinct - 1 - (writes % 5));
          repeatsSent++;
        } else {
          index = nextDistinct++;
        }
        writes++;
        sentBundles.add(index);
        ctx.bundle = index;
        return {
          ...request,
          method: "POST",
          path: "/v1/runs",
          headers: { "content-type": "application/json" },
          body: (pool[index] as SignedBundle).body,
        };
      }
      let path: string;
      if (kind === "leaderboard") {
        path = `/v1/leaderboard?hardware=${boards[step % boards.length]}&limit=50`;
      } else if (kind === "run") {
        path = `/v1/runs/${storedIds[(step * 7919) % storedIds.length]}`;
      } else if (kind === "page") {
        path =
          step % 2 === 0
            ? `/runs/${storedIds[(step * 104_729) % storedIds.length]}/`
            : `/hardware/${boards[step % boards.length]}/`;
      } else if (badgeRoute === "/v1/hardware") {
        path = "/v1/hardware";
      } else {
        const pair = pairs[step % pairs.length] as SignedBundle;
        path = `/badge/${pair.modelSlug}/${pair.hardwareSlug}.svg`;
      }
      return { ...request, method: "GET", path, headers: {}, body: "" };
    };

    const onResponse = (status: number, body: string, context: object) => {
      const ctx = context as LoadContext;
      const kind = ctx.kind as Kind;
      lastKind = kind;
      const s = stats[kind];
      s.answered++;
      s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
      if (kind === "write" && ctx.bundle !== undefined) {
        const bundle = pool[ctx.bundle] as SignedBundle;
        answeredBundles.add(ctx.bundle);
        if (status === 201 || status === 200) {
          const id = SubmitResponse.parse(JSON.parse(body)).id;
          record(bundle, status, id);
          if (status === 201) storedIds.push(id);
        }
      }
    };

    log(
      `load: ${options.seconds} s of mixed traffic, ${options.connections} connections, badge reads on ${badgeRoute}`,
    );
    const loadBefore = os.loadavg()[0] ?? 0;
    const started = performance.now();
    const result = await new Promise<autocannon.Result>((resolvePromise, reject) => {
      const instance = autocannon(
        {
          url: worker.url,
          connections: options.connections,
          pipelining: 1,
          duration: options.seconds,
          timeout: 10,
          requests: [{ setupRequest, onResponse }],
        },
        (error: Error | null, r: autocannon.Result) => (error ? reject(error) : resolvePromise(r)),
      );
      // Fired right after the request's onResponse, in the same tick: lastKind is this response's kind.
      instance.on("response", (_client, _status, _bytes, responseTime) => {
        if (lastKind) stats[lastKind].latencies.push(responseTime);
      });
    });
    const elapsed = (performance.now() - started) / 1000;
    const loadAfter = os.loadavg()[0] ?? 0;

    // A write whose answer was never seen (a timeout) is sent again, as a client would retry.
    const unanswered = [...sentBundles].filter((i) => !answeredBundles.has(i));
    for (const i of unanswered) {
      const bundle = pool[i] as SignedBundle;
      const answer = await post(worker.url, bundle.body);
      record(bundle, answer.status, answer.id);
    }
    // Stored while its only 201 was lost with a timed-out connection: acknowledged later with a 200.
    const lostAnswers = [...acknowledged].filter((id) => !created.has(id)).length;

    const stored = await storedRunIds(worker.url);
    const storedSet = new Set(stored);
    const created201 = [...created.values()].reduce((a, b) => a + b, 0);
    const storedUnexpected = stored.filter((id) => !expectedIds.has(id)).length;
    const sameAsAcknowledged =
      storedSet.size === acknowledged.size && [...acknowledged].every((id) => storedSet.has(id));
    const integrity =
      stored.length === storedSet.size &&
      created201 === created.size &&
      stored.length === created.size + lostAnswers &&
      sameAsAcknowledged &&
      storedUnexpected === 0 &&
      wrongIds === 0;
    return {
      options,
      seconds: elapsed,
      badgeRoute,
      stats,
      autocannon: {
        requests: result.requests.total,
        errors: result.errors,
        timeouts: result.timeouts,
        p50: result.latency.p50,
        p99: result.latency.p99,
        rps: result.requests.average,
      },
      preloaded: preload,
      distinctSigned: pool.length,
      distinctSent: nextDistinct,
      repeatsSent,
      created201,
      distinctCreated: created.size,
      retried: unanswered.length,
      lostAnswers,
      wrongIds,
      stored: stored.length,
      storedDistinct: storedSet.size,
      storedUnexpected,
      integrity,
      loadAverage: [loadBefore, loadAfter],
    };
  } finally {
    await worker.stop();
  }
}

const LABEL: Record<Kind, string> = {
  write: "`POST /v1/runs`",
  leaderboard: "`GET /v1/leaderboard?hardware=…`",
  run: "`GET /v1/runs/:id`",
  badge: "`GET /badge/<model>/<hardware>.svg`",
  page: "`GET /runs/:id/`, `GET /hardware/:slug/` (pages)",
};

function rows(r: LoadResult): string[] {
  return KINDS.map((k) => {
    const s = r.stats[k];
    const ok = [...s.statuses].filter(([code]) => code >= 200 && code < 300).reduce((a, [, n]) => a + n, 0);
    const non2xx = [...s.statuses].filter(([code]) => code < 200 || code >= 300);
    const codes = [...s.statuses]
      .sort(([a], [b]) => a - b)
      .map(([code, n]) => `${code}: ${n.toLocaleString("en-US")}`)
      .join(", ");
    const label =
      k === "badge" && r.badgeRoute === "/v1/hardware" ? "`GET /v1/hardware` (in place of badges)" : LABEL[k];
    return `| ${label} | ${s.answered.toLocaleString("en-US")} | ${fmt(s.answered / r.seconds)} | ${fmt(percentile(s.latencies, 50) ?? 0)} ms | ${fmt(percentile(s.latencies, 99) ?? 0)} ms | ${s.sent - s.answered} | ${non2xx.reduce((a, [, n]) => a + n, 0)} | ${codes || "none"} |${ok === 0 ? " no 2xx" : ""}`;
  });
}

function loadSection(r: LoadResult, measuredAt = new Date()): string {
  const total = KINDS.reduce((a, k) => a + r.stats[k].answered, 0);
  const writes = r.stats.write.answered;
  const badgeNote =
    r.badgeRoute === "/v1/hardware"
      ? "\nThe badge route (`/badge/<model>/<hardware>.svg`) was not there when this ran (it answered 404); the badge share\nof the traffic read `GET /v1/hardware` instead.\n"
      : "";
  return `## Load (\`npm run bench:load\`)

\`npm run bench:load -- --seconds ${r.options.seconds}\` (or \`npm run bench -- --only load\`), measured
${measuredAt.toISOString().slice(0, 16).replace("T", " ")} UTC on ${machine()}; the load generator shares
the machine with the registry (and, on this shared VM, with other work: the 1-minute load average was
${fmt(r.loadAverage[0], 2)} as the traffic started and ${fmt(r.loadAverage[1], 2)} as it stopped).

Sustained mixed traffic for ${r.options.seconds} s on loopback from [autocannon](https://github.com/mcollina/autocannon)
(programmatic API, ${r.options.connections} connections, one request in flight on each) against the local registry
(Miniflare serving the Worker \`astro build\` makes: workerd + local D1, rate limits lifted), which held
${r.preloaded} runs at the start. Pages are rendered on demand and cached by data version, so every accepted
submission makes the next read of each page a fresh render. One request in five is a submission of a distinct pre-signed bundle; one submission in ${REPEAT_EVERY} re-sends a bundle sent
shortly before, on purpose (answered 200 "already stored", or 201 to whichever copy was first when both were in
flight). Writes stop ${WRITE_DRAIN_S} s before the end so that every write's answer is counted; p50/p99 are over the
requests of each kind; "no answer" is a request still in flight when the clock stopped, or one that timed out.

| route | answered | per second | p50 | p99 | no answer | non-2xx | status codes |
|---|---|---|---|---|---|---|---|
${rows(r).join("\n")}
| all | ${total.toLocaleString("en-US")} | ${fmt(total / r.seconds)} | ${fmt(r.autocannon.p50)} ms | ${fmt(r.autocannon.p99)} ms | ${r.autocannon.errors} errors, ${r.autocannon.timeouts} timeouts | | |
${badgeNote}
**Nothing lost, nothing twice.** ${writes.toLocaleString("en-US")} submissions answered (${r.distinctSent.toLocaleString("en-US")} distinct
bundles, ${r.repeatsSent.toLocaleString("en-US")} re-sent); ${r.retried} unanswered ${r.retried === 1 ? "write was" : "writes were"} sent again afterwards. ${r.created201.toLocaleString("en-US")} answers were 201 for
${r.distinctCreated.toLocaleString("en-US")} distinct run ids (preloaded runs included), each the hash of the bundle sent; the export
(\`/v1/export/runs.ndjson\`) then listed ${r.stored.toLocaleString("en-US")} runs, ${r.storedDistinct.toLocaleString("en-US")} distinct, ${r.storedUnexpected} not among the signed bundles:
${r.integrity ? `**stored runs = distinct bundles accepted (201)${r.lostAnswers ? ` + ${r.lostAnswers} whose 201 was lost and whose retry answered 200` : ""}**, every acknowledged bundle stored exactly once.` : "**the check failed** (see the figures above)."}
`;
}

/** The sections of docs/BENCHMARKS.md by heading; replaces (or appends) the Load section. */
async function writeSection(text: string): Promise<string> {
  const file = join(ROOT, "docs", "BENCHMARKS.md");
  const current = await readFile(file, "utf8").catch(() => "# Benchmarks\n");
  const [head = "", ...parts] = current.split(/^(?=## )/m);
  const heading = text.split("\n")[0] as string;
  const sections = parts.map((p) => p.trimEnd());
  const at = sections.findIndex((p) => p.split("\n")[0] === heading);
  if (at >= 0) sections[at] = text.trimEnd();
  else sections.push(text.trimEnd());
  await writeFile(file, `${head.trimEnd()}\n\n${sections.join("\n\n")}\n`);
  await formatMarkdown(file);
  return file;
}

/**
 * The load's options from the value of `--seconds` (given to bench:load, or to bench for its Load
 * section); throws on a value that is not a whole number of seconds in range.
 */
export function loadOptionsFor(seconds: string | undefined): LoadOptions {
  if (seconds === undefined) return DEFAULT_LOAD;
  const value = Number(seconds);
  if (!/^\d+$/.test(seconds) || value < WRITE_DRAIN_S + 3 || value > 3600) {
    throw new Error(`--seconds takes a whole number from ${WRITE_DRAIN_S + 3} to 3600, not "${seconds}"`);
  }
  return { ...DEFAULT_LOAD, seconds: value };
}

/** The "Load" section for scripts/bench.ts. */
export async function benchLoad(dir: string, options: LoadOptions = DEFAULT_LOAD): Promise<string> {
  const result = await runLoad(dir, options);
  if (!result.integrity) {
    log("load: THE STORED RUNS DO NOT MATCH THE ACCEPTED BUNDLES");
    // The section is still written (it says the check failed), but the run must not pass for a good one.
    process.exitCode = 1;
  }
  return loadSection(result);
}

/** `--seconds N`, and nothing else: a mistyped flag must not run a minute of load with the defaults. */
function optionsFromArgs(args: string[]): LoadOptions {
  try {
    const { values } = parseArgs({ args, strict: true, options: { seconds: { type: "string" } } });
    return loadOptionsFor(values.seconds);
  } catch (error) {
    process.stderr.write(`bench:load: ${(error as Error).message}\nusage: npm run bench:load [-- --seconds N]\n`);
    process.exit(2);
  }
}

async function main() {
  const options = optionsFromArgs(process.argv.slice(2));
  const dir = await mkdtemp(join(os.tmpdir(), "edgebench-load-"));
  let result: LoadResult;
  try {
    result = await runLoad(dir, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const section = loadSection(result);
  process.stdout.write(`${section}\n`);
  log(`wrote the Load section of ${await writeSection(section)}`);
  if (!result.integrity) {
    log("load: THE STORED RUNS DO NOT MATCH THE ACCEPTED BUNDLES");
    process.exitCode = 1;
  }
}

if (resolve(process.argv[1] ?? "") === fileURLToPath(import.meta.url)) await main();
