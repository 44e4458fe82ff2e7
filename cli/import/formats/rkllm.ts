// RKLLM (Rockchip NPU runtime): the performance table it prints after each inference with
// RKLLM_LOG_LEVEL=1 (Stage | Total Time (ms) | Tokens | Time per Token (ms) | Tokens per Second,
// rows Init/Prefill/Generate, then "Peak Memory Usage (GB)" or, in older runtimes, "Memory Usage
// (GB)" with the value on the next line), with or without the "I rkllm:" prefix, and the
// initialisation lines that name the runtime, the platform and the model.
import type { Accelerator, Bundle, Config, Device, Measurement } from "../../../schema/bundle.ts";
import { deviceFor, importedBundle, modelNameFor } from "../build.ts";
import { type ImportContext, ImportError, type Importer } from "../types.ts";
import {
  checkedRate,
  measurementsOf,
  memoryBytes,
  numberedLines,
  quantizationFromName,
  type RunValue,
  round6,
} from "./console-units.ts";

interface StageRow {
  line: number;
  totalMs: number;
  tokens: number;
  printedRate: number;
}

interface RkllmRun {
  line: number;
  /** The initialisation lines as they stood when this run's table started: its model's, not a later one's. */
  init: InitInfo;
  loadMs?: number | undefined;
  prefill?: StageRow | undefined;
  generate?: StageRow | undefined;
  peakBytes?: number | undefined;
}

/** What the initialisation lines say about the runtime, the platform and the model. */
interface InitInfo {
  runtimeVersion?: string;
  driverVersion?: string;
  platform?: string;
  modelFile?: string;
  toolkitVersion?: string;
  maxContext?: number;
  npuCores?: number;
  dtype?: string;
  cpus?: string;
  cpuCount?: number;
}

const PREFIX = /^\s*(?:[IWE]\s+rkllm:)?\s?/;
const HEADER = /^\s*Stage\s+Total Time \(ms\)\s+Tokens\s+Time per Token \(ms\)\s+Tokens per Second\s*$/i;
const NUM = String.raw`(\d+(?:\.\d+)?)`;
const ROW = new RegExp(`^\\s*(Prefill|Generate)\\s+${NUM}\\s+(\\d+)\\s+${NUM}\\s+${NUM}\\s*$`, "i");
const INIT_ROW = new RegExp(`^\\s*(?:Init|Model Load)\\s+${NUM}\\s+[/-]`, "i");
const INIT_TIME = new RegExp(`^\\s*Model init time \\(ms\\)\\s+${NUM}`, "i");
const MEMORY_HEADER = new RegExp(`^\\s*(?:Peak\\s+)?Memory Usage \\((GB|MB|GiB|MiB)\\)\\s*(?::\\s*${NUM})?`, "i");
const MEMORY_VALUE = new RegExp(`^\\s*${NUM}\\s*$`);
const RUNTIME = /rkllm-runtime version:\s*([^,\s]+),\s*rknpu driver version:\s*([^,\s]+),\s*platform:\s*(\S+)/i;
const LOADING = /loading rkllm model from\s+(\S+)/i;
const TOOLKIT =
  /rkllm-toolkit version:\s*([^,\s]+),\s*max_context_limit:\s*(\d+),\s*npu_core_num:\s*(\d+)(?:,\s*target_platform:\s*[^,\s]+)?(?:,\s*model_dtype:\s*(\S+))?/i;
const CPUS = /Enabled cpus:\s*(\[[^\]]*\])/i;
const CPU_COUNT = /Enabled cpus num:\s*(\d+)/i;

