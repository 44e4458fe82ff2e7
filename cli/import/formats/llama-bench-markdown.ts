// llama-bench's default output (-o md): a markdown table whose columns vary by version and by which
// parameters differ from the defaults, usually pasted from a console between llama.cpp's stderr lines
// (device discovery before, "build: <commit> (<number>)" after). Values in the table are rounded for
// reading: size "3.56 GiB", params "6.74 B", t/s "2368.80 ± 93.24".
import { ImportError } from "../types.ts";
import { type DeviceLog, deviceFactsAt } from "./device-log.ts";
import { type BenchTest, configFromFields, measurementOf, type TestShape } from "./llama-bench-fields.ts";

/** Markdown column → llama-bench field name, for the columns whose header is an abbreviation. */
const COLUMN_FIELDS: Record<string, string> = {
  model: "model_type",
  backend: "backends",
  ngl: "n_gpu_layers",
  threads: "n_threads",
  fa: "flash_attn",
  mmap: "use_mmap",
  nkvo: "no_kv_offload",
  sm: "split_mode",
  mg: "main_gpu",
  ts: "tensor_split",
  embd: "embeddings",
  dev: "devices",
  ot: "tensor_buft_overrides",
  lm: "load_mode",
  mmq: "mul_mat_q",
};

const HEADER = /^\|(.*\|)?\s*test\s*\|(.*\|)?\s*t\/s\s*\|\s*$/;
const SEPARATOR = /^\|(\s*:?-+:?\s*\|)+\s*$/;

export function hasMarkdownTable(text: string): boolean {
  return text.split("\n").some((line) => HEADER.test(line.trim()));
}

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split("|")
    .map((c) => c.trim());
}

const SIZE_UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

function sizeBytes(text: string): number | undefined {
  const match = /^([\d.]+)\s*(B|KiB|MiB|GiB|TiB)$/.exec(text);
  return match ? Math.round(Number(match[1]) * (SIZE_UNITS[match[2] as string] as number)) : undefined;
}

/** "pp512", "tg128", "pp512+tg128", "pp512 @ d1024", and the 2023 spelling "pp 512". */
function testShape(file: string, line: number, text: string): TestShape {
  const match = /^(?:pp\s*(\d+))?\s*\+?\s*(?:tg\s*(\d+))?(?:\s*@\s*d(\d+))?$/.exec(text);
  if (!match || (match[1] === undefined && match[2] === undefined)) {
    throw new ImportError(
      file,
      line,
      `expected a test like pp512, tg128, pp512+tg128 or "pp512 @ d1024", found "${text}"`,
    );
  }
  return { nPrompt: Number(match[1] ?? 0), nGen: Number(match[2] ?? 0), depth: Number(match[3] ?? 0) };
}

function rate(file: string, line: number, text: string): { mean: number; stddev: number } {
  const match = /^([\d.]+)\s*(?:±|\+\/-)\s*([\d.]+)$/.exec(text);
  if (!match)
    throw new ImportError(file, line, `expected t/s as "mean ± stddev", e.g. "123.45 ± 1.23", found "${text}"`);
  return { mean: Number(match[1]), stddev: Number(match[2]) };
}

/** The build, from llama-bench's "build: <commit> (<number>)" line after the table. */
function buildOf(text: string): { buildCommit?: string; buildNumber?: number } {
  const build = /^build: ([0-9a-f]{6,40}) \((\d+)\)/m.exec(text);
  return build ? { buildCommit: build[1] as string, buildNumber: Number(build[2]) } : {};
}

export function readMarkdown(file: string, text: string, log: DeviceLog): BenchTest[] {
  const lines = text.split("\n");
  const build = buildOf(text);
  const tests: BenchTest[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (!HEADER.test((lines[index] as string).trim())) continue;
    const columns = cells(lines[index] as string);
    if (!SEPARATOR.test((lines[index + 1] ?? "").trim())) {
      throw new ImportError(file, index + 2, "expected the markdown separator row (| --- | ---: |) under the header");
    }
    index += 2;
    for (; index < lines.length && (lines[index] as string).trim().startsWith("|"); index++) {
      tests.push(markdownRow(file, index + 1, columns, cells(lines[index] as string), build, log));
    }
  }
  return tests;
}

function markdownRow(
  file: string,
  line: number,
  columns: string[],
  values: string[],
  build: ReturnType<typeof buildOf>,
  log: DeviceLog,
): BenchTest {
  if (values.length !== columns.length) {
    throw new ImportError(file, line, `expected ${columns.length} cells as in the header, found ${values.length}`);
  }
  const fields: Record<string, string> = {};
  let shape: TestShape | undefined;
  let result: { mean: number; stddev: number } | undefined;
  let size: number | undefined;
  let params: string | undefined;
  for (const [i, column] of columns.entries()) {
    const value = values[i] as string;
    if (column === "test") shape = testShape(file, line, value);
    else if (column === "t/s") result = rate(file, line, value);
    else if (column === "size") size = sizeBytes(value);
    else if (column === "params") params = value;
    else fields[COLUMN_FIELDS[column] ?? column] = value;
  }
  if (!shape || !result) throw new ImportError(file, line, "expected test and t/s cells");
  const measurement = measurementOf(file, line, shape, { avgTs: result.mean, stddevTs: result.stddev });
  return {
    line,
    model: { type: fields.model_type, sizeApproxBytes: size, parametersText: params },
    noCpu: "llama-bench printed no cpu_info for this result (markdown tables never do)",
    // The GPUs llama.cpp enumerated on stderr before the table (ggml_cuda_init, ggml_vulkan, ggml_metal).
    accelerators: deviceFactsAt(log, line).accelerators,
    buildCommit: build.buildCommit,
    buildNumber: build.buildNumber,
    backendText: fields.backends,
    config: configFromFields(Object.fromEntries(Object.entries(fields).filter(([name]) => name !== "model_type"))),
    measurement,
  };
}
