// `edgebench run` on generated models through the real llama.cpp: what it measures, how it judges
// quality, and that nothing measured is lost when a test crashes, times out or the run is killed.
import { type ChildProcess, spawn } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Bundle, type Measurement } from "../../schema/bundle.ts";
import { Envelope, verifyEnvelope } from "../../schema/signing.ts";
import { summarize } from "../../schema/summary.ts";
import { CLI } from "../support/cli.ts";
import { fixtureModel, QUICK, runModel, tempDir } from "../support/edgebench-run.ts";

const COUNTER_SUITE = join(import.meta.dirname, "..", "fixtures", "suites", "counter.jsonl");

let dir: string;
let counter: string;
let looper: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await tempDir("run");
  counter = await fixtureModel(dir, "counter");
  looper = await fixtureModel(dir, "looper");
  env = { EDGEBENCH_HOME: join(dir, "home") };
});

const find = (b: Bundle, kind: string, label: string, cold = false) =>
  b.measurements.find((m) => m.kind === kind && m.label === label && Boolean(m.cold) === cold);

function expectStatistics(m: Measurement | undefined, repetitions: number) {
  expect(m).toBeDefined();
  const samples = m?.samples ?? [];
  expect(samples).toHaveLength(repetitions);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  // Stored figures keep 6 significant digits.
  expect(Math.abs((m?.mean as number) - mean) / mean).toBeLessThan(1e-5);
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = (sorted[(repetitions - 1) >> 1] as number) / 2 + (sorted[repetitions >> 1] as number) / 2;
  expect(Math.abs((m?.median as number) - middle) / middle).toBeLessThan(1e-5);
  expect(m?.min).toBe(Math.min(...samples));
  expect(m?.max).toBe(Math.max(...samples));
  expect(m?.repetitions).toBe(repetitions);
  // Every warm measurement comes after one untimed run of its shape.
  expect(m?.warmup).toBe(1);
}