function parse(text: string, context: ImportContext): RkllmRun[] {
  const runs: RkllmRun[] = [];
  let init: InitInfo = {};
  let table: RkllmRun | undefined;
  let pendingLoadMs: number | undefined;
  let memory: { line: number; unit: string } | undefined;
  const endTable = () => {
    if (!table) return;
    if (!table.prefill || !table.generate) {
      throw new ImportError(
        context.file,
        table.line,
        "the RKLLM performance table that starts here is cut off: expected its Prefill and Generate rows",
      );
    }
    runs.push(table);
    table = undefined;
  };
  for (const { number, text: raw } of numberedLines(text)) {
    const line = raw.replace(PREFIX, "");
    if (memory) {
      const value = MEMORY_VALUE.exec(line);
      if (value) {
        const last = runs.at(-1) ?? table;
        if (last) last.peakBytes = memoryBytes(Number(value[1]), memory.unit);
        memory = undefined;
        continue;
      }
      if (line.trim() !== "" && !/^-+$/.test(line.trim())) {
        throw new ImportError(context.file, memory.line, "expected the memory usage value on the line after this one");
      }
      continue;
    }
    const runtime = RUNTIME.exec(line);
    if (runtime) {
      init.runtimeVersion = runtime[1] as string;
      init.driverVersion = runtime[2] as string;
      init.platform = (runtime[3] as string).toUpperCase();
    }
    const loading = LOADING.exec(line);
    if (loading) {
      // A new model: what the previous one's lines said about its conversion, context and cores no
      // longer applies (the runtime and the platform do).
      const { runtimeVersion, driverVersion, platform } = init;
      init = { runtimeVersion, driverVersion, platform, modelFile: (loading[1] as string).split(/[\\/]/).pop() };
    }
    const toolkit = TOOLKIT.exec(line);
    if (toolkit) {
      init.toolkitVersion = toolkit[1] as string;
      init.maxContext = Number(toolkit[2]);
      init.npuCores = Number(toolkit[3]);
      if (toolkit[4]) init.dtype = toolkit[4];
    }
    const cpus = CPUS.exec(line);
    if (cpus) init.cpus = cpus[1] as string;
    const cpuCount = CPU_COUNT.exec(line);
    if (cpuCount) init.cpuCount = Number(cpuCount[1]);

    const initTime = INIT_TIME.exec(line);
    if (initTime) {
      pendingLoadMs = Number(initTime[1]);
      continue;
    }
    if (HEADER.test(line)) {
      endTable();
      table = { line: number, init: { ...init }, loadMs: pendingLoadMs };
      pendingLoadMs = undefined;
      continue;
    }
    // Rows quoted without their header (a forum post, a grep) are still the runtime's rows: the
    // first of them starts the table.
    const startTable = () => {
      table = { line: number, init: { ...init }, loadMs: pendingLoadMs };
      pendingLoadMs = undefined;
      return table;
    };
    const initRow = INIT_ROW.exec(line);
    if (initRow) {
      (table ?? startTable()).loadMs = Number(initRow[1]);
      continue;
    }
    const row = ROW.exec(line);
    if (row) {
      const isPrefill = /prefill/i.test(row[1] as string);
      const current = table ?? startTable();
      const stage: StageRow = {
        line: number,
        totalMs: Number(row[2]),
        tokens: Number(row[3]),
        printedRate: Number(row[5]),
      };
      if (isPrefill) current.prefill = stage;
      else {
        current.generate = stage;
        endTable();
      }
      continue;
    }
    const memoryHeader = MEMORY_HEADER.exec(line);
    if (memoryHeader) {
      endTable();
      const unit = memoryHeader[1] as string;
      if (memoryHeader[2] !== undefined) {
        const last = runs.at(-1);
        if (last) last.peakBytes = memoryBytes(Number(memoryHeader[2]), unit);
      } else memory = { line: number, unit };
    }
  }
  if (memory)
    throw new ImportError(
      context.file,
      memory.line,
      "the file ends before the memory usage value that follows this line",
    );
  endTable();
  return runs;
}

/** tokens/s from the row's own count and time, checked against the rate RKLLM printed (tokens > 0). */
function stageRate(row: StageRow, stage: "prefill" | "decode", context: ImportContext): number {
  return checkedRate(row.tokens, row.totalMs, row.printedRate, stage, context, row.line) as number;
}

