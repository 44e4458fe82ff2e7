// The registry's benchmarks: ingest throughput against its floor, and the leaderboard's latency and
// D1 rows read at 10k, 100k and 1M runs. Called by scripts/bench.ts, which writes docs/BENCHMARKS.md.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { drizzle } from "drizzle-orm/d1";
import { getPlatformProxy } from "wrangler";
import { percentile } from "../cli/measure/stats.ts";
import { BatchResponse, MAX_BATCH_RUNS } from "../schema/api.ts";
import { Bundle } from "../schema/bundle.ts";
import { canonicalJson, type Envelope, runIdOf, verifyEnvelope } from "../schema/signing.ts";
import { cellOf, summarize } from "../schema/summary.ts";
import { versionKey } from "../schema/version-key.ts";
import { type SignOptions, signBundles } from "../test/support/load.ts";
import { hardwareCatalogQuery, leaderboardQuery, modelCatalogQuery } from "../workers/db/runs.ts";
import { apiConfig, applyMigrations, localD1File, ROOT, startWorker } from "./local-registry.ts";

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const fmt = (n: number, digits = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The SQLite file of the migrated local database under `persistTo`, written to directly by the floors. */
function d1File(persistTo: string): string {
  const file = localD1File(persistTo);
  if (file === undefined) throw new Error(`no local D1 database under ${persistTo}`);
  return file;
}

/** The bundles of the registry benchmarks: 20 boards × 50 models, signed with 16 keys. */
const BENCH_BUNDLES = { prefix: "Bench", boards: 20, models: 50, keys: 16 } satisfies SignOptions;

/** `n` distinct signed bundles, as envelopes to send. */
export async function benchEnvelopes(n: number, options: Partial<SignOptions> = {}): Promise<Envelope[]> {
  return (await signBundles(n, { ...BENCH_BUNDLES, ...options })).map((b) => b.envelope);
}

/**
 * The floor: the same verification and the same rows into plain SQLite, one bundle after another,
 * committing every `perTransaction` bundles (1, as a single submission; the batch size, as a batch).
 */
async function floor(envelopes: Envelope[], dbPath: string, perTransaction = 1): Promise<number> {
  const db = new DatabaseSync(dbPath);
  const ins = {
    device: db.prepare("insert or ignore into devices (id, public_key, first_seen_at, lineage) values (?, ?, ?, ?)"),
    hardware: db.prepare("insert or ignore into hardware (slug, name, first_seen_at) values (?, ?, ?)"),
    model: db.prepare("insert or ignore into models (slug, name, first_seen_at) values (?, ?, ?)"),
    run: db.prepare(
      `insert or ignore into runs (id, device_id, hardware_slug, hardware_name, model_slug, model_name, quantization, engine,
       engine_version, version_key, backend, decode_tps, decode_n_gen, prefill_tps, prefill_n_prompt, ttft_ms, load_ms,
       quality_status, flags, rank_group, decode_sort_key, prefill_sort_key, ttft_sort_key, cell, method, created_at,
       received_at, nonce, envelope) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    cell: db.prepare(
      `insert into cells (cell, hardware_slug, model_slug, visible_runs, best_decode_tps, runs, lineages, level, updated_at)
       values (?, ?, ?, 1, ?, 1, 1, 'single', ?) on conflict(cell) do update set runs = runs + 1, visible_runs = visible_runs + 1,
       best_decode_tps = max(coalesce(best_decode_tps, excluded.best_decode_tps), excluded.best_decode_tps)`,
    ),
    hardwareSummary: db.prepare(
      "update hardware set run_count = run_count + 1, best_decode_tps = max(coalesce(best_decode_tps, ?1), ?1) where slug = ?2",
    ),
    modelSummary: db.prepare("update models set run_count = run_count + 1 where slug = ?"),
  };
  const start = performance.now();
  for (const [index, envelope] of envelopes.entries()) {
    const verdict = await verifyEnvelope(envelope);
    if (!verdict.ok) throw new Error("floor: a bundle did not verify");
    const bundle = Bundle.parse(envelope.payload);
    const s = summarize(bundle);
    const id = await runIdOf(envelope);
    const now = new Date().toISOString();
    if (index % perTransaction === 0) db.exec("begin");
    ins.device.run(verdict.deviceId, envelope.publicKey, now, verdict.deviceId);
    ins.hardware.run(s.hardwareSlug, s.hardwareName, now);
    ins.model.run(s.modelSlug, s.modelName, now);
    ins.run.run(
      id,
      verdict.deviceId,
      s.hardwareSlug,
      s.hardwareName,
      s.modelSlug,
      s.modelName,
      s.quantization,
      s.engine,
      s.engineVersion,
      s.engineVersion ? versionKey(s.engineVersion) : null,
      s.backend,
      s.decodeTps,
      s.decodeNGen,
      s.prefillTps,
      s.prefillNPrompt,
      s.ttftMs,
      s.loadMs,
      s.qualityStatus,
      "[]",
      0,
      s.decodeTps ?? -1,
      s.prefillTps ?? -1,
      s.ttftMs ?? Number.MAX_VALUE,
      cellOf(s),
      s.method,
      s.createdAt,
      now,
      bundle.provenance.nonce ?? null,
      canonicalJson(envelope),
    );
    ins.cell.run(cellOf(s), s.hardwareSlug, s.modelSlug, s.decodeTps, now);
    ins.hardwareSummary.run(s.decodeTps, s.hardwareSlug);
    ins.modelSummary.run(s.modelSlug);
    if (index % perTransaction === perTransaction - 1 || index === envelopes.length - 1) db.exec("commit");
  }
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return envelopes.length / seconds;
}

/** The same handler inside workerd, called directly, one bundle after another (EDGEBENCH_BENCH=1 project). */
interface InRuntimeFigures {
  count: number;
  ms: number;
  created: number;
  batchSize: number;
  batchMs: number;
  batchCreated: number;
  roundTripMs: number;
}

async function ingestInRuntime(): Promise<InRuntimeFigures> {
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, "node_modules", "vitest", "vitest.mjs"), "run", "--project", "worker-bench"],
      { cwd: ROOT, env: { ...process.env, EDGEBENCH_BENCH: "1" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let text = "";
    child.stdout.on("data", (d) => {
      text += d;
    });
    child.stderr.on("data", (d) => {
      text += d;
    });
    child.on("close", (code) =>
      code === 0 ? resolve(text) : reject(new Error(`worker-bench exited ${code}:\n${text}`)),
    );
  });
  const line = output.match(/EDGEBENCH_BENCH (\{.*\})/)?.[1];
  if (!line) throw new Error(`worker-bench printed no figures:\n${output.slice(-2000)}`);
  return JSON.parse(line) as InRuntimeFigures;
}

/** Rounds of the noisiest figures; the best of each is reported. */
const ROUNDS = 3;

async function ingest(dir: string, config: string) {
  const n = 1000;
  log(`ingest: signing ${n} bundles`);
  const envelopes = await benchEnvelopes(n);
  const persistTo = join(dir, "ingest-state");
  await applyMigrations(persistTo);
  const latencies: number[] = [];
  let failed = 0;
  let throughput = 0;
  const batchLatencies: number[] = [];
  let batchCreated = 0;
  const batchRefusals = new Map<string, number>();
  let batchThroughput = 0;
  const batchConcurrency = 2;
  let batched: Envelope[] = [];
  let trivialRate = 0;
  const worker = await startWorker({
    port: 8811,
    persistTo,
    demoKeyDir: join(dir, "key"),
    configPath: config,
  });
  // Stopped whatever happens: a Worker left running would hold its port and workerd.
  try {
    const queue = [...envelopes];
    const concurrency = 8;
    log(`ingest: POSTing ${n} bundles, ${concurrency} at a time`);
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let e = queue.shift(); e; e = queue.shift()) {
          const t0 = performance.now();
          const res = await fetch(`${worker.url}/v1/runs`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(e),
          });
          await res.arrayBuffer();
          latencies.push(performance.now() - t0);
          if (res.status !== 201) failed++;
        }
      }),
    );
    throughput = n / ((performance.now() - start) / 1000);

    // Other bundles in batches of MAX_BATCH_RUNS, one key per batch (as an outbox or an import sends
    // them), in ROUNDS rounds of new bundles: the best round is reported, as for the floor.
    for (let round = 1; round <= ROUNDS; round++) {
      batched = await benchEnvelopes(n, {
        noncePrefix: `batch${round}`,
        keyIndex: (i) => Math.floor(i / MAX_BATCH_RUNS),
      });
      const batches: Envelope[][] = [];
      for (let b = 0; b < n; b += MAX_BATCH_RUNS) batches.push(batched.slice(b, b + MAX_BATCH_RUNS));
      log(
        `ingest: POSTing ${n} bundles in batches of ${MAX_BATCH_RUNS}, ${batchConcurrency} requests at a time (round ${round})`,
      );
      const batchStart = performance.now();
      await Promise.all(
        Array.from({ length: batchConcurrency }, async () => {
          for (let envelopesOf = batches.shift(); envelopesOf; envelopesOf = batches.shift()) {
            const t0 = performance.now();
            const res = await fetch(`${worker.url}/v1/runs/batch`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ envelopes: envelopesOf }),
            });
            const answer = BatchResponse.parse(await res.json());
            batchCreated += answer.created;
            for (const item of answer.items) {
              // A 200 is a resend of stored bytes (a client may retry a request whose answer it lost).
              const outcome =
                "error" in item
                  ? `${item.status} ${item.error.code}: ${item.error.message}`
                  : item.created
                    ? null
                    : "200 already stored";
              if (outcome) batchRefusals.set(outcome, (batchRefusals.get(outcome) ?? 0) + 1);
            }
            batchLatencies.push(performance.now() - t0);
          }
        }),
      );
      batchThroughput = Math.max(batchThroughput, n / ((performance.now() - batchStart) / 1000));
    }
    // The dev server's own ceiling: a request the Worker answers without touching D1 (a 404 under /v1).
    const trivial = 2000;
    let sent = 0;
    const trivialStart = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (; sent < trivial; sent++) await (await fetch(`${worker.url}/v1/no-such-route`)).arrayBuffer();
      }),
    );
    trivialRate = trivial / ((performance.now() - trivialStart) / 1000);
  } finally {
    await worker.stop();
  }
  // This VM's speed drifts by tens of percent from minute to minute: the in-runtime figures and the
  // floors are taken in alternation, ROUNDS times, and each reported as its best round.
  let inRuntime: InRuntimeFigures | undefined;
  let floorRate = 0;
  let batchFloorRate = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    log(`ingest: in the runtime, without an HTTP server (test/bench/ingest-in-runtime.test.ts), round ${round}`);
    const figures = await ingestInRuntime();
    inRuntime = {
      ...figures,
      ms: Math.min(figures.ms, inRuntime?.ms ?? Number.POSITIVE_INFINITY),
      batchMs: Math.min(figures.batchMs, inRuntime?.batchMs ?? Number.POSITIVE_INFINITY),
      roundTripMs: Math.min(figures.roundTripMs, inRuntime?.roundTripMs ?? Number.POSITIVE_INFINITY),
    };
    log(`ingest: the floors (verification + plain SQLite inserts of the same rows), round ${round}`);
    const floorState = join(dir, `floor-state-${round}`);
    await applyMigrations(floorState);
    floorRate = Math.max(floorRate, await floor(envelopes, d1File(floorState)));
    const batchFloorState = join(dir, `floor-batch-state-${round}`);
    await applyMigrations(batchFloorState);
    batchFloorRate = Math.max(batchFloorRate, await floor(batched, d1File(batchFloorState), MAX_BATCH_RUNS));
  }
  if (!inRuntime) throw new Error("no in-runtime figures");
  return {
    n,
    failed,
    throughput,
    trivialRate,
    inRuntime,
    floorRate,
    batchFloorRate,
    p50: percentile(latencies, 50) as number,
    p99: percentile(latencies, 99) as number,
    batch: {
      created: batchCreated,
      refusals: [...batchRefusals].map(([outcome, count]) => `${count} × ${outcome}`),
      concurrency: batchConcurrency,
      throughput: batchThroughput,
      p50: percentile(batchLatencies, 50) as number,
      p99: percentile(batchLatencies, 99) as number,
    },
  };
}

/**
 * Synthetic runs straight into the local D1 file: 100 boards (or `boards`) × 200 models, realistic
 * spreads; each run's stored envelope is `envelope` (a real signed one, for pages that show a run).
 */
export function fillRuns(file: string, count: number, options: { boards?: number; envelope?: string } = {}) {
  const boards = options.boards ?? 100;
  const db = new DatabaseSync(file);
  const now = "2026-11-22T00:00:00.000Z";
  db.exec("begin");
  const device = db.prepare(
    "insert or ignore into devices (id, public_key, first_seen_at, lineage) values (?, ?, ?, ?)",
  );
  const hw = db.prepare("insert or ignore into hardware (slug, name, first_seen_at) values (?, ?, ?)");
  const model = db.prepare("insert or ignore into models (slug, name, first_seen_at) values (?, ?, ?)");
  for (let d = 0; d < 1000; d++) device.run(`d${d}`.padEnd(24, "0"), "x", now, `d${d}`.padEnd(24, "0"));
  for (let h = 0; h < boards; h++) hw.run(`hw-${h}`, `Hardware ${h}`, now);
  for (let m = 0; m < 200; m++) model.run(`model-${m}`, `Model ${m}`, now);
  const run = db.prepare(
    `insert into runs (id, device_id, hardware_slug, hardware_name, model_slug, model_name, quantization, engine, decode_tps,
     prefill_tps, ttft_ms, quality_status, quality_score, flags, rank_group, decode_sort_key, prefill_sort_key, ttft_sort_key, cell, method,
     created_at, received_at, envelope) values (?, ?, ?, ?, ?, ?, 'Q4_K_M', 'llama.cpp', ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?, ?, 'measured', ?, ?, ?)`,
  );
  for (let i = 0; i < count; i++) {
    const h = i % boards;
    const m = (i * 7) % 200;
    const decode = 1 + ((i * 7919) % 1000) / 10;
    const prefill = decode * 20;
    const ttft = 1000 / decode;
    const fail = i % 17 === 0;
    run.run(
      i.toString(16).padStart(24, "0"),
      `d${i % 1000}`.padEnd(24, "0"),
      `hw-${h}`,
      `Hardware ${h}`,
      `model-${m}`,
      `Model ${m}`,
      decode,
      prefill,
      ttft,
      fail ? "fail" : "pass",
      0.4 + ((i * 31) % 50) / 100,
      fail ? 1 : 0,
      decode,
      prefill,
      ttft,
      `hw-${h}|model-${m}|q4_k_m|llama.cpp`,
      now,
      now,
      options.envelope ?? "{}",
    );
  }
  // Every cell of the synthetic runs and the catalog summaries, as ingest would have left them.
  db.exec(`insert or ignore into cells (cell, hardware_slug, model_slug, visible_runs, best_decode_tps, quantization, runs, lineages, level, updated_at)
    select cell, hardware_slug, model_slug, count(*), max(case when rank_group = 0 then decode_tps end), max(quantization), count(*), 1, 'single', '2026-11-22'
    from runs group by cell`);
  db.exec(`update hardware set run_count = (select sum(visible_runs) from cells where cells.hardware_slug = hardware.slug),
    model_count = (select count(distinct model_slug) from cells where cells.hardware_slug = hardware.slug),
    best_decode_tps = (select max(best_decode_tps) from cells where cells.hardware_slug = hardware.slug)`);
  db.exec(`update models set run_count = (select coalesce(sum(visible_runs), 0) from cells where cells.model_slug = models.slug),
    hardware_count = (select count(distinct hardware_slug) from cells where cells.model_slug = models.slug)`);
  db.exec("commit");
  db.close();
}

/** Runs one SQL statement `times` times through the D1 binding: D1's rows_read, rows returned, p50. */
async function timedQuery(
  d1: Parameters<typeof drizzle>[0],
  query: { sql: string; params: unknown[] },
  times: number,
): Promise<{ returned: number; rowsRead: number; p50: number }> {
  const spans: number[] = [];
  let rowsRead = 0;
  let returned = 0;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    const result = await d1
      .prepare(query.sql)
      .bind(...query.params)
      .all();
    spans.push(performance.now() - t0);
    rowsRead = (result.meta as { rows_read: number }).rows_read;
    returned = result.results.length;
  }
  return { returned, rowsRead, p50: percentile(spans, 50) as number };
}

async function readCost(dir: string, config: string, sizes: number[]) {
  const rows: Array<{ size: number; query: string; returned: number; rowsRead: number; p50: number; p50Http: number }> =
    [];
  const catalogRows: Array<{ size: number; query: string; returned: number; rowsRead: number; p50: number }> = [];
  for (const size of sizes) {
    const persistTo = join(dir, `read-${size}`);
    await applyMigrations(persistTo);
    log(`read cost: inserting ${size.toLocaleString()} synthetic runs`);
    fillRuns(d1File(persistTo), size);
    const queries = [
      { label: "hardware, decode", q: { hardware: "hw-7", metric: "decode_tps" as const, limit: 50 } },
      { label: "hardware, ttft", q: { hardware: "hw-7", metric: "ttft_ms" as const, limit: 50 } },
      { label: "model, decode", q: { model: "model-14", metric: "decode_tps" as const, limit: 50 } },
    ];
    const proxy = await getPlatformProxy<{ DB: Parameters<typeof drizzle>[0] }>({
      configPath: config,
      // getPlatformProxy takes the versioned directory that wrangler dev creates under --persist-to.
      persist: { path: join(persistTo, "v3") },
    });
    try {
      const db = drizzle(proxy.env.DB);
      for (const { label, q } of queries) {
        const measured = await timedQuery(proxy.env.DB, leaderboardQuery(db, q).toSQL(), 30);
        rows.push({ size, query: label, ...measured, p50Http: 0 });
      }
      // The catalogs read their summary rows (kept by cellWrites at every change to runs).
      for (const [label, query] of [
        ["catalog: hardware", hardwareCatalogQuery(db)],
        ["catalog: models", modelCatalogQuery(db)],
      ] as const) {
        catalogRows.push({ size, query: label, ...(await timedQuery(proxy.env.DB, query.toSQL(), 3)) });
      }
    } finally {
      await proxy.dispose();
    }
    const opened = performance.now();
    const worker = await startWorker({
      port: 8812,
      persistTo,
      demoKeyDir: join(dir, "key"),
      configPath: config,
      startupTimeoutMs: 900_000,
    });
    try {
      log(`read cost: the Worker answered after ${fmt((performance.now() - opened) / 1000)} s on ${size} runs`);
      for (const row of rows.filter((r) => r.size === size)) {
        const query = row.query.startsWith("model") ? "model=model-14" : "hardware=hw-7";
        const metric = row.query.endsWith("ttft") ? "ttft_ms" : "decode_tps";
        const times: number[] = [];
        for (let i = 0; i < 30; i++) {
          const t0 = performance.now();
          await (await fetch(`${worker.url}/v1/leaderboard?${query}&metric=${metric}&limit=50`)).arrayBuffer();
          times.push(performance.now() - t0);
        }
        row.p50Http = percentile(times, 50) as number;
      }
    } finally {
      await worker.stop();
    }
  }
  return { rows, catalogRows };
}

export async function benchApi(dir: string): Promise<string> {
  const config = await apiConfig(dir, { liftLimits: true });
  const i = await ingest(dir, config);
  const { rows: reads, catalogRows } = await readCost(dir, config, [10_000, 100_000, 1_000_000]);
  const readRows = reads.map(
    (r) =>
      `| ${r.size.toLocaleString("en-US")} | ${r.query} | ${r.returned} | ${r.rowsRead} | ${fmt(r.rowsRead / Math.max(r.returned, 1), 2)} | ${fmt(r.p50, 2)} ms | ${fmt(r.p50Http, 2)} ms |`,
  );
  const r = i.inRuntime;
  const inRuntimeBatchRate = r.count / (r.batchMs / 1000);
  const ratio = (rate: number, floorRate: number) => fmt(rate / floorRate, 2);
  const batchRatio = Math.min(i.batch.throughput, inRuntimeBatchRate) / i.batchFloorRate;
  const singleRatio = Math.max(i.throughput, r.count / (r.ms / 1000)) / i.floorRate;
  return `## Registry (\`POST /v1/runs\`, leaderboards)

**Ingest** on the local runtime (workerd + local D1; rate limits lifted): ${i.n} distinct signed bundles from one
client on the same machine, one at a time (\`POST /v1/runs\`) and, with ${i.n} other bundles, in batches of ${r.batchSize}
(\`POST /v1/runs/batch\`, one key per batch, as \`edgebench import --submit\` and \`outbox flush\` send them); each
through the local Worker (HTTP, workerd via Miniflare) and, in the same run, through the same handlers called directly inside workerd, one
request after another (\`test/bench/ingest-in-runtime.test.ts\`, after 100 warm-up bundles). p50/p99 are per request.
Each is compared with the floor that commits as it does: one bundle a transaction, or ${r.batchSize}. This VM's speed drifts
by tens of percent from minute to minute, so the batches over HTTP, the in-runtime figures and the floors are taken
in ${ROUNDS} rounds (in-runtime and floors in alternation) and each is given as its best round.

| | bundles/s | p50 | p99 | ratio to its floor (target ≥ 0.5) |
|---|---|---|---|---|
| \`POST /v1/runs\` over HTTP on the local Worker (workerd via Miniflare), 8 requests in flight | ${fmt(i.throughput)} | ${fmt(i.p50)} ms | ${fmt(i.p99)} ms | ${ratio(i.throughput, i.floorRate)} |
| \`POST /v1/runs\` inside workerd, no HTTP server, sequential | ${fmt(r.count / (r.ms / 1000))} | | | ${ratio(r.count / (r.ms / 1000), i.floorRate)} |
| floor: Ed25519 verification + zod validation + the same rows (run, device, hardware, model, cell, catalog summaries) into plain SQLite (node:sqlite), one bundle a transaction | ${fmt(i.floorRate)} | | | 1 |
| \`POST /v1/runs/batch\` (${r.batchSize} a request) over HTTP on the local Worker (workerd via Miniflare), ${i.batch.concurrency} requests in flight | ${fmt(i.batch.throughput)} | ${fmt(i.batch.p50)} ms | ${fmt(i.batch.p99)} ms | ${ratio(i.batch.throughput, i.batchFloorRate)} |
| \`POST /v1/runs/batch\` (${r.batchSize} a request) inside workerd, no HTTP server, sequential | ${fmt(inRuntimeBatchRate)} | | | ${ratio(inRuntimeBatchRate, i.batchFloorRate)} |
| floor, ${r.batchSize} bundles a transaction | ${fmt(i.batchFloorRate)} | | | 1 |
| for scale: a request the Worker answers without D1, over HTTP on the local Worker (workerd via Miniflare) | ${fmt(i.trivialRate)} | | | |

${i.failed ? `${i.failed} single requests did not answer 201.` : "Every single request answered 201"}; the batches stored ${i.batch.created} of ${ROUNDS * i.n} over HTTP${i.batch.refusals.length ? ` (the others: ${i.batch.refusals.join("; ")})` : ""} and ${r.batchCreated} of ${i.n} a round in the runtime.

${batchRatio >= 0.5 ? `**The target is met by the batch route** (${fmt(batchRatio, 2)} of its floor at worst)` : `**The target is not met by the batch route** (${fmt(batchRatio, 2)} of its floor at worst)`}; one bundle a request
${singleRatio >= 0.5 ? "meets it too" : `reaches ${fmt(singleRatio, 2)} of its floor at best`}, and the reason is the local runtime's cost per call.
Every call from the Worker to a binding costs CPU time in the one local workerd process: a round trip to the local D1
(\`select 1\`) took ${fmt(r.roundTripMs, 2)} ms, and the two share one core, so requests in flight do not overlap. The
rate limiters are not such calls here: the local Worker counts in its own isolate (\`scripts/local-rate-limit.ts\`). A
single submission makes one (a batch that checks what its decision assumed and writes everything it stores); the floor
makes none, since node:sqlite runs in-process. A batch makes two (one batched read of everything the decisions need,
one batched write) for up to ${r.batchSize} bundles, so its cost per bundle is the verification, the validation and the
SQLite work, as the floor's is.
The decision reads D1 once and writes once whatever the batch size, each bundle decided as if it came alone and in order
(\`test/worker/runs.batch.test.ts\` checks that a batch leaves the database exactly as the same bundles posted one by one).

**Leaderboard read cost**: synthetic runs (100 boards × 200 models, 1 in 17 failing quality) written straight into
the local D1 database; \`rows_read\` is D1's own count for the leaderboard's SQL (the same query builder the route
uses, \`leaderboardQuery\` in \`workers/db/runs.ts\`); p50 over 30 queries through the D1 binding and over HTTP
(\`GET /v1/leaderboard?…&limit=50\` on the local Worker). Target: rows read ≤ 2 × rows returned.

| runs | query | rows returned | rows read | read ÷ returned | p50 (D1) | p50 (HTTP) |
|---|---|---|---|---|---|---|
${readRows.join("\n")}

The leaderboard walks one index (\`runs_hardware_rank\`, \`runs_hardware_ttft\`, \`runs_model_rank\`) in order and stops
after limit + 1 rows (the extra row tells whether there is a next page); the cell's reproduction level is copied
onto each run when it changes, so the query reads no other table.

**Catalog read cost** (\`GET /v1/hardware\`, \`GET /v1/models\`: every entry with its run count, model count and best
ranked decode), on the same databases, p50 of 3:

| runs | query | entries returned | rows read | p50 (D1) |
|---|---|---|---|---|
${catalogRows.map((r) => `| ${r.size.toLocaleString("en-US")} | ${r.query} | ${r.returned} | ${r.rowsRead.toLocaleString("en-US")} | ${fmt(r.p50, 0)} ms |`).join("\n")}

The catalogs read one summary row per entry (\`hardware\` and \`models\` carry their run count, model or hardware
count and best ranked decode), so their cost follows the size of the catalog, not of the registry. The summaries are
rewritten from the cells in the same D1 batch as every change to a run (ingest, hide, unhide, retraction, a
ranked-apart annotation: \`cellWrites\` in \`workers/db/runs.ts\`); \`test/worker/catalog-summary.test.ts\` checks
them against the aggregate over every run after each kind of change.
`;
}
