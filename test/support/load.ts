// Shared by the load benchmark (scripts/bench-load.ts) and the fault tests (test/node/faults.test.ts):
// many distinct signed bundles with their expected run ids, a local registry that can be killed
// outright (SIGKILL on the Worker host's whole process group) and started again on the same state, and
// the list of stored run ids read back through the export.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { RunRow } from "../../schema/api.ts";
import { type Envelope, generateKeyPair, type KeyPair, runIdOf, signPayload } from "../../schema/signing.ts";
import { hardwareSlug, modelSlug } from "../../schema/slug.ts";
import { OFFLINE_ENV, ROOT, workerHostArgs } from "../../scripts/local-registry.ts";
import { makeBundle } from "./bundles.ts";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export interface SignedBundle {
  envelope: Envelope;
  /** The envelope as sent: the same bytes on every retry. */
  body: string;
  /** The run id the registry must give it: the hash of its signed content. */
  id: string;
  hardwareSlug: string;
  modelSlug: string;
}

export interface SignOptions {
  /** Keeps the boards and models of one caller apart from another's ("Faults", "Load"…). */
  prefix: string;
  boards?: number;
  models?: number;
  keys?: number;
  /** Which key signs bundle `i` (taken modulo the number of keys); by default they take turns. */
  keyIndex?: (i: number) => number;
  /** The nonces' prefix, when they must differ from another list's with the same `prefix` (default: `prefix`). */
  noncePrefix?: string;
}

/** `n` distinct bundles (distinct nonces), signed with a few fresh keys. */
export async function signBundles(n: number, options: SignOptions): Promise<SignedBundle[]> {
  const boards = options.boards ?? 8;
  const models = options.models ?? 12;
  const keys: KeyPair[] = await Promise.all(Array.from({ length: options.keys ?? 8 }, () => generateKeyPair()));
  const keyIndex = options.keyIndex ?? ((i: number) => i);
  const noncePrefix = (options.noncePrefix ?? options.prefix).replace(/[^A-Za-z0-9]/g, "-");
  const out: SignedBundle[] = [];
  for (let i = 0; i < n; i++) {
    const b = i % boards;
    const m = (i * 7) % models;
    const bundle = makeBundle({
      board: `${options.prefix} Board ${b}`,
      model: `${options.prefix}-Model-${m}`,
      decodeTps: 5 + (i % 97) / 10,
    });
    bundle.provenance.nonce = `${noncePrefix}-${i.toString().padStart(8, "0")}`;
    const key = keys[keyIndex(i) % keys.length] as KeyPair;
    const envelope = await signPayload(bundle, key.privateKey);
    out.push({
      envelope,
      body: JSON.stringify(envelope),
      id: await runIdOf(envelope),
      hardwareSlug: hardwareSlug(bundle.device),
      modelSlug: modelSlug(bundle.model),
    });
  }
  return out;
}

/** Every stored run's id, in the export's order (newest first), duplicates kept if there were any. */
export async function storedRunIds(base: string): Promise<string[]> {
  const res = await fetch(`${base}/v1/export/runs.ndjson`, { signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`GET ${base}/v1/export/runs.ndjson answered ${res.status}`);
  const text = await res.text();
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => RunRow.parse(JSON.parse(line)).id);
}

export interface KillableRegistryOptions {
  port: number;
  persistTo: string;
  configPath: string;
}

/**
 * The local registry (scripts/serve-worker.ts) in its own process group, so that the whole of it (the
 * Node process and the workerd it runs) can be killed at once without a chance to clean up, like a crash or a power
 * cut, and nothing of it outlives the test.
 */
export class KillableRegistry {
  readonly url: string;
  private readonly options: KillableRegistryOptions;
  private child: ChildProcess | undefined;
  private output = "";

  constructor(options: KillableRegistryOptions) {
    this.options = options;
    this.url = `http://127.0.0.1:${options.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  log(): string {
    return this.output;
  }

  async start(timeoutMs = 90_000): Promise<void> {
    if (this.running) throw new Error("the registry is already running");
    const child = spawn(process.execPath, workerHostArgs(this.options), {
      cwd: ROOT,
      env: { ...process.env, ...OFFLINE_ENV },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.child = child;
    // A detached group outlives its parent: if this process exits without stop(), take it along.
    const orphanGuard = () => this.signalGroup("SIGKILL");
    process.once("exit", orphanGuard);
    child.once("exit", () => process.removeListener("exit", orphanGuard));
    const collect = (d: Buffer) => {
      this.output = (this.output + d).slice(-8000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`the Worker exited (${child.exitCode ?? child.signalCode}):\n${this.output}`);
      try {
        const res = await fetch(`${this.url}/v1/hardware`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`the Worker did not answer on ${this.url} within ${timeoutMs} ms:\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** SIGKILL to the whole process group; resolves once wrangler's process is gone and the port is free. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  /** SIGTERM to the group, then SIGKILL after 5 s if it is still there. */
  async stop(): Promise<void> {
    const timer = setTimeout(() => this.signalGroup("SIGKILL"), 5000);
    try {
      await this.signal("SIGTERM");
    } finally {
      clearTimeout(timer);
    }
    // Whatever of the group is left (workerd) goes too.
    this.signalGroup("SIGKILL");
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited =
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((r) => child.once("exit", () => r()));
    this.signalGroup(signal);
    await exited;
    await waitUntilRefused(this.options.port);
  }
}

/** Until nothing listens on the port any more (workerd may outlive its host by a moment). */
async function waitUntilRefused(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/hardware`, { signal: AbortSignal.timeout(500) });
      await res.arrayBuffer();
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`port ${port} still answers after the registry was stopped`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
