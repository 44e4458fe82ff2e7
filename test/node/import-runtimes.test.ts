// The Ollama, llama-server, MLX and RKLLM importers against fixtures shaped like their published
// outputs. Expectations are computed by hand here (tokens ÷ seconds), not by the importers' helpers.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deviceFactsAt, scanDeviceLog } from "../../cli/import/formats/device-log.ts";
import { rkllm } from "../../cli/import/formats/rkllm.ts";
import { chooseImporter, importFile } from "../../cli/import/run-import.ts";
import { cleanText } from "../../cli/import/text.ts";
import { ImportError } from "../../cli/import/types.ts";
import { type Bundle, Bundle as BundleSchema, type Measurement } from "../../schema/bundle.ts";
import { runCli } from "../support/cli.ts";
import { readSeedBundles } from "../support/seeds.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "import");
const fixture = (format: string, name: string) => join(FIXTURES, format, name);
const context = { now: "2026-12-01T00:00:00.000Z", toolVersion: "0.0.0-test", hardware: "Test board" };

async function bundlesOf(format: string, name: string, extra: { model?: string; hardware?: string } = {}) {
  const { importer, bundles } = await importFile(fixture(format, name), "auto", { ...context, ...extra });
  expect(importer.format).toBe(format);
  for (const bundle of bundles) expect(BundleSchema.safeParse(bundle).success).toBe(true);
  return bundles;
}

function only(bundle: Bundle, kind: Measurement["kind"], where: Partial<Measurement> = {}): Measurement {
  const found = bundle.measurements.filter(
    (m) => m.kind === kind && Object.entries(where).every(([k, v]) => (m as Record<string, unknown>)[k] === v),
  );
  expect(found, `${kind} ${JSON.stringify(where)}`).toHaveLength(1);
  return found[0] as Measurement;
}

const sampleStddev = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
};

async function expectImportError(format: string, name: string, line: number, pattern: RegExp) {
  const error = await importFile(fixture(format, name), "auto", context).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImportError);
  expect((error as Error).message).toContain(`${name}:${line}: `);
  expect((error as Error).message).toMatch(pattern);
}