function bundleFor(modelName: string, runs: RkllmRun[], context: ImportContext): Bundle {
  // The runs of one model share its initialisation lines; the first run's stand for them all.
  const init = (runs[0] as RkllmRun).init;
  const prefill: RunValue[] = [];
  const decode: RunValue[] = [];
  const ttft: RunValue[] = [];
  const load: RunValue[] = [];
  for (const run of runs) {
    const p = run.prefill as StageRow;
    const g = run.generate as StageRow;
    if (p.tokens > 0) prefill.push({ value: stageRate(p, "prefill", context), tokens: p.tokens });
    ttft.push({ value: p.totalMs, tokens: p.tokens });
    if (g.tokens > 0) decode.push({ value: stageRate(g, "decode", context), tokens: g.tokens });
    if (run.loadMs !== undefined) load.push({ value: run.loadMs });
  }
  const measurements: Measurement[] = [
    ...measurementsOf("load", load, undefined, "RKLLM's init time (model load onto the NPU)."),
    ...measurementsOf("prefill", prefill, "nPrompt"),
    ...measurementsOf("decode", decode, "nGen"),
    ...measurementsOf(
      "ttft",
      ttft,
      "nPrompt",
      "RKLLM's Prefill stage time: the prompt is evaluated and the first token's logits come out of it.",
    ),
  ];
  const peaks = runs.map((r) => r.peakBytes).filter((b): b is number => b !== undefined);
  const fromFile: Device = {};
  if (init.platform) {
    fromFile.soc = `Rockchip ${init.platform}`;
    const npu: Accelerator = { type: "npu", vendor: "Rockchip", model: `${init.platform} NPU` };
    if (init.driverVersion) npu.driver = `rknpu ${init.driverVersion}`;
    fromFile.accelerators = [npu];
  }
  const config: Config = {};
  if (init.maxContext) config.contextSize = init.maxContext;
  if (init.cpuCount) config.threads = init.cpuCount;
  const flags = [
    init.npuCores ? `npu_core_num=${init.npuCores}` : undefined,
    init.cpus ? `enabled_cpus=${init.cpus}` : undefined,
  ].filter((f): f is string => f !== undefined);
  if (flags.length) config.extraFlags = flags;
  const quantization = init.dtype ?? quantizationFromName(modelName);
  const modelFile = runs.find((r) => r.init.modelFile)?.init.modelFile;
  return importedBundle(
    {
      device: deviceFor(context, fromFile),
      runtime: {
        engine: "rkllm",
        backend: "npu",
        ...(init.runtimeVersion ? { version: init.runtimeVersion } : {}),
        ...(init.toolkitVersion ? { notes: `Model converted with rkllm-toolkit ${init.toolkitVersion}.` } : {}),
      },
      model: {
        name: modelName,
        format: "rkllm",
        ...(quantization ? { quantization } : {}),
        ...(modelFile ? { fileName: modelFile } : {}),
      },
      ...(Object.keys(config).length ? { config } : {}),
      measurements,
      ...(peaks.length
        ? {
            memory: {
              peakReportedBytes: Math.max(...peaks),
              notes: `RKLLM's memory usage line (GB read as 10^9 bytes; the runtime does not say which memory), the largest of ${peaks.length} table(s): ${peaks.map((b) => round6(b / 1e9)).join(", ")} GB.`,
            },
          }
        : {}),
    },
    "rkllm",
    context,
    { toolVersion: init.runtimeVersion },
  );
}

export const rkllm: Importer = {
  format: "rkllm",
  detect(text) {
    const lines = text.split("\n").map((l) => l.replace(PREFIX, ""));
    if (lines.some((l) => HEADER.test(l))) return 0.95;
    if (lines.some((l) => ROW.test(l)) && /rkllm/i.test(text)) return 0.8;
    // Rows quoted alone: a Prefill and a Generate row, each with its four columns, are RKLLM's.
    const stages = new Set(lines.map((l) => ROW.exec(l)?.[1]?.toLowerCase()).filter(Boolean));
    if (stages.has("prefill") && stages.has("generate")) return 0.7;
    if (/\bI rkllm:/.test(text)) return 0.5;
    return 0;
  },
  parse(text, context) {
    const runs = parse(text, context);
    if (runs.length === 0) return [];
    // A capture can hold sessions with several models: one bundle each.
    const byModel = new Map<string, RkllmRun[]>();
    for (const run of runs) {
      const name = modelNameFor(context, run.init.modelFile?.replace(/\.rkllm$/i, ""), run.line);
      byModel.set(name, [...(byModel.get(name) ?? []), run]);
    }
    return [...byModel].map(([name, modelRuns]) => bundleFor(name, modelRuns, context));
  },
};
