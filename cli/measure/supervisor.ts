// The parent side of a measurement child: start it, hand it one test at a time with a deadline, and
// turn a crash, an OOM kill, a timeout or Ctrl-C into a recorded failure instead of a lost run.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  ChildMessage,
  type EngineConfig,
  type Ready,
  type Resources,
  type TestResult,
  type TestSpec,
} from "./protocol.ts";

// child.ts beside this file in the sources; child.js beside the chunk this is bundled into in the
// built package (cli/build.ts), which runs on Node 20 (no import.meta.dirname before 20.11).
const CHILD = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "./child.ts" : "./child.js", import.meta.url));
const STDERR_TAIL = 4000;

export type FailureKind = "crash" | "oom" | "timeout" | "interrupted" | "error";

export interface ChildFailure {
  kind: FailureKind;
  message: string;
  exitCode?: number;
  signal?: string;
}

export type Outcome<T> = { ok: true; value: T; resources: Resources } | { ok: false; failure: ChildFailure };

type Waiter = { id: number | null; resolve: (outcome: Outcome<TestResult> | Outcome<Ready>) => void };

export class MeasurementChild {
  readonly process: ChildProcess;
  private stderr = "";
  private waiter: Waiter | undefined;
  private stoppedBy: "timeout" | "interrupted" | "quit" | undefined;
  private nextId = 1;
  private exited = false;

  private constructor(child: ChildProcess) {
    this.process = child;
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_TAIL);
    });
    child.on("message", (raw) => this.onMessage(raw));
    child.on("exit", (code, signal) => this.onExit(code, signal));
    child.on("error", (error) => this.settle({ ok: false, failure: { kind: "error", message: error.message } }));
  }

  /** Starts a child and loads the model in it; the failure says why if that did not work. */
  static async start(
    config: EngineConfig,
    timeoutMs: number,
  ): Promise<{ child: MeasurementChild; ready: Ready } | { child: MeasurementChild; failure: ChildFailure }> {
    const child = new MeasurementChild(
      fork(CHILD, [], { stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "json" }),
    );
    const outcome = (await child.request({ type: "init", config }, null, timeoutMs)) as Outcome<Ready>;
    return outcome.ok ? { child, ready: outcome.value } : { child, failure: outcome.failure };
  }

  get alive(): boolean {
    return !this.exited;
  }

  async run(spec: TestSpec, timeoutMs: number): Promise<Outcome<TestResult>> {
    const id = this.nextId++;
    return (await this.request({ type: "test", id, spec }, id, timeoutMs)) as Outcome<TestResult>;
  }

  /** Ends the child at once: the test under way, if any, is recorded as interrupted. */
  interrupt(): void {
    this.stoppedBy ??= "interrupted";
    this.process.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.stoppedBy ??= "quit";
    const exited = new Promise((resolve) => this.process.once("exit", resolve));
    this.process.send({ type: "quit" });
    const timer = setTimeout(() => this.process.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  private request(
    message: object,
    id: number | null,
    timeoutMs: number,
  ): Promise<Outcome<TestResult> | Outcome<Ready>> {
    if (this.exited) {
      return Promise.resolve({ ok: false, failure: { kind: "error", message: "the measurement process is gone" } });
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.stoppedBy ??= "timeout";
        this.process.kill("SIGKILL");
      }, timeoutMs);
      this.waiter = {
        id,
        resolve: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
      };
      this.process.send(message);
    });
  }

  private settle(outcome: Outcome<TestResult> | Outcome<Ready>): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve(outcome);
  }

  private onMessage(raw: unknown): void {
    const parsed = ChildMessage.safeParse(raw);
    if (!parsed.success) {
      this.settle({
        ok: false,
        failure: { kind: "error", message: "the measurement process sent a malformed message" },
      });
      return;
    }
    const message = parsed.data;
    if (message.type === "ready") this.settle({ ok: true, value: message, resources: message.resources });
    else if (message.type === "result") this.settle({ ok: true, value: message.result, resources: message.resources });
    else this.settle({ ok: false, failure: { kind: "error", message: message.message } });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    if (!this.waiter) return;
    const tail = this.stderr.trim().split("\n").slice(-6).join("\n");
    const base = { ...(code === null ? {} : { exitCode: code }), ...(signal === null ? {} : { signal }) };
    let failure: ChildFailure;
    if (this.stoppedBy === "timeout") {
      failure = { ...base, kind: "timeout", message: "the test did not finish within its time limit" };
    } else if (this.stoppedBy === "interrupted") {
      failure = { ...base, kind: "interrupted", message: "the run was interrupted" };
    } else if (signal === "SIGKILL") {
      failure = {
        ...base,
        kind: "oom",
        message: "the process was killed (SIGKILL), most likely by the out-of-memory killer",
      };
    } else {
      const how = signal ? `died of ${signal}` : `exited with code ${code}`;
      failure = { ...base, kind: "crash", message: `llama.cpp ${how}${tail ? `: ${tail}` : ""}` };
    }
    this.settle({ ok: false, failure });
  }
}
