// Parameter sweeps: --sweep batch=256,512,768 --sweep ctx=512,1024 runs every combination.
import { CliError, EXIT_USAGE } from "../errors.ts";

export interface SweepableConfig {
  contextSize: number;
  batchSize: number;
  threads: number;
  gpuLayers?: number | "auto" | "max" | undefined;
  flashAttention?: boolean | undefined;
  kvCacheType?: string | undefined;
}

const KEYS = {
  ctx: "contextSize",
  batch: "batchSize",
  threads: "threads",
  ngl: "gpuLayers",
  fa: "flashAttention",
  kv: "kvCacheType",
} as const;
type SweepKey = keyof typeof KEYS;
export type SweepField = (typeof KEYS)[SweepKey];

const MAX_POINTS = 64;
const KV_TYPES = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"];

export interface SweepAxis {
  field: SweepField;
  values: Array<number | boolean | string>;
}

export function parseSweep(text: string): SweepAxis {
  const match = text.match(/^([a-z]+)=(.+)$/);
  const key = match?.[1] as SweepKey | undefined;
  if (!match || !key || !(key in KEYS)) {
    throw new CliError(
      `--sweep ${JSON.stringify(text)}: expected key=v1,v2,… with key one of ${Object.keys(KEYS).join(", ")}`,
      EXIT_USAGE,
    );
  }
  const field = KEYS[key];
  const values = (match[2] as string).split(",").map((raw) => {
    const v = raw.trim();
    if (field === "flashAttention") {
      if (["on", "true", "1"].includes(v)) return true;
      if (["off", "false", "0"].includes(v)) return false;
    } else if (field === "kvCacheType") {
      if (KV_TYPES.includes(v)) return v;
    } else if (/^\d+$/.test(v) && (Number(v) > 0 || field === "gpuLayers")) {
      return Number(v);
    }
    throw new CliError(`--sweep ${key}: ${JSON.stringify(v)} is not a valid value`, EXIT_USAGE);
  });
  return { field, values: [...new Set(values)] };
}

/** Every combination of the axes applied to the base config, in the order given. */
export function sweepGrid<T extends SweepableConfig>(base: T, axes: SweepAxis[]): T[] {
  let grid: T[] = [base];
  for (const axis of axes) {
    grid = grid.flatMap((config) => axis.values.map((value) => ({ ...config, [axis.field]: value })));
  }
  if (grid.length > MAX_POINTS) {
    throw new CliError(`the sweep has ${grid.length} combinations; at most ${MAX_POINTS}`, EXIT_USAGE);
  }
  return grid;
}