describe("edgebench run on the counter model", () => {
  let bundle: Bundle;
  let wallMs: number;

  beforeAll(async () => {
    const out = join(dir, "counter.json");
    const start = performance.now();
    const result = await runModel(
      counter,
      [...QUICK, "--suite", COUNTER_SUITE, "--no-builtin-suite", "--out", out],
      env,
    );
    wallMs = performance.now() - start;
    expect(result.code, result.stderr).toBe(0);
    bundle = result.bundle as Bundle;
  });

  it("writes a valid bundle that identifies the model file and this device", async () => {
    expect(Bundle.safeParse(bundle).success).toBe(true);
    expect(bundle.model).toMatchObject({ format: "gguf", architecture: "llama", quantization: "Q8_0", vocabSize: 394 });
    // GGUF llama.block_count and the general.* naming keys the fixture writes (it writes general.name only).
    expect(bundle.model).toMatchObject({
      name: "edgebench-counter",
      layers: 2,
      metadata: { name: "edgebench-counter" },
    });
    expect(bundle.model.fileBytes).toBe((await stat(counter)).size);
    const { createHash } = await import("node:crypto");
    expect(bundle.model.sha256).toBe(
      createHash("sha256")
        .update(await readFile(counter))
        .digest("hex"),
    );
    expect(bundle.runtime).toMatchObject({ engine: "node-llama-cpp", backend: "cpu" });
    expect(bundle.config).toMatchObject({ threads: 1, batchSize: 512, contextSize: 2048 });
    expect(bundle.device.cpu?.cores).toBeGreaterThanOrEqual(1);
    expect(bundle.provenance).toMatchObject({ method: "measured", tool: { name: "edgebench" } });
  });

  it("keeps the cold load and the first generation after it apart from the repetitions", () => {
    expect(bundle.measurements.filter((m) => m.kind === "load")).toEqual([
      expect.objectContaining({ cold: true, repetitions: 1, unit: "ms" }),
    ]);
    const cold = find(bundle, "decode", "tg16", true);
    expect(cold).toMatchObject({ nGen: 16, repetitions: 1, timing: "engine" });
    // Nothing ran before it: a cold figure has no warm-up.
    expect(cold?.warmup).toBeUndefined();
    expect(find(bundle, "decode", "tg32", true)).toBeUndefined();
  });

  it("repeats every prefill and decode size after a warm-up, with raw samples, their median and statistics", () => {
    expectStatistics(find(bundle, "prefill", "pp32"), 2);
    expectStatistics(find(bundle, "prefill", "pp64"), 2);
    expectStatistics(find(bundle, "decode", "tg16"), 2);
    expectStatistics(find(bundle, "decode", "tg32"), 2);
    expectStatistics(find(bundle, "decode", "tg32 delivered"), 2);
    expect(find(bundle, "prefill", "pp64")).toMatchObject({ nPrompt: 64, unit: "tokens/s", timing: "engine" });
    expect(find(bundle, "decode", "tg32")).toMatchObject({ nGen: 32, depth: 16, unit: "tokens/s", timing: "engine" });
    expect(find(bundle, "decode", "tg32 delivered")).toMatchObject({ nGen: 32, depth: 16, timing: "delivered" });
    expectStatistics(find(bundle, "ttft", "ttft@32"), 2);
  });

  it("times tokens consistently: llama.cpp's eval time inside the delivered time, per-token latency matching the delivered rate, nothing beating the wall clock", () => {
    const engine = find(bundle, "decode", "tg32") as Measurement;
    const delivered = find(bundle, "decode", "tg32 delivered") as Measurement;
    const perToken = find(bundle, "token_latency", "tg32 per token") as Measurement;
    // The same generations timed twice: llama.cpp's decodes happen between the first token's arrival and
    // the last one's, so for each repetition the engine rate is at least the delivered one.
    expect(engine.samples?.length).toBe(delivered.samples?.length);
    for (const [i, rate] of (engine.samples ?? []).entries()) {
      expect(rate).toBeGreaterThanOrEqual(delivered.samples?.[i] as number);
    }
    // 31 gaps per run of 32 tokens, two runs.
    expect(perToken.repetitions).toBe(62);
    expect(perToken.p50).toBeLessThanOrEqual(perToken.p95 as number);
    // Each run's delivered rate is the inverse of its mean gap, so over runs of the same length the
    // inverse of the mean gap is the harmonic mean of the delivered rates (to the stored 6 digits).
    const fromGaps = 1000 / (perToken.mean as number);
    const rates = delivered.samples ?? [];
    const harmonic = rates.length / rates.reduce((sum, r) => sum + 1 / r, 0);
    expect(Math.abs(fromGaps - harmonic) / harmonic).toBeLessThan(1e-4);
    const engineDecodes = bundle.measurements.filter((m) => m.kind === "decode" && m.timing === "engine");
    const decodedTokens = engineDecodes.reduce((sum, m) => sum + (m.nGen as number) * (m.repetitions as number), 0);
    const slowest = Math.min(...engineDecodes.map((m) => m.min as number));
    expect((decodedTokens / slowest) * 1000).toBeLessThan(wallMs);
  });

  it("headlines the median of engine-timed repetitions, with the delivered rate beside it", () => {
    // The registry's headline is the measurement's median, and a delivered decode rate is never it.
    const s = summarize(bundle);
    expect(s.decodeTps).toBe(find(bundle, "decode", "tg32")?.median);
    expect(s.prefillTps).toBe(find(bundle, "prefill", "pp64")?.median);
  });

  it("passes its known-answer suite and fails the perplexity gate: it counts, it does not model language", () => {
    const suite = bundle.quality?.suites?.find((s) => s.name === "counter-known-answers");
    expect(suite?.scores?.[0]).toMatchObject({ metric: "accuracy", value: 1, passed: 3, total: 3 });
    expect(suite?.items?.map((i) => [i.id, i.passed])).toEqual([
      ["after-three", true],
      ["after-nine", true],
      ["teens", true],
    ]);
    expect(bundle.quality?.perplexity?.value).toBeGreaterThan(394);
    expect(bundle.quality?.flags?.map((f) => f.code)).toContain("perplexity_near_chance");
    expect(summarize(bundle).qualityStatus).toBe("fail");
  });

  it("records peak memory and the model's size", () => {
    expect(bundle.memory?.peakRssBytes).toBeGreaterThan(10e6);
    expect(bundle.memory?.modelBytes).toBeGreaterThan(0);
  });
});

