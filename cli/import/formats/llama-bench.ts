// llama-bench (llama.cpp's tools/llama-bench) in all its output modes: md (the default, often a
// console capture), csv, json, jsonl and sql. Every result becomes one measurement; results of the
// same model and configuration on the same machine and build make one bundle.
import type { Accelerator, Bundle, Device, Model, Runtime } from "../../../schema/bundle.ts";
import { deviceFor, importedBundle, modelNameFor } from "../build.ts";
import { type ImportContext, ImportError, type Importer } from "../types.ts";
import { type DeviceLog, deviceFactsAt, scanDeviceLog } from "./device-log.ts";
import {
  type BenchTest,
  backendOf,
  configFromFields,
  describeModelType,
  durationsOf,
  gpuNames,
  intField,
  legacyBackendText,
  measurementOf,
  modelNameFromFile,
  numberField,
  numberList,
  textField,
} from "./llama-bench-fields.ts";
import { hasMarkdownTable, readMarkdown } from "./llama-bench-markdown.ts";
import { type RawRecord, readRecords, recordModeOf } from "./llama-bench-records.ts";

export const llamaBench: Importer = {
  format: "llama-bench",
  detect(text) {
    const mode = recordModeOf(text);
    if (mode) return /avg_(ts|ns)/.test(text) ? 0.95 : 0.6;
    // A table with `test` and `t/s` columns is llama-bench's own; its pp/tg test names make it certain.
    if (hasMarkdownTable(text)) return /\|\s*(pp|tg)\s*\d+/.test(text) ? 0.95 : 0.6;
    return 0;
  },
  parse(text, context) {
    const mode = recordModeOf(text);
    // llama.cpp's stderr, when the capture has it, names the GPUs that gpu_info (or a markdown table) does not.
    const log = scanDeviceLog(text);
    const tests = mode
      ? readRecords(context.file, text, mode).map((record) => testFromRecord(context.file, record, log))
      : readMarkdown(context.file, text, log);
    if (tests.length === 0) {
      throw new ImportError(
        context.file,
        undefined,
        "expected llama-bench results (a table with test and t/s columns, or -o json/jsonl/csv/sql)",
      );
    }
    return groupTests(tests).map((group) => bundleOf(group, context));
  },
};

// ---------------------------------------------------------------------------------------------
// json, jsonl, csv, sql: one record of llama-bench fields per result

function testFromRecord(file: string, { line, fields }: RawRecord, log: DeviceLog): BenchTest {
  const nPrompt = intField(fields.n_prompt);
  const nGen = intField(fields.n_gen);
  if (nPrompt === undefined || nGen === undefined || nPrompt < 0 || nGen < 0) {
    throw new ImportError(file, line, "expected n_prompt and n_gen as token counts in each llama-bench result");
  }
  const depth = intField(fields.n_depth) ?? 0;
  const timing = {
    avgTs: numberField(fields.avg_ts),
    stddevTs: numberField(fields.stddev_ts),
    samplesTs: numberList(fields.samples_ts),
    avgNs: numberField(fields.avg_ns),
    stddevNs: numberField(fields.stddev_ns),
    samplesNs: numberList(fields.samples_ns),
  };
  const measurement = measurementOf(file, line, { nPrompt, nGen, depth }, timing);
  const durations = durationsOf({ nPrompt, nGen, depth }, timing);
  const gpus = gpuNames(textField(fields.gpu_info));
  const cpu = textField(fields.cpu_info);
  return {
    line,
    model: {
      type: textField(fields.model_type),
      fileName: textField(fields.model_filename),
      sizeBytes: intField(fields.model_size),
      parameters: intField(fields.model_n_params),
    },
    cpu,
    noCpu:
      fields.cpu_info === undefined
        ? "llama-bench printed no cpu_info for this result"
        : "llama-bench's cpu_info is empty",
    accelerators: gpus.length
      ? gpus.map((model): Accelerator => ({ type: "gpu", model }))
      : deviceFactsAt(log, line).accelerators,
    buildCommit: textField(fields.build_commit),
    buildNumber: intField(fields.build_number),
    backendText: textField(fields.backends) ?? legacyBackendText(fields),
    config: configFromFields(fields),
    measurement,
    ...(durations ? { durations } : {}),
    testTime: textField(fields.test_time),
  };
}

