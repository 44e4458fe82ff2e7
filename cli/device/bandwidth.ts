// Memory bandwidth for the roofline: decode reads every weight once per token, so bandwidth divided by
// the bytes read per token bounds decode tok/s from above. Measured as a STREAM-style copy on all
// physical cores at once (one core alone cannot saturate a multi-channel memory system), with arrays far
// larger than the last-level cache, and reported with exactly what was measured.
import { freemem } from "node:os";
import { Worker } from "node:worker_threads";
import { physicalCores } from "./fingerprint.ts";
import { list, readText } from "./sysfs.ts";

export interface BandwidthOptions {
  /** Time budget for the timed rounds, after allocation. Default 1000 ms. */
  durationMs?: number;
  /** Worker threads. Default: one per physical core. */
  threads?: number;
}

export interface BandwidthResult {
  bytesPerSec: number;
  method: string;
}

const MiB = 1024 * 1024;
const MIN_ARRAY = 16 * MiB;
const DEFAULT_ARRAY = 64 * MiB;
const MAX_ARRAY = 256 * MiB;
const MAX_TOTAL = 2048 * MiB;

// The worker is plain JavaScript evaluated from a string: it then runs the same under Node's type
// stripping, vitest's transform and a bundle, without resolving a second module file.
//
// Each worker allocates and first-touches its own arrays (so pages are faulted in, and placed on the
// worker's NUMA node, before any timing), then waits on a shared gate. The main thread opens the gate
// for all workers at once; each copies its array `reps` times and reports when it started and ended on
// the wall clock (timeOrigin + now, comparable across threads).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { arrayBytes, gate } = workerData;
const control = new Int32Array(gate);
const src = new Uint8Array(arrayBytes);
const dst = new Uint8Array(arrayBytes);
src.fill(7);
dst.fill(1);
parentPort.postMessage({ ready: true });
let seen = 0;
for (;;) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  if (seen < 0) break;
  const reps = Atomics.load(control, 1);
  const start = performance.timeOrigin + performance.now();
  for (let r = 0; r < reps; r++) dst.set(src);
  const end = performance.timeOrigin + performance.now();
  parentPort.postMessage({ start, end, check: dst[arrayBytes - 1] });
}
`;

const mib = (bytes: number): string => {
  const n = bytes / MiB;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
};

interface RoundResult {
  start: number;
  end: number;
}

/** The largest CPU cache (normally the shared last level), in bytes, if sysfs states it. */
async function lastLevelCacheBytes(root = "/"): Promise<number | undefined> {
  let largest: number | undefined;
  const dir = "/sys/devices/system/cpu/cpu0/cache";
  for (const index of await list(root, dir)) {
    if (!/^index\d+$/.test(index)) continue;
    const size = await readText(root, `${dir}/${index}/size`);
    const match = size ? /^(\d+)([KMG]?)$/i.exec(size) : null;
    if (!match) continue;
    const unit = { "": 1, K: 1024, M: MiB, G: 1024 * MiB }[(match[2] ?? "").toUpperCase()] ?? 1;
    const bytes = Number(match[1]) * unit;
    largest = Math.max(largest ?? 0, bytes);
  }
  return largest;
}

/**
 * Per-thread array size: by default 64 MiB, larger when the caches are (STREAM asks for a working set
 * of at least 4× the last-level cache), capped so all arrays together stay within a quarter of free
 * memory and 2 GiB.
 */
function arraySize(threads: number, llc: number | undefined): number {
  const wanted = Math.max(DEFAULT_ARRAY, llc ? Math.ceil((4 * llc) / (2 * threads)) : 0);
  const budget = Math.min(MAX_TOTAL, freemem() / 4);
  const fitting = Math.floor(budget / (2 * threads));
  const size = Math.max(MIN_ARRAY, Math.min(MAX_ARRAY, wanted, fitting));
  return size - (size % 4096);
}

export async function measureMemoryBandwidth(options: BandwidthOptions = {}): Promise<BandwidthResult> {
  const durationMs = Math.max(50, options.durationMs ?? 1000);
  const threads = Math.max(1, Math.floor(options.threads ?? physicalCores()));
  const llc = await lastLevelCacheBytes();
  const arrayBytes = arraySize(threads, llc);
  const gate = new SharedArrayBuffer(8);
  const control = new Int32Array(gate);
  const workers: Worker[] = [];
  const inbox: Array<Array<(message: RoundResult) => void>> = [];
  let closing = false;
  let fail: (error: Error) => void = () => {};
  // A worker that dies (out of memory, killed) must fail the measurement, not leave a round waiting.
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failure.catch(() => {});

  try {
    const ready: Array<Promise<void>> = [];
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { arrayBytes, gate } });
      workers.push(worker);
      const waiting: Array<(message: RoundResult) => void> = [];
      inbox.push(waiting);
      worker.on("error", (error) => fail(error));
      worker.on("exit", (code) => {
        if (!closing) fail(new Error(`bandwidth worker exited early (code ${code})`));
      });
      ready.push(
        new Promise((resolve) => {
          worker.on("message", (message: { ready?: boolean } & RoundResult) => {
            if (message.ready) resolve();
            else waiting.shift()?.(message);
          });
        }),
      );
    }
    await Promise.race([Promise.all(ready), failure]);

    /** One round: every worker copies its array `reps` times; the rate is over the span of all of them. */
    const round = async (reps: number): Promise<{ bytesPerSec: number; ms: number }> => {
      const results = inbox.map((waiting) => new Promise<RoundResult>((resolve) => waiting.push(resolve)));
      Atomics.store(control, 1, reps);
      Atomics.add(control, 0, 1);
      Atomics.notify(control, 0);
      const done = await Promise.race([Promise.all(results), failure]);
      const ms = Math.max(...done.map((r) => r.end)) - Math.min(...done.map((r) => r.start));
      // STREAM's convention: a copy reads the source and writes the destination, 2× the array per copy.
      const bytes = 2 * arrayBytes * reps * threads;
      return { bytesPerSec: bytes / (ms / 1000), ms };
    };

    // A first round of one copy calibrates how many copies fit in the budget; it is a valid sample too.
    const began = performance.now();
    const first = await round(1);
    let best = first.bytesPerSec;
    let rounds = 1;
    const reps = Math.max(1, Math.floor(durationMs / 4 / Math.max(first.ms, 0.001)));
    while (rounds < 6) {
      const elapsed = performance.now() - began;
      if (elapsed + reps * first.ms > durationMs && rounds >= 2) break;
      const result = await round(reps);
      best = Math.max(best, result.bytesPerSec);
      rounds++;
    }
    const seconds = (performance.now() - began) / 1000;
    const method =
      "STREAM-style copy (TypedArray.set, i.e. memmove) " +
      `on ${threads === 1 ? "1 worker thread" : `${threads} worker threads at once`}, ` +
      `each copying its own ${mib(arrayBytes)} MiB source to a ${mib(arrayBytes)} MiB destination ` +
      `(${mib(2 * threads * arrayBytes)} MiB in all` +
      `${llc ? `; last-level cache ${Math.round(llc / MiB)} MiB` : ""}); ` +
      `best of ${rounds} rounds in ${seconds.toFixed(1)} s; counts bytes read + written (2× the array per copy), ` +
      "not write-allocate traffic; copy bandwidth, not read-only bandwidth";
    return { bytesPerSec: best, method };
  } finally {
    closing = true;
    Atomics.store(control, 0, -1);
    Atomics.notify(control, 0);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
