// The llama-bench importer on real-world-shaped outputs of every mode (test/fixtures/import/llama-bench,
// shapes cited in SOURCES.md). Expected values are computed by hand from the fixture text.
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { importFile } from "../../cli/import/run-import.ts";
import { describeDevice, thisDevice } from "../../cli/import/this-device.ts";
import { type Bundle, Bundle as BundleSchema, type Measurement } from "../../schema/bundle.ts";
import { runCli } from "../support/cli.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "import", "llama-bench");
const fixture = (name: string) => join(FIXTURES, name);
const context = { now: "2026-01-01T00:00:00.000Z", toolVersion: "0.0.0-test" };

async function imported(name: string, extra: { hardware?: string; model?: string } = {}) {
  const { importer, bundles } = await importFile(fixture(name), "auto", { ...context, ...extra });
  expect(importer.format).toBe("llama-bench");
  return bundles;
}

function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

function byLabel(bundle: Bundle, label: string): Measurement {
  const found = bundle.measurements.find((m) => m.label === label);
  if (!found) throw new Error(`no measurement ${label} in ${bundle.measurements.map((m) => m.label).join(", ")}`);
  return found;
}

describe("llama-bench -o json", () => {
  it("keeps samples, stddev, depth and the 2025 configuration fields", async () => {
    const bundle = only(await imported("json-2025-cuda-depth.json"));
    expect(bundle.device).toEqual({
      cpu: { model: "AMD Ryzen 7 7800X3D 8-Core Processor" },
      accelerators: [{ type: "gpu", model: "NVIDIA GeForce RTX 4080" }],
    });
    expect(bundle.runtime).toMatchObject({ engine: "llama.cpp", version: "b5163", build: "8cf427ff", backend: "cuda" });
    expect(bundle.model).toMatchObject({
      name: "Qwen2.5-7B-Instruct-Q4_K_M",
      fileName: "Qwen2.5-7B-Instruct-Q4_K_M.gguf",
      architecture: "qwen2",
      quantization: "Q4_K_M", // "Q4_K - Medium"
      parameters: 7615616512,
      fileBytes: 4677120000,
      format: "gguf",
    });
    expect(bundle.config).toMatchObject({
      batchSize: 2048,
      ubatchSize: 512,
      threads: 8,
      gpuLayers: 99,
      flashAttention: false,
      kvCacheType: "f16",
    });
    expect(bundle.config?.extraFlags).toContain("split_mode=layer");
    // The rates, then the time of each repetition of the same tests (samples_ns, avg_ns, stddev_ns).
    expect(bundle.measurements.map((m) => [m.kind, m.label])).toEqual([
      ["prefill", "pp512"],
      ["decode", "tg128"],
      ["prefill", "pp512 @ d4096"],
      ["e2e_latency", "pp512"],
      ["e2e_latency", "tg128"],
      ["e2e_latency", "pp512 @ d4096"],
    ]);
    const decode = byLabel(bundle, "tg128");
    expect(decode).toMatchObject({ unit: "tokens/s", nGen: 128, nPrompt: 0, repetitions: 5, mean: 118.881588 });
    expect(decode.stddev).toBe(1.041811);
    expect(decode.samples).toEqual([119.03, 120.178, 119.43, 118.307, 117.464]);
    // avg_ns 1,076,767,880 ns = 1076.768 ms
    expect(decode.notes).toContain("1076.768 ms");
    expect(byLabel(bundle, "pp512 @ d4096")).toMatchObject({ depth: 4096, nPrompt: 512, repetitions: 3 });
    // samples_ns 1,075,361,300 … ns → ms; avg_ns 1,076,767,880 ns; stddev_ns 9,449,585 ns
    expect(bundle.measurements.find((m) => m.kind === "e2e_latency" && m.label === "tg128")).toEqual({
      kind: "e2e_latency",
      unit: "ms",
      label: "tg128",
      nPrompt: 0,
      nGen: 128,
      repetitions: 5,
      samples: [1075.3613, 1065.0894, 1071.7612, 1081.9349, 1089.6926],
      mean: 1076.76788,
      stddev: 9.449585,
      notes: "llama-bench's time per repetition of the test (samples_ns, avg_ns, stddev_ns).",
    });
    expect(bundle.measurements.find((m) => m.kind === "e2e_latency" && m.depth === 4096)).toMatchObject({
      label: "pp512 @ d4096",
      nPrompt: 512,
      samples: [96.5, 95.2, 96.3], // 96,500,000 ns, 95,200,000 ns, 96,300,000 ns
      mean: 96,
      stddev: 0.8,
    });
    expect(bundle.provenance).toMatchObject({
      measuredAt: "2025-04-24T11:58:50Z",
      importedFrom: { format: "llama-bench", toolVersion: "8cf427ff (5163)", file: "json-2025-cuda-depth.json" },
    });
    expect(bundle.provenance.notMeasured).toEqual(expect.arrayContaining(["load", "ttft", "memory", "quality"]));
  });

  it("reads the 2023 field names: backend booleans, f16_kv, mul_mat_q, no n_depth", async () => {
    const bundle = only(await imported("json-2023-legacy-fields.json"));
    expect(bundle.runtime).toMatchObject({ version: "b1275", build: "3469684", backend: "cuda" });
    expect(bundle.model).toMatchObject({ architecture: "llama", quantization: "Q4_0", parameters: 6738415616 });
    expect(bundle.config).toMatchObject({ batchSize: 512, threads: 16, gpuLayers: 99, kvCacheType: "f16" });
    expect(bundle.config?.extraFlags).toContain("mul_mat_q=true");
    const prefill = byLabel(bundle, "pp512");
    expect(prefill).toMatchObject({ kind: "prefill", mean: 2410.974041, stddev: 11.163766, repetitions: 5 });
    expect(prefill.depth).toBeUndefined();
  });

  it("converts nanoseconds to tokens/s when a file has no avg_ts", async () => {
    const bundle = only(await imported("json-ns-only.json"));
    const decode = only(bundle.measurements.filter((m) => m.unit === "tokens/s"));
    // 128 tokens in avg_ns 1,000,000,000 ns → 128 tok/s; samples 0.8 s, 1.0 s, 1.2 s → 160, 128, 106.67
    expect(decode.mean).toBe(128);
    expect(decode.samples?.map((s) => Number(s.toFixed(2)))).toEqual([160, 128, 106.67]);
    expect(decode.repetitions).toBe(3);
    // stddev_ns cannot become a stddev of rates
    expect(decode.stddev).toBeUndefined();
    expect(decode.notes).toContain("1000 ms, stddev 200 ms");
    // The times themselves are kept too: 0.8, 1.0, 1.2 s per repetition, 1 s ± 0.2 s.
    expect(only(bundle.measurements.filter((m) => m.kind === "e2e_latency"))).toMatchObject({
      unit: "ms",
      label: "tg128",
      nGen: 128,
      repetitions: 3,
      samples: [800, 1000, 1200],
      mean: 1000,
      stddev: 200,
    });
    expect(bundle.config?.gpuLayers).toBe(0);
    expect(bundle.device.accelerators).toBeUndefined(); // gpu_info ""
  });
});