// ---------------------------------------------------------------------------------------------
// grouping: one bundle per model × configuration (× machine and build, which a file rarely mixes)

function groupKey(test: BenchTest): string {
  const { line: _line, measurement: _measurement, durations: _durations, testTime: _testTime, ...identity } = test;
  return JSON.stringify(identity);
}

function groupTests(tests: BenchTest[]): BenchTest[][] {
  const groups = new Map<string, BenchTest[]>();
  for (const test of tests) {
    const key = groupKey(test);
    groups.set(key, [...(groups.get(key) ?? []), test]);
  }
  return [...groups.values()];
}

// ---------------------------------------------------------------------------------------------
// the bundle

function deviceOf(first: BenchTest, context: ImportContext): Device {
  const fromFile: Device = {
    ...(first.cpu ? { cpu: { model: first.cpu } } : {}),
    ...(first.accelerators.length ? { accelerators: first.accelerators } : {}),
  };
  // Say where the search for the hardware started: the first result of this model and configuration.
  return deviceFor(context, fromFile, { cpu: "llama-bench's cpu_info", missing: first.noCpu, line: first.line });
}

function runtimeOf(first: BenchTest): Runtime {
  const runtime: Runtime = { engine: "llama.cpp" };
  // llama.cpp's releases are tagged b<build number>; the commit is the exact build.
  if (first.buildNumber !== undefined) runtime.version = `b${first.buildNumber}`;
  if (first.buildCommit) runtime.build = first.buildCommit;
  if (first.backendText) {
    runtime.backend = backendOf(first.backendText);
    if (runtime.backend === "other" || /,/.test(first.backendText)) {
      runtime.notes = `llama-bench backend: ${first.backendText}`;
    }
  }
  return runtime;
}

function modelOf(first: BenchTest, context: ImportContext): Model {
  const { type, fileName, sizeBytes, sizeApproxBytes, parameters, parametersText } = first.model;
  const baseName = fileName?.split(/[\\/]/).pop();
  const fromFile = baseName ? modelNameFromFile(baseName) : type;
  const model: Model = { name: modelNameFor(context, fromFile, first.line) };
  if (type) Object.assign(model, describeModelType(type));
  if (parameters !== undefined && parameters > 0) model.parameters = parameters;
  if (baseName) {
    model.fileName = baseName;
    if (/\.gguf$/i.test(baseName)) model.format = "gguf";
  }
  if (sizeBytes !== undefined) model.fileBytes = sizeBytes;
  else if (sizeApproxBytes !== undefined) model.fileBytes = { value: sizeApproxBytes, precision: "approximate" };
  const notes = [
    type && type !== model.name ? `llama-bench model type: ${type}` : "",
    parametersText ? `parameters as llama-bench rounds them: ${parametersText}` : "",
  ].filter(Boolean);
  if (notes.length) model.notes = notes.join("; ");
  return model;
}

function earliest(times: Array<string | undefined>): string | undefined {
  return times.filter((t): t is string => t !== undefined && !Number.isNaN(Date.parse(t))).sort()[0];
}

function bundleOf(group: BenchTest[], context: ImportContext): Bundle {
  const first = group[0] as BenchTest;
  const toolVersion =
    first.buildCommit || first.buildNumber !== undefined
      ? [first.buildCommit, first.buildNumber !== undefined ? `(${first.buildNumber})` : ""].filter(Boolean).join(" ")
      : undefined;
  return importedBundle(
    {
      device: deviceOf(first, context),
      runtime: runtimeOf(first),
      model: modelOf(first, context),
      ...(Object.keys(first.config).length ? { config: first.config } : {}),
      // The rates first, then the times of their repetitions, in the file's order.
      measurements: [
        ...group.map((test) => test.measurement),
        ...group.flatMap((test) => (test.durations ? [test.durations] : [])),
      ],
    },
    "llama-bench",
    context,
    { toolVersion, measuredAt: earliest(group.map((t) => t.testTime)) },
  );
}