describe("ollama", () => {
  it("reads a /api/generate answer: nanoseconds to ms and tokens/s", async () => {
    const [bundle] = await bundlesOf("ollama", "generate.json");
    expect(bundle?.model.name).toBe("gemma3");
    // 18 tokens in 52,479,709 ns; 11 prompt tokens in 13,074,791 ns; total 174,560,334 ns.
    expect(only(bundle as Bundle, "decode").mean).toBeCloseTo(18 / 0.052479709, 4);
    expect(only(bundle as Bundle, "prefill").mean).toBeCloseTo(11 / 0.013074791, 4);
    expect(only(bundle as Bundle, "e2e_latency").mean).toBeCloseTo(174.560334, 6);
    expect(bundle?.provenance.measuredAt).toBe("2025-10-17T23:14:07.414671Z");
    expect(bundle?.provenance.notMeasured).toContain("memory");
    // load_duration 101,397,084 ns = 101.397084 ms: kept, as the file has it (one reply: cold or not, unknown).
    const load = only(bundle as Bundle, "load");
    expect(load).toMatchObject({ unit: "ms", samples: [101.397084], mean: 101.397084 });
    expect(load.cold).toBeUndefined();
    expect(bundle?.provenance.notMeasured).not.toContain("load");
  });

  it("reads streamed /api/chat answers (CRLF, curl progress) and keeps the cold first reply apart", async () => {
    const [bundle] = await bundlesOf("ollama", "chat-stream-crlf.ndjson");
    const b = bundle as Bundle;
    expect(b.model.name).toBe("llama3.2:3b-instruct-q4_K_M");
    expect(b.model.quantization).toBe("q4_K_M");
    // first: 100 tokens in 2e9 ns = 50 tok/s, loaded for it (3 s); then 40 and 50 tok/s warm.
    expect(only(b, "decode", { cold: true }).samples).toEqual([50]);
    const warm = only(b, "decode", { cold: false });
    expect(warm.samples).toEqual([40, 50]);
    expect(warm.mean).toBe(45);
    expect(warm.stddev).toBeCloseTo(sampleStddev([40, 50]), 6);
    expect(only(b, "load", { cold: true }).samples).toEqual([3000]);
    // The warm replies' load_duration (2,000,000 and 1,000,000 ns: the model was resident) is kept apart.
    expect(only(b, "load", { cold: false }).samples).toEqual([2, 1]);
  });

  it("reads `ollama run --verbose` blocks with ANSI colours and a spinner, one bundle per model", async () => {
    const bundles = await bundlesOf("ollama", "verbose-ansi-two-models.txt");
    expect(bundles.map((b) => b.model.name)).toEqual(["mistral", "orca-mini"]);
    const mistral = bundles[0] as Bundle;
    // eval count 120 in 4.876787 s; total 5.088275983 s; load duration 1.365523 ms, kept as printed
    // (a model already in memory: not a cold load, and not marked as one).
    expect(only(mistral, "decode").mean).toBeCloseTo(120 / 4.876787, 5);
    expect(only(mistral, "e2e_latency").mean).toBeCloseTo(5088.275983, 5);
    expect(only(mistral, "load")).toMatchObject({ samples: [1.365523] });
    expect(only(mistral, "load").cold).toBeUndefined();
    // prompt eval 48 tokens in 95.572 ms
    expect(only(bundles[1] as Bundle, "prefill").mean).toBeCloseTo(48 / 0.095572, 3);
  });

  it.each([["seed-004-verbose.txt"], ["seed-004-api.ndjson"]])(
    "%s reproduces seed 004's decode numbers, the cold start kept apart",
    async (name) => {
      const [bundle] = await bundlesOf("ollama", name, { hardware: "Raspberry Pi 4 Model B" });
      const seed = readSeedBundles().find((s) => s.file.startsWith("004-"))?.bundle as unknown as Bundle;
      const seedDecode = seed.measurements.filter((m) => m.kind === "decode");
      const ours = (bundle as Bundle).measurements.filter((m) => m.kind === "decode");
      expect(ours).toHaveLength(seedDecode.length);
      for (const expected of seedDecode) {
        const got = only(bundle as Bundle, "decode", { nGen: expected.nGen, cold: expected.cold });
        expect(got.repetitions).toBe(expected.repetitions);
        got.samples?.forEach((s, i) => {
          expect(s).toBeCloseTo(expected.samples?.[i] as number, 2);
        });
        // The seed holds the report's averages, rounded to two decimals.
        if (expected.mean !== undefined)
          expect(Math.abs((got.mean as number) - expected.mean)).toBeLessThanOrEqual(0.0051);
      }
    },
  );

  it("names file:line for a cut-off stream and a cut-off verbose block", async () => {
    await expectImportError("ollama", "truncated-stream.ndjson", 1, /cut off.*"done": true/);
    await expectImportError("ollama", "truncated-verbose.txt", 9, /cut off.*eval count/);
  });
});