describe("llama-bench -o jsonl, csv, sql", () => {
  it("jsonl with stderr lines and CRLF: one bundle per model", async () => {
    const bundles = await imported("jsonl-pi5-two-models.jsonl");
    expect(bundles.map((b) => b.model.name)).toEqual(["qwen2.5-0.5b-instruct-q4_k_m", "Llama-3.2-1B-Instruct-Q8_0"]);
    const [qwen, llama] = bundles as [Bundle, Bundle];
    expect(qwen.config).toMatchObject({ flashAttention: true, kvCacheType: "K q8_0, V f16", threads: 4 });
    expect(byLabel(qwen, "tg128")).toMatchObject({ mean: 50, stddev: 0.5, samples: [50, 50] });
    // 512 tokens in 0.26 s = 1969.2 tok/s
    expect(byLabel(llama, "pp512").mean).toBe(1969.2);
    expect(llama.runtime.backend).toBe("cpu");
  });

  it("csv: quoted strings become numbers and booleans; flash attention on and off are two bundles", async () => {
    const bundles = await imported("csv-m2-metal-fa.csv");
    expect(bundles.map((b) => b.config?.flashAttention)).toEqual([false, true]);
    for (const bundle of bundles) {
      expect(bundle.runtime).toMatchObject({
        backend: "metal",
        version: "b4800",
        notes: "llama-bench backend: Metal,BLAS",
      });
      expect(bundle.model).toMatchObject({ parameters: 3212749824, fileBytes: 2019377152, quantization: "Q4_K_M" });
      // pp512 and tg128, each as a rate and as avg_ns/stddev_ns (csv has no samples_ns).
      expect(bundle.measurements.map((m) => [m.kind, m.label])).toEqual([
        ["prefill", "pp512"],
        ["decode", "tg128"],
        ["e2e_latency", "pp512"],
        ["e2e_latency", "tg128"],
      ]);
    }
    const [off, on] = bundles as [Bundle, Bundle];
    // pp512: 512 tokens / 0.5 s = 1024; with fa 512 / 0.4 s = 1280
    expect(byLabel(off, "pp512")).toMatchObject({ mean: 1024, stddev: 10.24 });
    expect(byLabel(on, "pp512")).toMatchObject({ mean: 1280, stddev: 12.8 });
    expect(byLabel(on, "tg128").samples).toBeUndefined(); // csv has no samples
    // avg_ns 500,000,000 and stddev_ns 5,000,000: 500 ms ± 5 ms per pp512 run
    expect(off.measurements.find((m) => m.kind === "e2e_latency" && m.label === "pp512")).toMatchObject({
      unit: "ms",
      mean: 500,
      stddev: 5,
    });
  });

  it("sql: CREATE TABLE and INSERTs of the 2023 schema", async () => {
    const bundle = only(await imported("sql-2023-cuda.sql"));
    expect(bundle.device.cpu?.model).toBe("13th Gen Intel(R) Core(TM) i9-13900K");
    expect(byLabel(bundle, "tg128")).toMatchObject({ kind: "decode", mean: 130.891159, stddev: 0.537692 });
    expect(bundle.provenance.measuredAt).toBe("2023-09-23T12:10:30Z");
  });
});

