// Small valid bundles for tests, built independently of the seed files. Runs in Node and workerd.
import type { Bundle } from "../../schema/bundle.ts";

/** One creation time for the whole test process: bundles built twice are the same bytes. */
export const TEST_CREATED_AT = new Date().toISOString();

export interface BundleOptions {
  board?: string;
  model?: string;
  quantization?: string;
  decodeTps?: number;
  qualityFail?: string;
  notes?: string;
}

export function makeBundle(options: BundleOptions = {}): Bundle {
  const bundle: Bundle = {
    schema: "edgebench.bundle/v1",
    device: {
      board: options.board ?? "Test Board 1",
      cpu: { model: "Cortex-A76", cores: 4, arch: "arm64" },
      ramBytes: 8_000_000_000,
    },
    runtime: { engine: "llama.cpp", version: "b6000", backend: "cpu" },
    model: { name: options.model ?? "Test-Model-1B", quantization: options.quantization ?? "Q4_K_M", format: "gguf" },
    config: { contextSize: 2048, threads: 4 },
    measurements: [
      { kind: "load", unit: "ms", cold: true, samples: [812] },
      {
        kind: "prefill",
        unit: "tokens/s",
        cold: false,
        nPrompt: 512,
        samples: [41.2, 40.8, 41.0],
        mean: 41,
        stddev: 0.2,
      },
      {
        kind: "decode",
        unit: "tokens/s",
        cold: false,
        nGen: 128,
        samples: [options.decodeTps ?? 10, options.decodeTps ?? 10],
        mean: options.decodeTps ?? 10,
      },
    ],
    provenance: {
      tool: { name: "edgebench", version: "0.1.0" },
      method: "measured",
      createdAt: TEST_CREATED_AT,
    },
  };
  if (options.qualityFail) {
    bundle.quality = { verdict: { status: "fail", reason: options.qualityFail, source: "automatic" } };
  }
  if (options.notes) bundle.notes = options.notes;
  return bundle;
}
