// The types that the run's modules share (what a run was asked to do, and how it reports back). They
// live apart from run.ts so that run, assemble and soak import them from here and not from each other:
// this module imports none of them, which keeps the import graph of cli/measure acyclic.
import type { Bundle } from "../../schema/bundle.ts";
import type { Progress } from "../lib/progress.ts";
import type { EngineConfig } from "./protocol.ts";
import type { SweepAxis } from "./sweep.ts";
import type { TargetSpec } from "./targets.ts";

export type EngineSettings = Omit<EngineConfig, "modelPath" | "promptText">;

export interface SoakOptions {
  durationMs: number;
  /** Pause between the end of one request and the start of the next. */
  intervalMs: number;
  maxTokens: number;
}

export interface RunOptions {
  modelPath: string;
  engine: EngineSettings;
  promptSizes: number[];
  genSizes: number[];
  ttftPrompt: number;
  /** Prompt length before each decode test (llama-bench's tg runs start from an empty context). */
  decodePrompt: number;
  repetitions: number;
  timeoutMs: number;
  perplexityTokens: number;
  builtinSuite: boolean;
  userSuites: string[];
  sweep: SweepAxis[];
  soak?: SoakOptions | undefined;
  targets: TargetSpec[];
  anon: boolean;
  measureBandwidth: boolean;
  commandLine: string;
  toolVersion: string;
}

export interface RunHooks {
  progress: Progress;
  /** Called with a valid bundle after every test; the last call before a kill is what survives. */
  checkpoint: (bundle: Bundle) => Promise<void>;
  signal: AbortSignal;
}
