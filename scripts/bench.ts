// `npm run bench`: the speed figures that do not belong in timed unit tests, written to
// docs/BENCHMARKS.md with the command and the machine they were measured on.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { physicalCores } from "../cli/device/fingerprint.ts";
import { writeFixtureModel } from "../cli/gguf/fixtures.ts";
import { sha256File } from "../cli/lib/hash.ts";
import { closeEngine, openEngine, runTest } from "../cli/measure/engine.ts";
import type { TestSpec } from "../cli/measure/protocol.ts";
import { Recorder } from "../cli/measure/recorder.ts";
import { median } from "../cli/measure/stats.ts";
import { PERPLEXITY_TEXT } from "../cli/quality/perplexity-text.ts";
import { VERSION } from "../cli/version.ts";
import { Bundle } from "../schema/bundle.ts";
import { summarize } from "../schema/summary.ts";
import { benchApi } from "./bench-api.ts";
import { benchCli } from "./bench-cli.ts";
import { benchLoad, type LoadOptions, loadOptionsFor } from "./bench-load.ts";
import { benchRegistry } from "./bench-registry.ts";
import { benchSite } from "./bench-site.ts";
import { benchStart } from "./bench-start.ts";
import { formatMarkdown } from "./format-markdown.ts";
import { ROOT } from "./local-registry.ts";

const LARGEST_PARAMS = 100_000_000;
const OUT = join(ROOT, "docs", "BENCHMARKS.md");

const fmt = (n: number, digits = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

function log(line: string) {
  process.stderr.write(`bench: ${line}\n`);
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

function cli(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "cli", "bin.js"), ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "inherit"],
    });
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

/**
 * The fidelity plan per thread count: generations of each size after one warm-up, as edgebench run does.
 * Small enough for a 2-vCPU machine, where 2 spinning threads decode at a few tokens a second under load.
 */
const FIDELITY_PLAN = [{ nGen: 128, generations: 5 }] as const;

interface FidelityRow {
  threads: number;
  nGen: number;
  generations: number;
  /** edgebench's headline: the median of the engine-timed repetitions, as the bundle states it. */
  edgebench: number;
  timing: string;
  /** llama.cpp's own "tokens per second" for the same generations (median). */
  llamaCpp: number;
  /** edgebench's delivered rate for the same generations (median). */
  delivered: number;
}

/**
 * edgebench's headline decode against llama.cpp's own eval timing for the very same generations. The
 * generations go through edgebench's own path (runTest, then the Recorder that builds the bundle's
 * measurements); llama.cpp's figure is what llama_perf_context_print says after each of them, read
 * here from the log.
 */
async function fidelity(model: string, threads: number): Promise<FidelityRow[]> {
  const logs: string[] = [];
  const { engine } = await openEngine(
    { modelPath: model, threads, contextSize: 1024, batchSize: 512, gpu: "cpu", promptText: PERPLEXITY_TEXT.text },
    { logger: (_level, message) => logs.push(message) },
  );
  const rows: FidelityRow[] = [];
  try {
    for (const { nGen, generations } of FIDELITY_PLAN) {
      const rec = new Recorder();
      const spec: TestSpec = { kind: "decode", nPrompt: 16, nGen };
      rec.result(spec, await runTest(engine, spec), { cold: false, warmup: true, label: "warm-up" });
      const llamaCpp: number[] = [];
      for (let i = 0; i < generations; i++) {
        logs.length = 0;
        rec.result(spec, await runTest(engine, spec), { cold: false, label: `rep ${i + 1}` });
        // The counters printed after the generation (the ones printed before it were reset to zero).
        const line = logs.filter((l) => /\beval time\b/.test(l) && !/prompt eval/.test(l)).at(-1);
        const match = line?.match(/([\d.]+) tokens per second/);
        if (!match) throw new Error(`llama.cpp printed no eval timing: ${logs.join(" | ")}`);
        llamaCpp.push(Number(match[1]));
      }
      const measurements = rec.measurements();
      const headline = measurements.find((m) => m.label === `tg${nGen}`);
      const delivered = measurements.find((m) => m.label === `tg${nGen} delivered`);
      if (headline?.median === undefined) throw new Error(`no tg${nGen} measurement`);
      rows.push({
        threads,
        nGen,
        generations,
        edgebench: headline.median,
        timing: headline.timing ?? "unstated",
        llamaCpp: median(llamaCpp) as number,
        delivered: delivered?.median ?? Number.NaN,
      });
    }
  } finally {
    await closeEngine(engine);
  }
  return rows;
}

const FIDELITY_GOAL = 0.03;

/**
 * Each configuration in a process of its own: node-llama-cpp delivers llama.cpp's log to the first
 * Llama instance of a process only, and edgebench itself loads one model per measurement process.
 */
const FIDELITY_WORKER = "EDGEBENCH_BENCH_FIDELITY";