describe("llama-bench -o md", () => {
  it("a 2024 console capture: ANSI, CRLF, CUDA device line, build line, two models", async () => {
    const bundles = await imported("md-2024-console-cuda.txt", { hardware: "Desktop RTX 4090" });
    expect(bundles.map((b) => b.model.name)).toEqual(["llama 7B F16", "llama 7B Q4_0"]);
    const [f16] = bundles as [Bundle];
    expect(f16.device).toEqual({
      board: "Desktop RTX 4090",
      accelerators: [{ type: "gpu", model: "NVIDIA GeForce RTX 4090" }],
    });
    expect(f16.runtime).toMatchObject({ version: "b1835", build: "012cf349", backend: "cuda" });
    expect(f16.model.fileBytes).toEqual({ value: Math.round(12.55 * 1024 ** 3), precision: "approximate" });
    expect(f16.model.parameters).toBeUndefined(); // "6.74 B" is rounded
    expect(f16.model.notes).toContain("6.74 B");
    expect(byLabel(f16, "pp512")).toMatchObject({ nPrompt: 512, mean: 11048.22, stddev: 269.74 });
    expect(f16.config?.gpuLayers).toBe(99);
  });

  it("the 2023 column set with threads and n_batch: one bundle per thread count", async () => {
    const bundles = await imported("md-2023-threads-nbatch.md", { hardware: "Workstation" });
    expect(bundles.map((b) => b.config?.threads)).toEqual([4, 8]);
    expect(bundles[0]?.config?.batchSize).toBe(512);
    expect(bundles[0]?.model.quantization).toBe("Q4_0"); // "mostly Q4_0"
    expect(byLabel(bundles[1] as Bundle, "tg16")).toMatchObject({
      kind: "decode",
      nGen: 16,
      mean: 16.71,
      stddev: 0.66,
    });
    expect(bundles[0]?.runtime.backend).toBe("cpu");
  });

  it("current names: pp512+tg128, depth, fa and type_k columns", async () => {
    const bundles = await imported("md-2025-pi5-depth-fa.md", { hardware: "Raspberry Pi 5 8GB" });
    expect(bundles).toHaveLength(2);
    const [noFa, fa] = bundles as [Bundle, Bundle];
    expect(noFa.config).toMatchObject({ threads: 4, kvCacheType: "K q8_0", flashAttention: false });
    expect(fa.config?.flashAttention).toBe(true);
    expect(noFa.measurements.map((m) => [m.kind, m.nPrompt, m.nGen, m.depth])).toEqual([
      ["prefill", 512, 0, undefined],
      ["decode", 0, 128, undefined],
      ["prefill_decode", 512, 128, undefined],
      ["prefill", 512, 0, 1024],
    ]);
    expect(noFa.model).toMatchObject({
      name: "gemma3 1B Q4_K - Medium",
      quantization: "Q4_K_M",
      architecture: "gemma3",
    });
    expect(noFa.model.fileBytes).toEqual({ value: Math.round(762.49 * 1024 ** 2), precision: "approximate" });
  });

  it("--model overrides the name the file gives", async () => {
    const bundles = await imported("md-2025-pi5-depth-fa.md", { hardware: "Pi 5", model: "gemma-3-1b-it Q4_K_M" });
    expect(bundles.every((b) => b.model.name === "gemma-3-1b-it Q4_K_M")).toBe(true);
  });

  it("a table without hardware asks for --hardware, naming the line", async () => {
    await expect(importFile(fixture("md-2023-threads-nbatch.md"), "auto", context)).rejects.toThrow(
      /md-2023-threads-nbatch\.md:3: .*--hardware/,
    );
  });
});