describe("llama-server", () => {
  it("reads three /completion answers as repetitions of one model × configuration", async () => {
    const [bundle] = await bundlesOf("llama-server", "completion-three.json");
    const b = bundle as Bundle;
    expect(b.model.fileName).toBe("qwen2.5-1.5b-instruct-q4_k_m.gguf");
    expect(b.config?.contextSize).toBe(4096);
    expect(b.config?.sampling).toEqual({ temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1 });
    // 64 tokens in 1600, 2000, 1280 ms → 40, 32, 50 tok/s; 12 prompt tokens in 120, 150, 120 ms.
    const decode = only(b, "decode", { nGen: 64 });
    expect(decode.samples).toEqual([40, 32, 50]);
    expect(decode.stddev).toBeCloseTo(sampleStddev([40, 32, 50]), 5);
    expect(only(b, "prefill", { nPrompt: 12 }).samples).toEqual([100, 80, 100]);
  });

  it("reads an OpenAI-compatible answer; OpenAI's placeholder model name is not taken for the model", async () => {
    await expect(importFile(fixture("llama-server", "chat-completions.json"), "auto", context)).rejects.toThrow(
      /--model/,
    );
    const [bundle] = await bundlesOf("llama-server", "chat-completions.json", { model: "Qwen3-4B" });
    expect(bundle?.runtime.build).toBe("b4589-1a2b3c4");
    expect(only(bundle as Bundle, "decode").mean).toBe(20); // 10 tokens in 500 ms
  });

  it("reads the last event of a /v1 stream and reports a stream cut before it", async () => {
    const [bundle] = await bundlesOf("llama-server", "chat-stream.sse");
    expect(only(bundle as Bundle, "decode").mean).toBeCloseTo(20 / 0.102018, 4);
    await expectImportError("llama-server", "truncated-stream.sse", 1, /cut off/);
  });

  it("reads the server's printed timings (CRLF, ANSI) with the model, build, threads and layers from the log", async () => {
    const [bundle] = await bundlesOf("llama-server", "server-log-crlf.txt");
    const b = bundle as Bundle;
    expect(b.model.name).toBe("Llama 3.2 3B Instruct");
    expect(b.model.quantization).toBe("Q4_K_M");
    expect(b.runtime.build).toBe("b4589-1a2b3c4d");
    expect(b.config).toMatchObject({ threads: 6, gpuLayers: 29, contextSize: 4096 });
    // 127 tokens in 5080 and 6350 ms → 25 and 20 tok/s
    expect(only(b, "decode").samples).toEqual([25, 20]);
    expect(only(b, "e2e_latency").samples).toEqual([5320, 6650]);
  });

  it("reads llama_print_timings and llama_perf_context_print lines", async () => {
    const [old] = await bundlesOf("llama-server", "llama-print-timings.txt");
    expect(only(old as Bundle, "load").mean).toBe(8317.76);
    expect(only(old as Bundle, "decode", { nGen: 395 }).mean).toBeCloseTo(395 / 11.83929, 4);
    expect(only(old as Bundle, "prefill", { nPrompt: 800 }).mean).toBeCloseTo(800 / 0.44418, 3);
    const [perf] = await bundlesOf("llama-server", "llama-perf-context.txt", { model: "tinyllama" });
    expect(only(perf as Bundle, "decode", { nGen: 27 }).mean).toBeCloseTo(27 / 0.53318, 4);
  });

  // Shape: result_timings::to_json() in ggml-org/llama.cpp tools/server/server-task.cpp (cache_n first).
  it("reads bare timings objects; cache_n becomes the depth of the prompt evaluation", async () => {
    await expect(importFile(fixture("llama-server", "timings-bare-cache.json"), "auto", context)).rejects.toThrow(
      /--model/,
    );
    const [bundle] = await bundlesOf("llama-server", "timings-bare-cache.json", { model: "Qwen2.5-1.5B-Instruct" });
    const b = bundle as Bundle;
    expect(b.model.name).toBe("Qwen2.5-1.5B-Instruct");
    // 512 tokens in 640 ms = 800 tok/s with nothing cached; 12 tokens in 48 ms = 250 tok/s after 500 cached
    expect(only(b, "prefill", { nPrompt: 512 })).toMatchObject({ samples: [800], mean: 800 });
    expect(only(b, "prefill", { nPrompt: 512 }).depth).toBeUndefined();
    expect(only(b, "prefill", { nPrompt: 12 })).toMatchObject({ depth: 500, samples: [250], mean: 250 });
    expect(only(b, "prefill", { nPrompt: 12 }).notes).toMatch(/1 of 2 request\(s\) reused prompt tokens/);
    // 128 tokens in 3200 and 2560 ms = 40 and 50 tok/s
    const decode = only(b, "decode", { nGen: 128 });
    expect(decode.samples).toEqual([40, 50]);
    expect(decode.mean).toBe(45);
    expect(decode.stddev).toBeCloseTo(sampleStddev([40, 50]), 6);
  });

  it("names file:line for timings cut off after the prompt line", async () => {
    await expectImportError("llama-server", "truncated-log.txt", 15, /expected an "eval time/);
  });
});

describe("what ran the weights, from llama.cpp's and Ollama's log lines", () => {
  it("llama-server with ggml_cuda_init: the GPU, CUDA, 29/29 layers offloaded and the model's 28 blocks", async () => {
    const [bundle] = await bundlesOf("llama-server", "server-log-cuda-offload.txt");
    const b = bundle as Bundle;
    expect(b.device).toEqual({
      board: "Test board",
      // "VRAM: 24080 MiB"; "using device CUDA0 (NVIDIA GeForce RTX 4090)" says it is the one used.
      accelerators: [{ type: "gpu", model: "NVIDIA GeForce RTX 4090", memoryBytes: 24080 * 1024 * 1024 }],
    });
    expect(b.runtime).toMatchObject({ engine: "llama-server", backend: "cuda", build: "b6123-a0f7016d" });
    // llama.cpp counts the output layer: 29 offloaded of 28 blocks + 1, so gpuLayers ≥ layers: all of it.
    expect(b.config).toMatchObject({ gpuLayers: 29, threads: 16, contextSize: 4096 });
    expect(b.model).toMatchObject({
      name: "Llama 3.2 3B Instruct",
      fileName: "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
      layers: 28,
      metadata: { name: "Llama 3.2 3B Instruct", basename: "Llama-3.2", sizeLabel: "3B", finetune: "Instruct" },
    });
    // 127 tokens in 635 and 762 ms
    expect(only(b, "decode").samples).toEqual([200, 166.666667]);
  });

  it("llama-server with ggml_vulkan: the device name as printed, its driver and uma flag, 37/37 layers", async () => {
    const [bundle] = await bundlesOf("llama-server", "server-log-vulkan-h200.txt");
    const b = bundle as Bundle;
    expect(b.device.accelerators).toEqual([
      { type: "gpu", model: "NVIDIA H200", unifiedMemory: false, driver: "Vulkan (NVIDIA)" },
    ]);
    expect(b.runtime.backend).toBe("vulkan");
    expect(b.config?.gpuLayers).toBe(37);
    expect(b.model).toMatchObject({ name: "Qwen3 8B", layers: 36, metadata: { basename: "Qwen3", sizeLabel: "8B" } });
  });

  it("a 2024 server log with a partial offload: 20 of 32 blocks", async () => {
    const [bundle] = await bundlesOf("llama-server", "server-log-2024-partial.txt");
    const b = bundle as Bundle;
    expect(b.device.accelerators).toEqual([{ type: "gpu", model: "NVIDIA GeForce RTX 3060" }]);
    expect(b.runtime.backend).toBe("cuda");
    expect(b.config?.gpuLayers).toBe(20);
    expect(b.model.layers).toBe(32); // llm_load_print_meta: n_layer
    // 100 tokens in 5000 ms
    expect(only(b, "decode").mean).toBe(20);
  });

  it("an Ollama server log before `ollama run --verbose`: inference compute, the offload and the model tag", async () => {
    const [bundle] = await bundlesOf("ollama", "server-log-cuda-verbose.txt");
    const b = bundle as Bundle;
    expect(b.device).toEqual({
      board: "Test board",
      accelerators: [{ type: "gpu", model: "NVIDIA GeForce RTX 4090", driver: "CUDA 12.5" }],
    });
    expect(b.runtime).toEqual({ engine: "ollama", backend: "cuda" });
    expect(b.config).toEqual({ gpuLayers: 29 });
    expect(b.model).toMatchObject({ name: "llama3.2:3b", layers: 28, metadata: { name: "Llama 3.2 3B Instruct" } });
    // 120 tokens in 600 ms (the cold first reply) and 610 ms
    expect(only(b, "decode", { cold: true }).samples).toEqual([200]);
    expect(only(b, "decode", { cold: false }).mean).toBeCloseTo(120 / 0.61, 4);
  });

  it("a current Ollama log names the GPU in description= (name= is its ggml device); [GIN] lines are not JSON", async () => {
    const [bundle] = await bundlesOf("ollama", "server-log-description-api.txt");
    const b = bundle as Bundle;
    expect(b.device.accelerators).toEqual([
      { type: "gpu", model: "NVIDIA H200", unifiedMemory: false, driver: "CUDA 12.8" },
    ]);
    expect(b.runtime.backend).toBe("cuda");
    expect(b.config?.gpuLayers).toBe(37);
    expect(b.model).toMatchObject({ name: "qwen3:8b", layers: 36 });
    expect(only(b, "decode").mean).toBe(150); // 150 tokens in 1e9 ns
  });

  it("Ollama's own log shapes: a CPU-only machine, Metal without a name, a ROCm GPU named by its PCI id", () => {
    // Lines from ollama/ollama app/server/server_test.go (TestGetInferenceInfo).
    const cpu = scanDeviceLog(
      'time=2025-07-01T17:59:51.470Z level=INFO source=types.go:130 msg="inference compute" id=0 library=cpu variant="" compute="" driver=0.0 name="" total="31.3 GiB" available="30.4 GiB"',
    );
    expect(deviceFactsAt(cpu, 1)).toEqual({ accelerators: [], backend: "cpu" });
    const metal = scanDeviceLog(
      'time=2025-06-30T09:23:07.416-07:00 level=INFO source=types.go:130 msg="inference compute" id=0 library=metal variant="" compute="" driver=0.0 name="" total="96.0 GiB" available="96.0 GiB"',
    );
    expect(deviceFactsAt(metal, 1).accelerators).toEqual([]);
    const frank = scanDeviceLog(
      [
        'time=2025-07-01T19:36:13.315Z level=INFO source=types.go:130 msg="inference compute" id=GPU-d6de3398-9932-6902-11ec-fee8e424c8a2 library=cuda variant=v12 compute=7.5 driver=12.8 name="NVIDIA GeForce RTX 2080 Ti" total="10.6 GiB" available="10.4 GiB"',
        'time=2025-07-01T19:36:13.315Z level=INFO source=types.go:130 msg="inference compute" id=GPU-9abb57639fa80c50 library=rocm variant="" compute=gfx1030 driver=6.3 name=1002:73bf total="16.0 GiB" available="1.3 GiB"',
      ].join("\n"),
    );
    // "1002:73bf" is a PCI id, not a GPU name: it names nothing, so it is left out.
    expect(deviceFactsAt(frank, 2).accelerators).toEqual([
      { type: "gpu", model: "NVIDIA GeForce RTX 2080 Ti", driver: "CUDA 12.8" },
    ]);
  });

  it("a file without hardware and without --hardware says what to pass", async () => {
    const error = await importFile(fixture("llama-server", "server-log-vulkan-h200.txt"), "auto", {
      now: context.now,
      toolVersion: context.toolVersion,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(
      /the file does not say which hardware it ran on \(it names the GPU NVIDIA H200, which is kept, but a bundle also names its host\): say what ran it with --hardware .*--this-device/,
    );
  });
});

describe("mlx", () => {
  it("reads two mlx_lm.generate runs as samples, with the largest peak memory in 10^9-byte GB", async () => {
    const [bundle] = await bundlesOf("mlx", "generate-two-runs.txt");
    const b = bundle as Bundle;
    expect(b.model.name).toBe("mlx-community/Llama-3.2-1B-Instruct-4bit");
    expect(b.model.huggingFaceRepo).toBe("mlx-community/Llama-3.2-1B-Instruct-4bit");
    expect(only(b, "decode", { nGen: 100 }).samples).toEqual([50, 40]);
    expect(only(b, "prefill", { nPrompt: 12 }).mean).toBe(130);
    expect(b.memory?.peakReportedBytes).toBe(1_250_000_000);
  });

  it("reads the older output without token counts", async () => {
    const [bundle] = await bundlesOf("mlx", "generate-old.txt");
    expect(only(bundle as Bundle, "decode").mean).toBe(30.213);
    expect(bundle?.provenance.notMeasured).toContain("memory");
  });

  it("reads mlx_lm.benchmark trials as warm samples checked against its averages", async () => {
    const [bundle] = await bundlesOf("mlx", "benchmark.txt");
    const decode = only(bundle as Bundle, "decode", { nGen: 128, cold: false });
    expect(decode.samples).toEqual([100, 110, 120]);
    expect(decode.stddev).toBe(10);
    expect(only(bundle as Bundle, "prefill", { nPrompt: 512 }).mean).toBe(2100);
    expect(bundle?.memory?.peakReportedBytes).toBe(520_000_000);
  });

  // Shape: the first mlx_lm/benchmark.py (ml-explore/mlx-lm bdcac4b6): "Timing with prompt_tokens=… and generation_tokens=…."
  it('reads the first mlx_lm.benchmark header ("… and …") and counts its warm-up run', async () => {
    const [bundle] = await bundlesOf("mlx", "benchmark-2025-08-warmup.txt");
    const b = bundle as Bundle;
    expect(b.model.huggingFaceRepo).toBe("mlx-community/Llama-3.2-1B-Instruct-4bit");
    expect(b.config).toBeUndefined(); // no batch size printed: one sequence
    const prefill = only(b, "prefill", { nPrompt: 512, cold: false });
    expect(prefill).toMatchObject({ samples: [2500, 2700], mean: 2600, warmup: 1, repetitions: 2 });
    expect(prefill.stddev).toBeCloseTo(sampleStddev([2500, 2700]), 5);
    expect(only(b, "decode", { nGen: 128, cold: false })).toMatchObject({ samples: [160, 180], mean: 170, warmup: 1 });
    expect(b.memory?.peakReportedBytes).toBe(950_000_000); // the larger trial peak, 0.950 GB
  });

  // Shape: mlx_lm/benchmark.py with --batch-size (ml-explore/mlx-lm 55bb9471 onwards), output filtered to its averages.
  it("reads mlx_lm.benchmark averages alone, one bundle per batch size", async () => {
    const bundles = await bundlesOf("mlx", "benchmark-averages-batch-sizes.txt");
    expect(bundles.map((b) => b.config?.concurrency)).toEqual([undefined, 4, 8]);
    const rates = bundles.map((b) => [only(b, "prefill", { nPrompt: 256 }).mean, only(b, "decode", { nGen: 64 }).mean]);
    expect(rates).toEqual([
      [3000, 200],
      [4800, 560],
      [5200, 880],
    ]);
    for (const b of bundles) {
      for (const kind of ["prefill", "decode"] as const) {
        const m = only(b, kind);
        // -n 5: each average stands for five warm trials after one warm-up; the trials are not in the file.
        expect(m).toMatchObject({ cold: false, repetitions: 5, warmup: 1 });
        expect(m.samples).toBeUndefined();
      }
    }
    // An average of the trials' peaks (0.400, 0.700, 1.100 GB): the largest peak is at least that.
    expect(bundles.map((b) => b.memory?.peakReportedBytes)).toEqual([
      { value: 400_000_000, precision: "lower_bound" },
      { value: 700_000_000, precision: "lower_bound" },
      { value: 1_100_000_000, precision: "lower_bound" },
    ]);
  });

  // Shape: generate() in mlx_lm/generate.py, its "Generation:" line missing.
  it("imports the prefill alone from mlx_lm.generate output that has a prompt line and no generation line", async () => {
    const [bundle] = await bundlesOf("mlx", "generate-prompt-only.txt");
    const b = bundle as Bundle;
    // 1024 tokens at 2048 tokens-per-sec
    expect(only(b, "prefill", { nPrompt: 1024 })).toMatchObject({ samples: [2048], mean: 2048 });
    expect(b.measurements.some((m) => m.kind === "decode")).toBe(false);
    expect(b.provenance.notMeasured).toContain("decode");
    expect(b.memory?.peakReportedBytes).toBe(2_100_000_000);
  });

  it("names file:line for cut-off generate and benchmark outputs", async () => {
    await expectImportError("mlx", "truncated-generate.txt", 6, /Generation:/);
    await expectImportError("mlx", "truncated-benchmark.txt", 5, /Averages:/);
  });
});

describe("rkllm", () => {
  it("reproduces seed 000's Gemma3-270m numbers from an RKLLM performance table", async () => {
    const [bundle] = await bundlesOf("rkllm", "seed-000-gemma-3-270m.txt");
    const seed = readSeedBundles().find((s) => s.file === "000-gemma-3-270m-rk3588.json")?.bundle as unknown as Bundle;
    const b = bundle as Bundle;
    expect(only(b, "decode").mean).toBeCloseTo(only(seed, "decode").mean as number, 2); // 100 / 3.3557 s
    expect(only(b, "ttft").mean).toBe(only(seed, "ttft").mean); // 85.67 ms
    // RKLLM prints GB with two decimals: 0.60 GB against the report's 602 MB.
    expect(
      Math.abs((b.memory?.peakReportedBytes as number) - (seed.memory?.peakReportedBytes as number)),
    ).toBeLessThanOrEqual(5e6);
    expect(b.device.soc).toBe(seed.device.soc);
    expect(b.model.fileName).toBe(seed.model.fileName);
    expect(b.config?.contextSize).toBe(seed.config?.contextSize);
    expect(b.runtime).toMatchObject({ engine: "rkllm", backend: "npu", version: "1.2.1" });
  });

  it("reads several tables of one chat (CRLF, Init row, older Memory Usage line) as samples", async () => {
    const [bundle] = await bundlesOf("rkllm", "chat-two-tables-crlf.txt");
    const b = bundle as Bundle;
    // 100 tokens in 6400 and 8000 ms → 15.625 and 12.5 tok/s
    expect(only(b, "decode").samples).toEqual([15.625, 12.5]);
    expect(only(b, "ttft").samples).toEqual([200, 250]);
    expect(only(b, "load").mean).toBe(1890.5);
    expect(b.memory?.peakReportedBytes).toBe(1_250_000_000);
  });

  it("reads a table printed without the I rkllm: prefix", async () => {
    const [bundle] = await bundlesOf("rkllm", "no-prefix-vision.txt", { model: "MiniCPM-V-2.6" });
    expect(only(bundle as Bundle, "decode").mean).toBeCloseTo(72 / 22.30136, 4);
  });

  // Shape: the runtime's Prefill/Generate rows (RKLLM_LOG_LEVEL=1, airockchip/rknn-llm README.md; RKLLMPerfStat in rkllm.h), no header.
  it("reads performance rows quoted without their table header", async () => {
    const [bundle] = await bundlesOf("rkllm", "rows-without-header.txt", { model: "Qwen2.5-1.5B-w8a8" });
    const b = bundle as Bundle;
    // 100 tokens in 800 and 1000 ms → 125 and 100 tok/s; 50 tokens in 5000 and 4000 ms → 10 and 12.5 tok/s
    expect(only(b, "prefill", { nPrompt: 100 }).samples).toEqual([125, 100]);
    expect(only(b, "decode", { nGen: 50 })).toMatchObject({ samples: [10, 12.5], mean: 11.25 });
    expect(only(b, "ttft", { nPrompt: 100 }).samples).toEqual([800, 1000]);
    // Without the I rkllm: prefix or any other mention, a Prefill and a Generate row are still recognised.
    const bare = [
      " Prefill       800.00           100       8.00                     125.00",
      " Generate      5000.00          50        100.00                   10.00",
    ].join("\n");
    expect(chooseImporter("rows.txt", cleanText(bare), "auto").format).toBe("rkllm");
    const [fromBare] = rkllm.parse(cleanText(bare), { ...context, file: "rows.txt", model: "m" });
    expect(only(fromBare as Bundle, "decode").samples).toEqual([10]);
  });

  it("names file:line for a table cut off before its Generate row", async () => {
    await expectImportError("rkllm", "truncated.txt", 14, /Prefill and Generate/);
  });

  it("gives each model of a capture its own initialisation lines (dtype, context, cores, toolkit)", () => {
    const session = (model: string, toolkit: string, table: [string, string]) => [
      "I rkllm: rkllm-runtime version: 1.2.1, rknpu driver version: 0.9.8, platform: RK3588",
      `I rkllm: loading rkllm model from /models/${model}.rkllm`,
      `I rkllm: rkllm-toolkit version: ${toolkit}`,
      "I rkllm: --------------------------------------------------------------------------------------",
      "I rkllm:  Stage         Total Time (ms)  Tokens    Time per Token (ms)      Tokens per Second      ",
      "I rkllm: --------------------------------------------------------------------------------------",
      `I rkllm:  Prefill       ${table[0]}`,
      `I rkllm:  Generate      ${table[1]}`,
      "I rkllm: --------------------------------------------------------------------------------------",
    ];
    const text = [
      ...session(
        "Qwen3-0.6B",
        "1.2.1, max_context_limit: 4096, npu_core_num: 3, target_platform: RK3588, model_dtype: W8A8",
        [
          "200.00           50        4.00                     250.00",
          "6400.00          100       64.00                    15.63",
        ],
      ),
      // An older toolkit line without model_dtype: the quantization comes from the name, not the first model.
      ...session("gemma-3-270m-w4a16", "1.1.4, max_context_limit: 16384, npu_core_num: 1", [
        "100.00           50        2.00                     500.00",
        "2000.00          100       20.00                    50.00",
      ]),
    ].join("\n");
    const bundles = rkllm.parse(cleanText(text), { ...context, file: "two-models.txt" });
    expect(
      bundles.map((b) => [b.model.name, b.model.quantization, b.config?.contextSize, b.config?.extraFlags]),
    ).toEqual([
      ["Qwen3-0.6B", "W8A8", 4096, ["npu_core_num=3"]],
      ["gemma-3-270m-w4a16", "w4a16", 16384, ["npu_core_num=1"]],
    ]);
    expect(bundles.map((b) => b.runtime.notes)).toEqual([
      "Model converted with rkllm-toolkit 1.2.1.",
      "Model converted with rkllm-toolkit 1.1.4.",
    ]);
  });
});

describe("detection among every importer", () => {
  it.each([
    [
      "ollama",
      [
        "generate.json",
        "chat-stream-crlf.ndjson",
        "verbose-ansi-two-models.txt",
        "seed-004-api.ndjson",
        "server-log-cuda-verbose.txt",
        "server-log-description-api.txt",
      ],
    ],
    [
      "llama-server",
      [
        "completion-three.json",
        "chat-stream.sse",
        "server-log-crlf.txt",
        "llama-print-timings.txt",
        "server-log-cuda-offload.txt",
        "server-log-vulkan-h200.txt",
        "server-log-2024-partial.txt",
        "timings-bare-cache.json",
      ],
    ],
    [
      "mlx",
      [
        "generate-two-runs.txt",
        "generate-old.txt",
        "benchmark.txt",
        "benchmark-2025-08-warmup.txt",
        "benchmark-averages-batch-sizes.txt",
        "generate-prompt-only.txt",
      ],
    ],
    [
      "rkllm",
      ["seed-000-gemma-3-270m.txt", "chat-two-tables-crlf.txt", "no-prefix-vision.txt", "rows-without-header.txt"],
    ],
  ])("%s files are recognised as %s", (format, names) => {
    for (const name of names) {
      const text = cleanText(readFileSync(fixture(format, name), "utf8"));
      expect(chooseImporter(name, text, "auto").format, name).toBe(format);
    }
  });
});

describe("edgebench import --json", () => {
  it("prints only a JSON array of valid bundles", async () => {
    const result = await runCli(
      ["import", "--json", "--hardware", "Raspberry Pi 4 Model B", fixture("ollama", "seed-004-verbose.txt")],
      {},
    );
    expect(result.code).toBe(0);
    const parsed: unknown = JSON.parse(result.stdout);
    expect(Array.isArray(parsed)).toBe(true);
    for (const bundle of parsed as unknown[]) expect(BundleSchema.safeParse(bundle).success).toBe(true);
    expect(result.stderr).toMatch(/1 bundle from ollama/);
  });
});
