// Helpers for tests that run `edgebench run` on generated models, as a user would.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FixtureKind, writeFixtureModel } from "../../cli/gguf/fixtures.ts";
import { Bundle } from "../../schema/bundle.ts";
import { type CliResult, runCli } from "./cli.ts";

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `edgebench-${prefix}-`));
}

export async function fixtureModel(dir: string, kind: FixtureKind, params?: number): Promise<string> {
  const out = join(dir, `${kind}.gguf`);
  await writeFixtureModel(kind, { out, ...(params ? { params } : {}) });
  return out;
}

/**
 * A short plan for a 2-core machine: one thread (ggml's spinning threads contend on 2 vCPUs), the
 * CPU backend, small sizes. Tests add what they exercise.
 */
export const QUICK = [
  "--threads",
  "1",
  "--gpu",
  "cpu",
  "--prompt-sizes",
  "32,64",
  "--gen-sizes",
  "16,32",
  "--ttft-prompt",
  "32",
  "--repetitions",
  "2",
  "--perplexity-tokens",
  "128",
  "--no-bandwidth",
  "--quiet",
];

export async function runModel(
  model: string,
  args: string[],
  env: Record<string, string>,
): Promise<CliResult & { bundle?: Bundle }> {
  const result = await runCli(["run", model, ...args], env);
  const outIndex = args.indexOf("--out");
  if (outIndex >= 0) {
    try {
      return { ...result, bundle: Bundle.parse(JSON.parse(await readFile(args[outIndex + 1] as string, "utf8"))) };
    } catch {
      return result;
    }
  }
  return result;
}