describe("bad llama-bench input", () => {
  it.each([
    ["broken/truncated.json", /truncated\.json:31: not valid JSON/],
    ["broken/garbled-rate.md", /garbled-rate\.md:4: expected t\/s as "mean ± stddev".*"12\.22 tok\/s"/],
    ["broken/short-row.csv", /short-row\.csv:3: expected 34 values as in the header \(line 1\), found 33/],
  ])("%s names the file, the line and what was expected", async (name, message) => {
    await expect(importFile(fixture(name), "auto", { ...context, hardware: "x" })).rejects.toThrow(message);
  });

  it("avg_ts in the wrong unit is refused, not guessed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "edgebench-llama-bench-"));
    const file = join(dir, "ms.jsonl");
    const { writeFile } = await import("node:fs/promises");
    // 128 tokens in 1 s is 128 tok/s, not 0.128
    await writeFile(
      file,
      '{"cpu_info":"x","model_type":"m","n_prompt":0,"n_gen":128,"avg_ns":1000000000,"avg_ts":0.128}\n',
    );
    await expect(importFile(file, "auto", context)).rejects.toThrow(
      /ms\.jsonl:1: avg_ts 0\.128 tok\/s does not match avg_ns/,
    );
  });
});

describe("edgebench import --json (the real CLI)", () => {
  it("prints only a JSON array of valid bundles", async () => {
    const dir = await mkdtemp(join(tmpdir(), "edgebench-import-"));
    const result = await runCli(
      ["import", "--json", fixture("jsonl-pi5-two-models.jsonl"), "--hardware", "Raspberry Pi 5"],
      { EDGEBENCH_HOME: join(dir, "home") },
    );
    expect(result.code).toBe(0);
    const bundles = z.array(BundleSchema).parse(JSON.parse(result.stdout));
    expect(bundles).toHaveLength(2);
    expect(bundles[0]?.device.board).toBe("Raspberry Pi 5");
    expect(result.stderr).toMatch(/2 bundles from llama-bench/);
  });
});

