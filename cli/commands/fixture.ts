import { CliError, EXIT_USAGE } from "../errors.ts";
import { FIXTURE_KINDS, type FixtureKind, TENSOR_TYPES, writeFixtureModel } from "../gguf/fixtures.ts";
import type { TensorType } from "../gguf/ggml-types.ts";
import { inspectModelFile } from "../gguf/inspect.ts";
import { defineStrictCommand } from "../lib/command.ts";

const SUFFIXES: Record<string, number> = { "": 1, k: 1e3, m: 1e6, b: 1e9 };

/** "20M", "1.5m", "500k", "100000" → a count; undefined for anything else. */
export function parseCount(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([kmb]?)$/i.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * (SUFFIXES[(match[2] ?? "").toLowerCase()] ?? Number.NaN);
  return Number.isSafeInteger(Math.round(value)) && value >= 1 ? Math.round(value) : undefined;
}

function usage(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

export default defineStrictCommand({
  meta: {
    name: "fixture",
    description: "Write a generated GGUF model (llama architecture) for tests and timing runs",
  },
  args: {
    kind: {
      type: "positional",
      description: "counter (counts: one two three → four five ...), looper (machine learning ...), random",
      required: true,
    },
    out: { type: "string", alias: "o", description: "Where to write the .gguf file", required: true },
    params: { type: "string", description: "Approximate parameter count, e.g. 1M, 20M, 100M (random only)" },
    type: { type: "string", description: "Weight type: q8_0 (default), q4_0, f16, f32" },
    seed: { type: "string", description: "Seed for the random weights (default 0)" },
    contextLength: { type: "string", description: "Training context length written to the file (default 2048)" },
  },
  async run({ args }) {
    if (!(FIXTURE_KINDS as readonly string[]).includes(args.kind))
      throw usage(`unknown fixture kind "${args.kind}"; expected ${FIXTURE_KINDS.join(", ")}`);
    const kind = args.kind as FixtureKind;
    if (!args.out) throw usage("--out is required");

    let params: number | undefined;
    if (args.params !== undefined) {
      if (kind !== "random") throw usage(`--params applies to random models only; ${kind} has a fixed shape`);
      params = parseCount(args.params);
      if (params === undefined) throw usage(`--params must be a count like 1M, 20M or 500000, not "${args.params}"`);
    }
    let type: TensorType | undefined;
    if (args.type !== undefined) {
      type = TENSOR_TYPES.find((t) => t.toLowerCase() === args.type?.toLowerCase());
      if (!type) throw usage(`--type must be one of ${TENSOR_TYPES.map((t) => t.toLowerCase()).join(", ")}`);
    }
    let seed: number | undefined;
    if (args.seed !== undefined) {
      seed = /^\d+$/.test(args.seed) ? Number(args.seed) : Number.NaN;
      if (!(seed <= 0xffffffff)) throw usage(`--seed must be an integer from 0 to 4294967295, not "${args.seed}"`);
    }
    let contextLength: number | undefined;
    if (args.contextLength !== undefined) {
      contextLength = /^\d+$/.test(args.contextLength) ? Number(args.contextLength) : Number.NaN;
      if (!(contextLength >= 1 && contextLength <= 0xffffffff))
        throw usage(`--context-length must be a positive integer, not "${args.contextLength}"`);
    }

    const model = await writeFixtureModel(kind, { out: args.out, params, type, seed, contextLength }).catch(
      (error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw new CliError(`cannot write ${args.out}: no such directory`);
        if (code) throw new CliError(`cannot write ${args.out}: ${code}`);
        throw new CliError(error instanceof Error ? error.message : String(error));
      },
    );
    // Read it back the way a user's model would be read: a writer bug shows here, not in llama.cpp.
    const identity = await inspectModelFile(model.path);
    console.log(`Wrote ${kind} model to ${model.path}`);
    console.log(
      `  ${identity.parameters.toLocaleString("en-US")} parameters, ${identity.fileType}, ` +
        `${model.nLayer} layer${model.nLayer === 1 ? "" : "s"}, n_embd ${model.nEmbd}, vocabulary ${identity.vocabSize}, context ${identity.contextLength}`,
    );
    console.log(`  ${identity.fileBytes.toLocaleString("en-US")} bytes, seed ${model.seed}`);
  },
});