function fidelityInProcess(model: string, threads: number): Promise<FidelityRow[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.filename], {
      env: { ...process.env, [FIDELITY_WORKER]: JSON.stringify({ model, threads }) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on("exit", (code) => {
      const last = out.trim().split("\n").at(-1) ?? "";
      if (code === 0 && last.startsWith("[")) resolve(JSON.parse(last) as FidelityRow[]);
      else reject(new Error(`the fidelity run (${threads} threads) exited with ${code}`));
    });
  });
}

async function measureSection(dir: string): Promise<string> {
  const model = join(dir, "random-100m.gguf");
  try {
    log(`writing a ${LARGEST_PARAMS / 1e6}M-parameter random Q8_0 model`);
    const written = await timed(() => writeFixtureModel("random", { out: model, params: LARGEST_PARAMS }));
    const fileBytes = written.value.bytes;

    log("sha256 throughput");
    const hashes: number[] = [];
    for (let i = 0; i < 3; i++) hashes.push((await timed(() => sha256File(model))).ms);
    const hashMBs = fileBytes / 1e6 / (Math.min(...hashes) / 1000);

    const defaultThreads = physicalCores();
    const fidelityRows: FidelityRow[] = [];
    for (const threads of [...new Set([1, defaultThreads])]) {
      log(
        `fidelity: the headline decode against llama.cpp's own timing (${threads} thread${threads === 1 ? "" : "s"})`,
      );
      fidelityRows.push(...(await fidelityInProcess(model, threads)));
    }
    const gap = (row: FidelityRow) => row.edgebench / row.llamaCpp - 1;
    const worst = Math.max(...fidelityRows.map((row) => Math.abs(gap(row))));
    const pct = (x: number) => `${x >= 0 ? "+" : "−"}${fmt(Math.abs(x) * 100, 2)} %`;

    const runs: Array<{ label: string; args: string[]; ms: number; bundle: Bundle }> = [];
    for (const [label, args] of [
      ["defaults", []],
      ["defaults with --threads 1", ["--threads", "1"]],
    ] as const) {
      log(`a default run: edgebench run random-100m.gguf ${args.join(" ")}`);
      const out = join(dir, `${runs.length}.json`);
      const env = { EDGEBENCH_HOME: join(dir, "home") };
      const run = await timed(() => cli(["run", model, ...args, "--quiet", "--out", out], env));
      if (run.value !== 0) throw new Error(`edgebench run exited with ${run.value}`);
      runs.push({ label, args: [...args], ms: run.ms, bundle: Bundle.parse(JSON.parse(await readFile(out, "utf8"))) });
    }

    const rows = runs.map(({ label, args, ms, bundle }) => {
      const s = summarize(bundle);
      const delivered = bundle.measurements.find((m) => m.label === "tg128 delivered" && !m.cold)?.median;
      return `| \`edgebench run random-100m.gguf${args.length ? ` ${args.join(" ")}` : ""}\` (${label}) | ${fmt(ms / 1000)} s | ${fmt(s.decodeTps ?? 0)} | ${delivered === undefined ? "" : fmt(delivered)} | ${fmt(s.prefillTps ?? 0)} | ${fmt(s.ttftMs ?? 0)} | ${bundle.config?.threads} |`;
    });
    const fidelityTable = fidelityRows.map(
      (row) =>
        `| ${row.threads}${row.threads === defaultThreads ? " (default)" : ""} | tg${row.nGen} × ${row.generations} | ${fmt(row.edgebench)} (${row.timing}) | ${fmt(row.llamaCpp)} | ${pct(gap(row))} | ${fmt(row.delivered)} (${pct(row.delivered / row.llamaCpp - 1)}) |`,
    );
    return `## Measurement core (\`edgebench run\`)

Model: a generated random-weight llama model, ${fmt(written.value.parameters / 1e6)}M parameters, Q8_0,
${fmt(fileBytes / 1e6)} MB (\`edgebench fixture random --params ${LARGEST_PARAMS}\`; written in ${fmt(written.ms / 1000, 2)} s).

| command | wall time | decode tok/s (tg128, engine) | delivered tok/s (tg128) | prefill tok/s (pp512) | TTFT ms (128-token prompt) | threads |
|---|---|---|---|---|---|---|
${rows.join("\n")}

A default run is: cold load, the first generation after it (the cold-start figure), then each test
(prefill at 128 and 512 tokens, decode at 128, 256 and 512 tokens, time to first token) as one untimed
warm-up of its shape and 3 repetitions, then the quality gates (the built-in 16-item task suite,
perplexity on 1,024 tokens of the fixed text). Each figure is the median of its repetitions.

**Threads on this machine.** The default thread count is the number of physical cores (here ${runs[0]?.bundle.config?.threads}).
On this 2-vCPU virtual machine ggml's worker threads spin-wait on each other, and 2 threads decode far
slower than 1; on real devices (and node-llama-cpp's default of 4 threads on 2 cores is much worse)
the physical core count is the right default. Tests here run with \`--threads 1\`.

### Fidelity: the headline decode against llama.cpp's own timing

edgebench's headline decode rate is llama.cpp's own time per generated token: around each test it
reads llama.cpp's performance counters (\`llama_perf_context_print\`, reset before the test), and the
rate is the single-token decodes over their eval time, the figure llama-bench's \`tg\` and llama.cpp's
\`eval time\` report; the headline is the median over the repetitions. Here the same generations
(16-token prompt, greedy, after one warm-up) are timed by edgebench's own path and compared with the
\`tokens per second\` llama.cpp prints for each of them (median). The delivered rate (token arrival
in JavaScript, sampling and the N-API round trip included), which the bundle keeps beside the
headline as \`tgN delivered\`, is shown with its distance from llama.cpp's figure. Goal: the headline
within ${fmt(FIDELITY_GOAL * 100, 0)} % of llama.cpp's figure in every configuration: ${worst <= FIDELITY_GOAL ? "met" : "**missed**"} (largest gap ${fmt(worst * 100, 2)} %).

| threads | generations | edgebench headline tok/s (timing) | llama.cpp \`eval time\` tok/s | gap | delivered tok/s (gap) |
|---|---|---|---|---|---|
${fidelityTable.join("\n")}

**sha256 of the model file** (streamed, as \`edgebench run\` hashes it): ${fmt(hashMBs, 0)} MB/s (best of 3, ${fmt(fileBytes / 1e6)} MB).
`;
  } finally {
    await rm(model, { force: true });
  }
}