describe("what ran the weights", () => {
  const cli = async (args: string[]) => {
    const dir = await mkdtemp(join(tmpdir(), "edgebench-import-device-"));
    return { dir, result: await runCli(["import", ...args], { EDGEBENCH_HOME: join(dir, "home") }) };
  };

  it("refuses a Raspberry Pi 4 BLAS run whose cpu_info is a backend list, writing nothing", async () => {
    const file = fixture("json-pi4-openblas.json");
    const dir = await mkdtemp(join(tmpdir(), "edgebench-import-device-"));
    const out = join(dir, "out");
    const result = await runCli(["import", file, "--out", out], { EDGEBENCH_HOME: join(dir, "home") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim()).toBe(
      `edgebench: ${file}:2: llama-bench's cpu_info "OpenBLAS, CPU" names a backend, not a CPU: say what ran it with --hardware "…" (e.g. --hardware "Raspberry Pi 4 Model B"), or --this-device to use this machine's fingerprint`,
    );
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it("with --hardware, the Pi run is filed under the board; the model file name is kept", async () => {
    const { result } = await cli(["--json", fixture("json-pi4-openblas.json"), "--hardware", "Raspberry Pi 4 Model B"]);
    expect(result.code, result.stderr).toBe(0);
    const bundle = only(z.array(BundleSchema).parse(JSON.parse(result.stdout)));
    expect(bundle.device).toEqual({ board: "Raspberry Pi 4 Model B" }); // no "OpenBLAS, CPU" anywhere
    expect(bundle.runtime).toMatchObject({ engine: "llama.cpp", backend: "cpu", version: "b6400" });
    expect(bundle.model).toMatchObject({
      name: "gemma-3-270m-it-Q4_K_M",
      fileName: "gemma-3-270m-it-Q4_K_M.gguf",
      architecture: "gemma3",
      quantization: "Q4_K_M",
    });
    // 128 tokens in 6.3, 6.4, 6.5 s
    expect(byLabel(bundle, "tg128").samples).toEqual([20.31746, 20, 19.692308]);
  });

  it("a CUDA run names its GPU, the backend and the layers offloaded; the host CPU stays the CPU", async () => {
    const bundle = only(await imported("json-2025-rtx4090-cuda.json"));
    expect(bundle.device).toEqual({
      cpu: { model: "AMD Ryzen 9 7950X 16-Core Processor" },
      accelerators: [{ type: "gpu", model: "NVIDIA GeForce RTX 4090" }],
    });
    expect(bundle.runtime.backend).toBe("cuda");
    expect(bundle.config?.gpuLayers).toBe(99);
    expect(BundleSchema.safeParse(bundle).success).toBe(true);
  });

  it("reads GPUs joined with '/' (2024) as one accelerator each", async () => {
    const bundle = only(await imported("csv-2024-two-gpus-slash.csv"));
    expect(bundle.device.accelerators).toEqual([
      { type: "gpu", model: "NVIDIA GeForce RTX 3090" },
      { type: "gpu", model: "NVIDIA GeForce RTX 3090" },
    ]);
    expect(bundle.runtime).toMatchObject({ backend: "cuda", version: "b3175" });
    expect(bundle.config?.extraFlags).not.toContain("rpc=0");
  });

  it("a markdown capture takes the GPU from ggml_vulkan's line, as printed", async () => {
    const bundle = only(await imported("md-2025-console-vulkan-radv.txt", { hardware: "Workstation" }));
    expect(bundle.device.accelerators).toEqual([
      { type: "gpu", model: "AMD Radeon RX 7900 XTX (RADV NAVI31)", unifiedMemory: false, driver: "Vulkan (radv)" },
    ]);
    expect(bundle.runtime).toMatchObject({ backend: "vulkan", notes: "llama-bench backend: RPC,Vulkan" });
  });

  it("keeps the CPU of a cpu_info that lists a BLAS backend before it, and drops GPU entries that are not GPUs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "edgebench-llama-bench-"));
    const file = join(dir, "x86-blas.jsonl");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      file,
      `${JSON.stringify({
        cpu_info: "OpenBLAS, AMD Ryzen 9 7950X 16-Core Processor",
        gpu_info: "NVIDIA GeForce RTX 4090, RPC[192.168.1.20:50052]",
        backends: "CUDA,RPC,BLAS",
        model_type: "llama 3B Q4_K - Medium",
        n_gpu_layers: 0,
        n_prompt: 0,
        n_gen: 128,
        avg_ts: 25,
      })}\n`,
    );
    const [bundle] = (await importFile(file, "auto", context)).bundles;
    expect(bundle?.device).toEqual({
      cpu: { model: "AMD Ryzen 9 7950X 16-Core Processor" },
      accelerators: [{ type: "gpu", model: "NVIDIA GeForce RTX 4090" }],
    });
    // -ngl 0: no layer on the GPU, which the registry reads as a CPU run.
    expect(bundle?.config?.gpuLayers).toBe(0);
    expect(bundle?.runtime.backend).toBe("cuda");
  });

  it("--this-device gives a file without hardware this machine's fingerprint, and says so first", async () => {
    const file = fixture("json-pi4-openblas.json");
    const { result } = await cli(["--json", file, "--this-device"]);
    expect(result.code, result.stderr).toBe(0);
    const expected = await thisDevice();
    const bundles = z.array(BundleSchema).parse(JSON.parse(result.stdout));
    expect(bundles[0]?.device).toEqual(expected);
    expect(bundles[0]?.device.identity).toBeUndefined();
    expect(bundles[0]?.device.thermal).toBeUndefined();
    const [notice, summary] = result.stderr.trim().split("\n");
    expect(notice).toBe(
      `Hardware not named in ${file} (llama-bench's cpu_info "OpenBLAS, CPU" names a backend, not a CPU): using this device, ${describeDevice(expected)} (--this-device)`,
    );
    expect(summary).toBe(`${file}: 1 bundle from llama-bench`);
  });

  it("--hardware wins over --this-device, and a file that names its hardware keeps it", async () => {
    const { result } = await cli([
      "--json",
      fixture("json-pi4-openblas.json"),
      fixture("json-2025-rtx4090-cuda.json"),
      "--this-device",
      "--hardware",
      "Raspberry Pi 4 Model B",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const [pi, gpu] = z.array(BundleSchema).parse(JSON.parse(result.stdout));
    expect(pi?.device).toEqual({ board: "Raspberry Pi 4 Model B" });
    expect(gpu?.device.board).toBe("Raspberry Pi 4 Model B");
    expect(result.stderr).not.toMatch(/this device/);
    const own = await cli(["--json", fixture("json-2025-rtx4090-cuda.json"), "--this-device"]);
    expect(own.result.code, own.result.stderr).toBe(0);
    const [bundle] = z.array(BundleSchema).parse(JSON.parse(own.result.stdout));
    expect(bundle?.device.cpu).toEqual({ model: "AMD Ryzen 9 7950X 16-Core Processor" });
    expect(own.result.stderr).not.toMatch(/this device/);
  });

  it.each([["CPU"], ["OpenBLAS, CPU"], ["unknown"], ["  "]])(
    "refuses --hardware %j as misuse: it is not hardware",
    async (name) => {
      const { result } = await cli([fixture("json-pi4-openblas.json"), "--hardware", name]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr.startsWith(`edgebench: --hardware ${JSON.stringify(name)} `), result.stderr).toBe(true);
      expect(result.stderr).toMatch(/(names a backend|is a placeholder|is empty).*: give the hardware that ran it/);
    },
  );
});
