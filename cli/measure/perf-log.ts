// llama.cpp's performance counters as llama_perf_context_print writes them to its log: the engine-side
// timing of a test (what llama-bench and llama.cpp's own tools report), read without sampling or the
// way back to JavaScript.
import type { EngineTiming } from "./protocol.ts";

// `llama_perf_context_print: prompt eval time =  12.34 ms /   128 tokens (  0.10 ms per token, 10372.77 tokens per second)`
// `llama_perf_context_print:        eval time = 123.45 ms /   127 runs   (  0.97 ms per token,  1028.72 tokens per second)`
// (older builds print the same figures as llama_print_timings).
const PERF_LINE =
  /\b(prompt eval|eval) time\s*=\s*(\S+) ms \/\s*(\d+) (?:tokens|runs)\s*\(\s*\S+ ms per token,\s*(\S+) tokens per second\)/;

/**
 * llama.cpp's counters from the lines llama_perf_context_print wrote; undefined when the eval line is
 * missing or unreadable. llama.cpp prints a count of at least 1 even when nothing ran (with 0.00 ms
 * and an infinite rate), so a zero time stands for a zero count. Both the time and the rate are printed
 * with two decimals: the time is taken from whichever of them has more significant digits (the rate
 * for a short test, the milliseconds for a long one).
 */
export function parsePerfLines(lines: readonly string[]): EngineTiming | undefined {
  const read = (which: "prompt eval" | "eval") => {
    for (const line of lines) {
      const match = line.match(PERF_LINE);
      if (!match || match[1] !== which) continue;
      const ms = Number(match[2]);
      const count = Number(match[3]);
      const rate = Number(match[4]);
      if (!Number.isFinite(ms) || ms < 0 || !Number.isInteger(count)) return undefined;
      if (ms === 0) return { count: 0, ms: 0 };
      return { count, ms: Number.isFinite(rate) && rate > ms ? (count * 1000) / rate : ms };
    }
    return undefined;
  };
  const prompt = read("prompt eval");
  const evals = read("eval");
  if (!prompt || !evals) return undefined;
  return { promptTokens: prompt.count, promptMs: prompt.ms, evalRuns: evals.count, evalMs: evals.ms };
}
