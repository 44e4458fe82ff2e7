// The measurement child: loads the model once, then runs one test per message from the parent.
// It exists so that a llama.cpp abort, a segfault or the OOM killer ends this process only; the
// parent records that as a failure and keeps everything measured before it.
import { appendFileSync } from "node:fs";
import { closeEngine, type Engine, openEngine, resources, runTest } from "./engine.ts";
import type { ChildMessage, ParentMessage, TestResult, TestSpec } from "./protocol.ts";

// Ctrl-C reaches the whole process group; the parent decides what happens, and then ends this child.
process.on("SIGINT", () => {});
// A parent that died (even by SIGKILL) leaves no orphan measuring for nobody.
process.on("disconnect", () => process.exit(0));

// Fault injection for the tests of the supervisor: abort like llama.cpp's GGML_ASSERT does.
const abortOn = process.env.EDGEBENCH_TEST_ABORT_ON;
// For the tests of the measurement plan: one JSON line per test this process ran, with llama.cpp's
// own count of what it evaluated, so a test can see every run (warm-ups included) that reached the engine.
const traceFile = process.env.EDGEBENCH_TEST_TRACE;

let engine: Engine | undefined;

function send(message: ChildMessage): void {
  process.send?.(message);
}

function trace(file: string, spec: TestSpec, result: TestResult): void {
  const line = {
    kind: spec.kind,
    ...("nPrompt" in spec ? { nPrompt: spec.nPrompt } : {}),
    ...("nGen" in spec ? { nGen: spec.nGen } : {}),
    engine: ("engine" in result ? result.engine : undefined) ?? null,
  };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

process.on("message", async (message: ParentMessage) => {
  try {
    if (message.type === "init") {
      const opened = await openEngine(message.config);
      engine = opened.engine;
      send(opened.ready);
    } else if (message.type === "test") {
      if (!engine) throw new Error("test before init");
      if (abortOn === message.spec.kind) process.abort();
      const result = await runTest(engine, message.spec);
      if (traceFile) trace(traceFile, message.spec, result);
      send({ type: "result", id: message.id, result, resources: await resources(engine) });
    } else {
      if (engine) await closeEngine(engine);
      process.disconnect?.();
      process.exit(0);
    }
  } catch (error) {
    send({ type: "error", id: message.type === "test" ? message.id : null, message: (error as Error).message });
  }
});
