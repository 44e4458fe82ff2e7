// Truth on accelerators (issue 12): a GPU run is filed under the GPU that held its weights, with the
// host as attributes, and judged against the memory the weights were read from. The bundle is the
// real one `edgebench run` wrote on an NVIDIA H200 (test/fixtures/gpu/), signed here.
import { describe, expect, it } from "vitest";
import { ErrorBody, HardwareDetail, Leaderboard, RunDetail, SubmitResponse } from "../../schema/api.ts";
import type { Bundle, Measurement } from "../../schema/bundle.ts";
import { call, nodeSigned, postJson, rowCounts, signed } from "./helpers.ts";

/** A fresh copy of the H200 bundle, with its own nonce (each test stores it anew). */
function h200(): Bundle {
  const bundle = structuredClone(nodeSigned().gpuSample) as unknown as Bundle;
  bundle.provenance.nonce = `gpu${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  return bundle;
}

async function submit(bundle: Bundle) {
  const res = await postJson(await signed(bundle));
  return { status: res.status, body: (await res.json()) as unknown };
}

async function stored(bundle: Bundle) {
  const { status, body } = await submit(bundle);
  expect(status, JSON.stringify(body)).toBe(201);
  const { id } = SubmitResponse.parse(body);
  return RunDetail.parse(await (await call(`/v1/runs/${id}`)).json()).run;
}

/** Every decode figure of the bundle (samples and statistics) multiplied. */
function scaleDecode(bundle: Bundle, factor: number): Bundle {
  const scale = (m: Measurement): Measurement => {
    if (m.kind !== "decode") return m;
    const times = (v: number | undefined) => (v === undefined ? undefined : v * factor);
    return {
      ...m,
      ...(m.samples ? { samples: m.samples.map((v) => v * factor) } : {}),
      ...(m.mean !== undefined ? { mean: times(m.mean) } : {}),
      ...(m.median !== undefined ? { median: times(m.median) } : {}),
      ...(m.min !== undefined ? { min: times(m.min) } : {}),
      ...(m.max !== undefined ? { max: times(m.max) } : {}),
      ...(m.stddev !== undefined ? { stddev: times(m.stddev) } : {}),
    } as Measurement;
  };
  return { ...bundle, measurements: bundle.measurements.map(scale) };
}

describe("a run on a discrete GPU", () => {
  it("is filed under the GPU, with the host CPU and RAM as attributes, and no implausible_speed flag", async () => {
    const run = await stored(h200());
    expect(run).toMatchObject({
      hardwareSlug: "nvidia-h200",
      hardwareName: "NVIDIA H200",
      hardwareKind: "gpu",
      sourceHardwareName: "NVIDIA H200",
      hostCpu: "Intel Xeon Processor",
      hostRamBytes: 135129063424,
      gpuLayers: 28,
      backend: "vulkan",
    });
    expect(run.flags.map((f) => f.code)).not.toContain("implausible_speed");
    // Ranked apart only for its quality: the generated model's weights are random.
    expect(run.qualityStatus).toBe("fail");
    // The headline is the median of the repetitions (298.0, 407.6, 423.5 tok/s), not the mean (376.4).
    expect(run.decodeTps).toBeCloseTo(407.622, 3);
    // VRAM and host memory apart.
    expect(run.peakVramBytes).toBe(2158100480);
    expect(run.peakMemoryBytes).toBe(1325162496);

    const entry = HardwareDetail.parse(await (await call("/v1/hardware/nvidia-h200")).json());
    expect(entry).toMatchObject({ slug: "nvidia-h200", name: "NVIDIA H200", runs: 1 });
    // The names people use find it too.
    for (const name of ["NVIDIA H200", "h200"]) {
      const res = await call(`/v1/hardware/${encodeURIComponent(name)}`);
      expect(res.status, name).toBe(200);
      expect(HardwareDetail.parse(await res.json()).slug).toBe("nvidia-h200");
    }
    // Nothing is filed under the host CPU.
    expect((await call("/v1/hardware/intel-xeon-processor")).status).toBe(404);
  });

  it("can be filtered by its host CPU and by kind on the leaderboard", async () => {
    await stored(h200());
    const byHost = Leaderboard.parse(
      await (await call("/v1/leaderboard?hostCpu=intel%20xeon%20processor&kind=gpu")).json(),
    );
    expect(byHost.items.map((r) => r.hardwareSlug)).toEqual(["nvidia-h200"]);
    const otherHost = Leaderboard.parse(await (await call("/v1/leaderboard?hostCpu=AMD%20EPYC%209654")).json());
    expect(otherHost.items).toEqual([]);
    const systems = Leaderboard.parse(await (await call("/v1/leaderboard?kind=system")).json());
    expect(systems.items).toEqual([]);
  });

  it("is flagged when its decode beats the GPU's own memory: every decode figure ×20", async () => {
    // 4.8 TB/s ÷ 1.07 GB = 4,490 tok/s at most; ×20 makes the headline 8,152 tok/s.
    const run = await stored(scaleDecode(h200(), 20));
    const flag = run.flags.find((f) => f.code === "implausible_speed");
    expect(flag?.reason).toMatch(/decode 8152\.\d\d tok\/s is above the physical bound of 449\d\.\d\d tok\/s/);
    expect(flag?.reason).toMatch(/NVIDIA H200/);
    expect(flag?.reason).toMatch(/4800\.0 GB\/s/);
    expect(run.rankedApart).toBe(true);
  });

  it("naming a GPU the catalog does not know is not judged by the host's bandwidth", async () => {
    const bundle = scaleDecode(h200(), 20);
    bundle.device.accelerators = [{ type: "gpu", model: "Moore Threads MTT S4000", memoryBytes: 48e9 }];
    const run = await stored(bundle);
    expect(run.hardwareName).toBe("Moore Threads MTT S4000");
    expect(run.flags.map((f) => f.code)).not.toContain("implausible_speed");
  });

  it("with most layers offloaded is the GPU's, with the share kept; with few it stays the host's", async () => {
    const most = h200();
    most.model.layers = 28;
    most.config = { ...most.config, gpuLayers: 20 };
    const partial = await stored(most);
    expect(partial).toMatchObject({ hardwareSlug: "nvidia-h200", gpuLayers: 20, modelLayers: 28 });

    const few = h200();
    few.model.layers = 28;
    few.config = { ...few.config, gpuLayers: 4 };
    // A minority offload is bounded by the host's RAM for 24 of 28 layers: slow it down to a plausible speed.
    const run = await stored(scaleDecode(few, 0.1));
    expect(run).toMatchObject({ hardwareSlug: "intel-xeon-processor", hardwareKind: "system", gpuLayers: 4 });
  });

  it("on unified memory (Apple, Jetson) stays the SoC or board", async () => {
    const apple = h200();
    apple.device = {
      soc: "Apple M2 Max",
      cpu: { model: "Apple M2 Max", cores: 12 },
      accelerators: [{ type: "gpu", model: "Apple M2 Max", unifiedMemory: true }],
    };
    apple.runtime = { ...apple.runtime, backend: "metal" };
    const run = await stored(scaleDecode(apple, 0.1));
    expect(run).toMatchObject({ hardwareSlug: "apple-m2-max", hardwareKind: "system" });
  });
});

describe("bad accelerator input", () => {
  const cases: Array<[string, (b: Bundle) => void, RegExp]> = [
    [
      "a negative offload count",
      (b) => {
        b.config = { ...b.config, gpuLayers: -1 };
      },
      /config\.gpuLayers/,
    ],
    [
      "an accelerator name that is not a name",
      (b) => {
        b.device.accelerators = [{ type: "gpu", model: "<script>💥</script>" }];
      },
      /device\.accelerators\[0\]\.model/,
    ],
    [
      "an absurd amount of GPU memory",
      (b) => {
        b.device.accelerators = [{ type: "gpu", model: "NVIDIA H200", memoryBytes: 1e18 }];
      },
      /device\.accelerators\[0\]\.memoryBytes.*16 TiB/,
    ],
  ];
  for (const [what, mutate, message] of cases) {
    it(`${what} gets 422 with a precise message and writes nothing`, async () => {
      const before = await rowCounts();
      const bundle = h200();
      mutate(bundle);
      const { status, body } = await submit(bundle);
      expect(status).toBe(422);
      const error = ErrorBody.parse(body);
      expect(JSON.stringify(error)).toMatch(message);
      expect(await rowCounts()).toEqual(before);
    });
  }
});
