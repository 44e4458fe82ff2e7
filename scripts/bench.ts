// `npm run bench`: the speed figures that do not belong in timed unit tests, written to
// docs/BENCHMARKS.md with the command and the machine they were measured on.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeFixtureModel } from "../cli/gguf/fixtures.ts";
import { sha256File } from "../cli/lib/hash.ts";
import { closeEngine, openEngine, runTest } from "../cli/measure/engine.ts";
import { mean, stddev } from "../cli/measure/stats.ts";
import { PERPLEXITY_TEXT } from "../cli/quality/perplexity-text.ts";
import { VERSION } from "../cli/version.ts";
import { Bundle } from "../schema/bundle.ts";
import { summarize } from "../schema/summary.ts";
import { benchApi } from "./bench-api.ts";
import { benchLoad, type LoadOptions, loadOptionsFor } from "./bench-load.ts";
import { benchSite } from "./bench-site.ts";
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

/** Our decode rate against llama.cpp's own eval timing for the very same generations. */
async function measurementOverhead(model: string, threads: number) {
  const logs: string[] = [];
  const { engine } = await openEngine(
    { modelPath: model, threads, contextSize: 1024, batchSize: 512, gpu: "cpu", promptText: PERPLEXITY_TEXT.text },
    { logger: (_level, message) => logs.push(message) },
  );
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const result = await runTest(engine, { kind: "decode", nPrompt: 16, nGen: 128 });
    if (result.kind !== "decode") throw new Error("unexpected result");
    const t = result.tokenTimesMs;
    ours.push((t.length - 1) / (((t.at(-1) as number) - (t[0] as number)) / 1000));
    logs.length = 0;
    await engine.context.printTimings();
    const line = logs.find((l) => /\beval time\b/.test(l) && !/prompt eval/.test(l));
    const match = line?.match(/([\d.]+) tokens per second/);
    if (!match) throw new Error(`llama.cpp printed no eval timing: ${logs.join(" | ")}`);
    theirs.push(Number(match[1]));
  }
  await closeEngine(engine);
  return { ours, theirs };
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

    log("measurement overhead against llama.cpp's own timing (1 thread)");
    const overhead = await measurementOverhead(model, 1);
    const share = 1 - (mean(overhead.ours) as number) / (mean(overhead.theirs) as number);

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
      return `| \`edgebench run random-100m.gguf${args.length ? ` ${args.join(" ")}` : ""}\` (${label}) | ${fmt(ms / 1000)} s | ${fmt(s.decodeTps ?? 0)} | ${fmt(s.prefillTps ?? 0)} | ${fmt(s.ttftMs ?? 0)} | ${bundle.config?.threads} |`;
    });
    return `## Measurement core (\`edgebench run\`)

Model: a generated random-weight llama model, ${fmt(written.value.parameters / 1e6)}M parameters, Q8_0,
${fmt(fileBytes / 1e6)} MB (\`edgebench fixture random --params ${LARGEST_PARAMS}\`; written in ${fmt(written.ms / 1000, 2)} s).

| command | wall time | decode tok/s (tg128) | prefill tok/s (pp512) | TTFT ms (128-token prompt) | threads |
|---|---|---|---|---|---|
${rows.join("\n")}

A default run is: cold load, one warm-up generation, 3 repetitions of prefill at 128 and 512 tokens,
decode at 128, 256 and 512 tokens and time to first token, then the quality gates (the built-in
16-item task suite, perplexity on 1,024 tokens of the fixed text).

**Threads on this machine.** The default thread count is the number of physical cores (here ${runs[0]?.bundle.config?.threads}).
On this 2-vCPU virtual machine ggml's worker threads spin-wait on each other, and 2 threads decode far
slower than 1; on real devices (and node-llama-cpp's default of 4 threads on 2 cores is much worse)
the physical core count is the right default. Tests here run with \`--threads 1\`.

**Measurement overhead.** edgebench's decode rate against llama.cpp's own \`eval time\` for the same
generations (5 × 128 tokens, 1 thread, in process):

| | tok/s (mean ± sd) |
|---|---|
| llama.cpp internal timing (\`llama_perf_context_print\`) | ${fmt(mean(overhead.theirs) as number)} ± ${fmt(stddev(overhead.theirs) ?? 0)} |
| edgebench (token arrival times, sampling and JS included) | ${fmt(mean(overhead.ours) as number)} ± ${fmt(stddev(overhead.ours) ?? 0)} |
| overhead | ${fmt(share * 100)}% |

edgebench times what a caller sees: each token's arrival in JavaScript, with sampling, and so
reports slightly less than llama.cpp's eval time alone.

**sha256 of the model file** (streamed, as \`edgebench run\` hashes it): ${fmt(hashMBs, 0)} MB/s (best of 3, ${fmt(fileBytes / 1e6)} MB).
`;
  } finally {
    await rm(model, { force: true });
  }
}

type SectionName = "measure" | "api" | "load" | "site";
const SECTION_NAMES: SectionName[] = ["measure", "api", "load", "site"];

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
    load: (dir) => benchLoad(dir, args.load),
    site: benchSite,
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
(it writes this file; \`npm run bench -- --only measure|api|load|site\` redoes one section). Figures from a shared
virtual machine vary from run to run; compare runs made on the same machine.

- Measured: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, edgebench ${VERSION}
- Machine: ${machine}
`;
  await writeFile(OUT, `${header}\n${[...sections.values()].join("\n\n")}\n`);
  await formatMarkdown(OUT);
  log(`wrote ${OUT}`);
}

await main();