describe("warm-up", () => {
  it("runs every test's shape once, untimed, before its repetitions; with --repetitions 1 the one sample is the run after it", async () => {
    const out = join(dir, "warmup.json");
    const trace = join(dir, "warmup-trace.jsonl");
    const args = [...QUICK, "--repetitions", "1", "--no-builtin-suite", "--perplexity-tokens", "0", "--out", out];
    const result = await runModel(counter, args, { ...env, EDGEBENCH_TEST_TRACE: trace });
    expect(result.code, result.stderr).toBe(0);
    const bundle = result.bundle as Bundle;
    // What the measurement process ran, with llama.cpp's own count of what it evaluated each time.
    const ran = (await readFile(trace, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as TraceLine);
    const runsOf = (kind: string, size: Partial<TraceLine>) =>
      ran.filter((r) => r.kind === kind && Object.entries(size).every(([k, v]) => r[k as keyof TraceLine] === v));

    for (const n of [32, 64]) {
      const runs = runsOf("prefill", { nPrompt: n });
      // The warm-up and the one repetition both reached llama.cpp, each evaluating the whole prompt.
      expect(runs).toHaveLength(2);
      for (const r of runs) expect((r.engine?.promptTokens ?? 0) + (r.engine?.evalRuns ?? 0)).toBe(n);
      const m = find(bundle, "prefill", `pp${n}`);
      expect(m).toMatchObject({ warmup: 1, repetitions: 1, timing: "engine" });
      expect(m?.samples).toEqual([
        sig6(n / (((runs[1]?.engine?.promptMs ?? 0) + (runs[1]?.engine?.evalMs ?? 0)) / 1000)),
      ]);
    }
    // tg16 ran three times: the cold first generation, the warm-up, the repetition.
    const tg16 = runsOf("decode", { nGen: 16 });
    expect(tg16).toHaveLength(3);
    // 16 tokens generated: 15 single-token decodes (the last token is sampled, not decoded).
    for (const r of tg16) expect(r.engine?.evalRuns).toBe(15);
    const engineRate = (r: TraceLine | undefined) =>
      sig6((r?.engine?.evalRuns ?? 0) / ((r?.engine?.evalMs ?? 0) / 1000));
    expect(find(bundle, "decode", "tg16", true)?.samples).toEqual([engineRate(tg16[0])]);
    expect(find(bundle, "decode", "tg16")).toMatchObject({ warmup: 1, repetitions: 1, samples: [engineRate(tg16[2])] });
    expect(find(bundle, "decode", "tg16 delivered")).toMatchObject({ warmup: 1, repetitions: 1, timing: "delivered" });
    const tg32 = runsOf("decode", { nGen: 32 });
    expect(tg32).toHaveLength(2);
    expect(find(bundle, "decode", "tg32")).toMatchObject({ warmup: 1, repetitions: 1, samples: [engineRate(tg32[1])] });
    expect(runsOf("ttft", { nPrompt: 32 })).toHaveLength(2);
    expect(find(bundle, "ttft", "ttft@32")).toMatchObject({ warmup: 1, repetitions: 1 });
    expect(find(bundle, "ttft", "ttft@32")?.samples).toHaveLength(1);
  });
});

interface TraceLine {
  kind: string;
  nPrompt?: number;
  nGen?: number;
  engine: { promptTokens: number; promptMs: number; evalRuns: number; evalMs: number } | null;
}

/** As the bundle stores figures: 6 significant digits. */
const sig6 = (v: number) => Number(v.toPrecision(6));

describe("quality gates and lints", () => {
  it("flags the looper model's output as degenerate and fails it", async () => {
    const out = join(dir, "looper.json");
    const result = await runModel(looper, [...QUICK, "--repetitions", "1", "--out", out], env);
    expect(result.code, result.stderr).toBe(0);
    const bundle = result.bundle as Bundle;
    const degenerate = bundle.quality?.flags?.find((f) => f.code === "degenerate_outputs");
    expect(degenerate).toMatchObject({ severity: "fail", source: "automatic" });
    expect(degenerate?.evidence).toMatch(/machine learning machine learning/);
    expect(bundle.quality?.suites?.[0]?.name).toBe("edgebench-core");
    expect(summarize(bundle)).toMatchObject({
      qualityStatus: "fail",
      qualityReason: expect.stringMatching(/degenerate/),
    });
  });

  it("warns when a prompt is longer than the batch (seed report 003's truncation)", async () => {
    const out = join(dir, "small-batch.json");
    const args = [...QUICK, "--batch", "16", "--repetitions", "1", "--no-builtin-suite", "--out", out];
    const result = await runModel(counter, args, env);
    expect(result.code, result.stderr).toBe(0);
    const warning = result.bundle?.warnings?.find((w) => w.code === "prompt_longer_than_batch");
    expect(warning?.message).toMatch(/64-token prompt is longer than the batch size \(16\)/);
    expect(result.bundle?.config?.batchSize).toBe(16);
  });

  it("records declared targets as met or missed, with the measured value", async () => {
    const out = join(dir, "targets.json");
    const args = [...QUICK, "--repetitions", "1", "--no-builtin-suite", "--out", out];
    const targets = ["--target", "decode_tps>=1", "--target", "ttft_ms<=0.001", "--target", "success_rate>=99%"];
    const result = await runModel(counter, [...args, ...targets], env);
    const bundle = result.bundle as Bundle;
    const decode = summarize(bundle).decodeTps as number;
    expect(bundle.targets).toEqual([
      expect.objectContaining({ metric: "decode_tps", op: ">=", threshold: 1, actual: decode, passed: true }),
      expect.objectContaining({ metric: "ttft_ms", passed: false }),
      expect.objectContaining({
        metric: "success_rate",
        threshold: 0.99,
        passed: false,
        label: expect.stringMatching(/not measured/),
      }),
    ]);
  });
});

describe("nothing measured is lost", () => {
  it("records a llama.cpp abort as a crash, restarts, and keeps measuring", async () => {
    const out = join(dir, "crash.json");
    const args = [...QUICK, "--repetitions", "1", "--no-builtin-suite", "--perplexity-tokens", "0", "--out", out];
    const result = await runModel(counter, args, { ...env, EDGEBENCH_TEST_ABORT_ON: "decode" });
    expect(result.code, result.stderr).toBe(0);
    const bundle = result.bundle as Bundle;
    expect(bundle.failure).toMatchObject({ stage: "decode", kind: "crash", signal: "SIGABRT" });
    expect(find(bundle, "prefill", "pp32")).toBeDefined();
    expect(bundle.measurements.some((m) => m.kind === "decode")).toBe(false);
  });

  it("records a test that overruns its time limit as a timeout", async () => {
    const out = join(dir, "timeout.json");
    const args = [...QUICK, "--repetitions", "1", "--no-builtin-suite", "--perplexity-tokens", "0", "--timeout", "1ms"];
    const result = await runModel(counter, [...args, "--out", out], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.bundle?.failure).toMatchObject({ kind: "timeout" });
  });

  it("leaves a valid partial bundle with a failure entry when the run is killed mid-way", async () => {
    const out = join(dir, "killed.json");
    const child = spawnRun([...QUICK, "--repetitions", "50", "--no-builtin-suite", "--out", out]);
    await waitFor(async () => (await stat(out).catch(() => undefined)) !== undefined);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const partial = Bundle.parse(JSON.parse(await readFile(out, "utf8")));
    expect(partial.failure).toMatchObject({ stage: "process", kind: "interrupted" });
    expect(partial.measurements.length).toBeGreaterThan(0);
  });

  it("writes what was measured and exits 130 on Ctrl-C", async () => {
    const out = join(dir, "interrupted.json");
    const child = spawnRun([...QUICK, "--repetitions", "50", "--no-builtin-suite", "--out", out]);
    // Interrupt once the file on disk holds prefill samples: everything measured by then must survive.
    let before = 0;
    await waitFor(async () => {
      const text = await readFile(out, "utf8").catch(() => "");
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return false; // not written yet, or caught mid-write
      }
      const written = Bundle.safeParse(json);
      before = written.success ? (find(written.data, "prefill", "pp32")?.samples?.length ?? 0) : 0;
      return before > 0;
    });
    child.kill("SIGINT");
    const code = await new Promise((r) => child.once("exit", r));
    expect(code).toBe(130);
    const partial = Bundle.parse(JSON.parse(await readFile(out, "utf8")));
    expect(partial.failure?.kind).toBe("interrupted");
    expect(find(partial, "prefill", "pp32")?.samples?.length).toBeGreaterThanOrEqual(before);
  });

  function spawnRun(args: string[]): ChildProcess {
    return spawn(process.execPath, [CLI, "run", counter, ...args], {
      env: { ...process.env, ...env },
      stdio: "ignore",
    });
  }
});