type SectionName = "measure" | "api" | "registry" | "load" | "site" | "cli" | "start";
const SECTION_NAMES: SectionName[] = ["measure", "api", "registry", "load", "site", "cli", "start"];

interface BenchArgs {
  only: SectionName | undefined;
  load: LoadOptions;
}

const USAGE = `usage: npm run bench [-- [--only ${SECTION_NAMES.join("|")}] [--seconds N]]   (--seconds: the load section's duration)`;

/** `--only NAME` and `--seconds N`, refused when misspelt or missing a value: else every section would run. */
function benchArgs(args: string[]): BenchArgs {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { only: { type: "string" }, seconds: { type: "string" } },
  });
  const only = values.only;
  if (only !== undefined && !SECTION_NAMES.includes(only as SectionName)) {
    throw new Error(`--only takes one of ${SECTION_NAMES.join(", ")}, not "${only}"`);
  }
  if (values.seconds !== undefined && only !== undefined && only !== "load") {
    throw new Error(`--seconds sets the load section's duration; it does nothing with --only ${only}`);
  }
  return { only: only as SectionName | undefined, load: loadOptionsFor(values.seconds) };
}

/** The sections of the current file by heading, so `--only` can replace one and keep the others. */
async function existingSections(): Promise<Map<string, string>> {
  const text = await readFile(OUT, "utf8").catch(() => "");
  const parts = text.split(/^(?=## )/m).slice(1);
  return new Map(parts.map((p) => [p.split("\n")[0] as string, p.trimEnd()]));
}

async function main() {
  let args: BenchArgs;
  try {
    args = benchArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const runners: Record<SectionName, (dir: string) => Promise<string>> = {
    measure: measureSection,
    api: benchApi,
    registry: benchRegistry,
    load: (dir) => benchLoad(dir, args.load),
    site: benchSite,
    cli: benchCli,
    start: benchStart,
  };
  const dir = await mkdtemp(join(os.tmpdir(), "edgebench-bench-"));
  const cores = os.availableParallelism();
  const machine = `${os.cpus()[0]?.model ?? "unknown CPU"}, ${cores} logical CPUs, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
  const sections = await existingSections();
  try {
    for (const name of SECTION_NAMES) {
      if (args.only !== undefined && args.only !== name) continue;
      const text = (await runners[name](dir)).trimEnd();
      sections.set(text.split("\n")[0] as string, text);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const header = `# Benchmarks

Speed and cost figures live here, not in timed unit tests. Regenerate with \`npm run bench\`
(it writes this file; \`npm run bench -- --only measure|api|registry|load|site|cli|start\` redoes one section). Figures from a shared
virtual machine vary from run to run; compare runs made on the same machine.

- Measured: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, edgebench ${VERSION}
- Machine: ${machine}
`;
  await writeFile(OUT, `${header}\n${[...sections.values()].join("\n\n")}\n`);
  await formatMarkdown(OUT);
  log(`wrote ${OUT}`);
}

const worker = process.env[FIDELITY_WORKER];
if (worker) {
  const { model, threads } = JSON.parse(worker) as { model: string; threads: number };
  process.stdout.write(`${JSON.stringify(await fidelity(model, threads))}\n`);
} else {
  await main();
}
