// The registry's benchmarks: ingest throughput against its floor, and the leaderboard's latency and
// D1 rows read at 10k, 100k and 1M runs. Called by scripts/bench.ts, which writes docs/BENCHMARKS.md.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { drizzle } from "drizzle-orm/d1";
import { getPlatformProxy } from "wrangler";
import { percentile } from "../cli/measure/stats.ts";
import { Bundle } from "../schema/bundle.ts";
import {
  canonicalJson,
  type Envelope,
  generateKeyPair,
  runIdOf,
  signPayload,
  verifyEnvelope,
} from "../schema/signing.ts";
import { cellOf, summarize } from "../schema/summary.ts";
import { versionKey } from "../schema/version-key.ts";
import { makeBundle } from "../test/support/bundles.ts";
import { leaderboardQuery } from "../workers/db/runs.ts";
import { applyMigrations, ROOT, startWorker } from "./local-registry.ts";

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const fmt = (n: number, digits = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** wrangler.toml with the write limits lifted (a benchmark is one client sending as fast as it can). */
export async function benchConfig(dir: string): Promise<string> {
  const original = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  const text = original
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(ROOT, "workers", "index.ts"))}`)
    .replace(/^migrations_dir = .*$/m, `migrations_dir = ${JSON.stringify(join(ROOT, "migrations"))}`)
    .replace(/^directory = .*$/m, `directory = ${JSON.stringify(join(dir, "site"))}`)
    .replace(/simple = \{ limit = \d+/g, "simple = { limit = 100000000")
    // Other "./…" paths (e.g. [alias]) are relative to the config file, which now lives elsewhere.
    .replace(/"(\.\.?\/[^"]*)"/g, (_match, relative: string) => JSON.stringify(join(ROOT, relative)));
  const path = join(dir, "wrangler.bench.toml");
  await writeFile(path, text);
  return path;
}

async function d1File(persistTo: string): Promise<string> {
  const dir = join(persistTo, "v3", "d1", "miniflare-D1DatabaseObject");
  const file = (await readdir(dir)).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (!file) throw new Error(`no D1 database under ${dir}`);
  return join(dir, file);
}

export async function signedBundles(n: number): Promise<Envelope[]> {
  const keys = await Promise.all(Array.from({ length: 16 }, () => generateKeyPair()));
  const out: Envelope[] = [];
  for (let i = 0; i < n; i++) {
    const bundle = makeBundle({
      board: `Bench Board ${i % 20}`,
      model: `Bench-Model-${i % 50}`,
      decodeTps: 5 + (i % 97) / 10,
    });
    bundle.provenance.nonce = `bench-${i.toString().padStart(8, "0")}`;
    out.push(
      await signPayload(
        bundle,
        (keys[i % keys.length] as { privateKey: Parameters<typeof signPayload>[1] }).privateKey,
      ),
    );
  }
  return out;
}

/** The floor: the same verification and the same rows into plain SQLite, one bundle after another. */
async function floor(envelopes: Envelope[], dbPath: string): Promise<number> {
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
      "insert into cells (cell, runs, lineages, level, updated_at) values (?, 1, 1, 'single', ?) on conflict(cell) do update set runs = runs + 1",
    ),
  };
  const start = performance.now();
  for (const envelope of envelopes) {
    const verdict = await verifyEnvelope(envelope);
    if (!verdict.ok) throw new Error("floor: a bundle did not verify");
    const bundle = Bundle.parse(envelope.payload);
    const s = summarize(bundle);
    const id = await runIdOf(envelope);
    const now = new Date().toISOString();
    db.exec("begin");
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
    ins.cell.run(cellOf(s), now);
    db.exec("commit");
  }
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return envelopes.length / seconds;
}

async function ingest(dir: string, config: string) {
  const n = 1000;
  log(`ingest: signing ${n} bundles`);
  const envelopes = await signedBundles(n);
  const persistTo = join(dir, "ingest-state");
  await applyMigrations(persistTo);
  const worker = await startWorker({
    port: 8811,
    persistTo,
    assetsDir: join(dir, "site"),
    demoKeyDir: join(dir, "key"),
    configPath: config,
  });
  const latencies: number[] = [];
  let failed = 0;
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
  const throughput = n / ((performance.now() - start) / 1000);
  await worker.stop();
  log("ingest: the floor (verification + plain SQLite inserts of the same rows)");
  const floorState = join(dir, "floor-state");
  await applyMigrations(floorState);
  const floorRate = await floor(envelopes, await d1File(floorState));
  return {
    n,
    failed,
    throughput,
    floorRate,
    p50: percentile(latencies, 50) as number,
    p99: percentile(latencies, 99) as number,
  };
}

/** Synthetic runs straight into the local D1 file: 100 boards × 200 models, realistic spreads. */
function fillRuns(file: string, count: number) {
  const db = new DatabaseSync(file);
  const now = "2026-11-22T00:00:00.000Z";
  db.exec("begin");
  const device = db.prepare(
    "insert or ignore into devices (id, public_key, first_seen_at, lineage) values (?, ?, ?, ?)",
  );
  const hw = db.prepare("insert or ignore into hardware (slug, name, first_seen_at) values (?, ?, ?)");
  const model = db.prepare("insert or ignore into models (slug, name, first_seen_at) values (?, ?, ?)");
  for (let d = 0; d < 1000; d++) device.run(`d${d}`.padEnd(24, "0"), "x", now, `d${d}`.padEnd(24, "0"));
  for (let h = 0; h < 100; h++) hw.run(`hw-${h}`, `Hardware ${h}`, now);
  for (let m = 0; m < 200; m++) model.run(`model-${m}`, `Model ${m}`, now);
  const run = db.prepare(
    `insert into runs (id, device_id, hardware_slug, hardware_name, model_slug, model_name, quantization, engine, decode_tps,
     prefill_tps, ttft_ms, quality_status, flags, rank_group, decode_sort_key, prefill_sort_key, ttft_sort_key, cell, method,
     created_at, received_at, envelope) values (?, ?, ?, ?, ?, ?, 'Q4_K_M', 'llama.cpp', ?, ?, ?, ?, '[]', ?, ?, ?, ?, ?, 'measured', ?, ?, '{}')`,
  );
  for (let i = 0; i < count; i++) {
    const h = i % 100;
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
      fail ? 1 : 0,
      decode,
      prefill,
      ttft,
      `hw-${h}|model-${m}|q4_k_m|llama.cpp`,
      now,
      now,
    );
  }
  // Every cell of the synthetic runs, so the leaderboard's join to its reproduction level reads rows as it would.
  db.exec(
    "insert or ignore into cells (cell, runs, lineages, level, updated_at) select cell, count(*), 1, 'single', '2026-11-22' from runs group by cell",
  );
  db.exec("commit");
  db.close();
}

async function readCost(dir: string, config: string, sizes: number[]) {
  const rows: Array<{ size: number; query: string; returned: number; rowsRead: number; p50: number; p50Http: number }> =
    [];
  for (const size of sizes) {
    const persistTo = join(dir, `read-${size}`);
    await applyMigrations(persistTo);
    log(`read cost: inserting ${size.toLocaleString()} synthetic runs`);
    fillRuns(await d1File(persistTo), size);
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
    const db = drizzle(proxy.env.DB);
    for (const { label, q } of queries) {
      const { sql, params } = leaderboardQuery(db, q).toSQL();
      const times: number[] = [];
      let meta = { rows_read: 0 };
      let returned = 0;
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        const result = await proxy.env.DB.prepare(sql)
          .bind(...params)
          .all();
        times.push(performance.now() - t0);
        meta = result.meta as { rows_read: number };
        returned = result.results.length;
      }
      rows.push({
        size,
        query: label,
        returned,
        rowsRead: meta.rows_read,
        p50: percentile(times, 50) as number,
        p50Http: 0,
      });
    }
    await proxy.dispose();
    const worker = await startWorker({
      port: 8812,
      persistTo,
      assetsDir: join(dir, "site"),
      demoKeyDir: join(dir, "key"),
      configPath: config,
    });
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
    await worker.stop();
  }
  return rows;
}

export async function benchApi(dir: string): Promise<string> {
  const config = await benchConfig(dir);
  const i = await ingest(dir, config);
  const reads = await readCost(dir, config, [10_000, 100_000, 1_000_000]);
  const share = i.throughput / i.floorRate;
  const readRows = reads.map(
    (r) =>
      `| ${r.size.toLocaleString("en-US")} | ${r.query} | ${r.returned} | ${r.rowsRead} | ${fmt(r.rowsRead / Math.max(r.returned, 1), 2)} | ${fmt(r.p50, 2)} ms | ${fmt(r.p50Http, 2)} ms |`,
  );
  return `## Registry (\`POST /v1/runs\`, leaderboards)