describe("sweeps, soak, privacy", () => {
  it("runs a parameter grid into one bundle with a point per configuration", async () => {
    const out = join(dir, "sweep.json");
    const args = [
      ...QUICK,
      "--repetitions",
      "1",
      "--no-builtin-suite",
      "--sweep",
      "batch=16,64",
      "--sweep",
      "ctx=256,512",
    ];
    const result = await runModel(counter, [...args, "--out", out], env);
    expect(result.code, result.stderr).toBe(0);
    const sweep = result.bundle?.sweep;
    expect(sweep?.parameters).toEqual(["batchSize", "contextSize"]);
    expect(sweep?.points.map((p) => [p.config.batchSize, p.config.contextSize])).toEqual([
      [16, 256],
      [16, 512],
      [64, 256],
      [64, 512],
    ]);
    for (const point of sweep?.points ?? []) expect(point.measurements?.some((m) => m.kind === "decode")).toBe(true);
  });

  it("soaks: repeated requests with latency, memory over time and a leak verdict", async () => {
    const out = join(dir, "soak.json");
    const args = [...QUICK, "--repetitions", "1", "--no-builtin-suite", "--perplexity-tokens", "0"];
    const soakArgs = ["--soak", "3s", "--interval", "50ms", "--soak-tokens", "8"];
    const result = await runModel(counter, [...args, ...soakArgs, "--out", out], env);
    const soak = result.bundle?.soak;
    expect(soak?.requests).toBeGreaterThanOrEqual(3);
    expect(soak?.failures).toBe(0);
    expect(soak?.series).toHaveLength(soak?.requests as number);
    expect(soak?.latencyMs?.p50).toBeGreaterThan(0);
    expect(soak?.memory?.peakBytes).toBeGreaterThan(0);
    expect(soak?.durationMs).toBeGreaterThanOrEqual(3000);
  });

  it("--anon leaves out what identifies the machine; --print-payload prints the signed envelope", async () => {
    const out = join(dir, "anon.json");
    const args = [...QUICK, "--repetitions", "1", "--no-builtin-suite", "--anon", "--print-payload", "--out", out];
    const result = await runModel(counter, [...args, "--registry", "http://127.0.0.1:9"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.bundle?.device.identity).toBeUndefined();
    const envelope = Envelope.parse(JSON.parse(result.stdout));
    expect((await verifyEnvelope(envelope)).ok).toBe(true);
    expect(envelope.payload).toEqual(JSON.parse(JSON.stringify(result.bundle)));
  });
});

describe("bad input", () => {
  it("refuses bad flags with exit code 2 and a precise message", async () => {
    const result = await runModel(counter, ["--ctx", "lots", "--gen-sizes", "1"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--ctx must be a whole number/);
    expect(result.stderr).toMatch(/--gen-sizes: generate at least 2 tokens/);
  });

  it("explains a file that is not a usable GGUF before llama.cpp sees it", async () => {
    const bad = join(dir, "not-a-model.gguf");
    await writeFile(bad, "this is not a model");
    const result = await runModel(bad, QUICK, env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not-a-model\.gguf/);
    expect(result.stderr).toMatch(/not a GGUF file/i);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}