**Ingest** on the local runtime (\`wrangler dev\`, workerd + local D1; rate limits lifted): ${i.n} distinct signed
bundles, 8 requests in flight, from one client on the same machine.

| | bundles/s | p50 | p99 |
|---|---|---|---|
| \`POST /v1/runs\` (verify, validate, plausibility, one D1 batch) | ${fmt(i.throughput)} | ${fmt(i.p50)} ms | ${fmt(i.p99)} ms |
| floor: Ed25519 verification + zod validation + the same rows into plain SQLite (node:sqlite), sequential | ${fmt(i.floorRate)} | | |
| ratio (target ≥ 0.5) | ${fmt(share, 2)} | | |

${i.failed ? `${i.failed} requests did not answer 201.` : "Every request answered 201."}

**Leaderboard read cost**: synthetic runs (100 boards × 200 models, 1 in 17 failing quality) written straight into
the local D1 database; \`rows_read\` is D1's own count for the leaderboard's SQL (the same query builder the route
uses, \`leaderboardQuery\` in \`workers/db/runs.ts\`); p50 over 30 queries through the D1 binding and over HTTP
(\`GET /v1/leaderboard?…&limit=50\` on \`wrangler dev\`). Target: rows read ≤ 2 × rows returned.

| runs | query | rows returned | rows read | read ÷ returned | p50 (D1) | p50 (HTTP) |
|---|---|---|---|---|---|---|
${readRows.join("\n")}

The leaderboard walks one index (\`runs_hardware_rank\`, \`runs_hardware_ttft\`, \`runs_model_rank\`) in order and stops
after limit + 1 rows; each row also reads its cell's reproduction level (one primary-key lookup), which is why rows
read is about twice the rows returned.
`;
}
