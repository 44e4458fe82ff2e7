// The automatic quality verdict of a run (speed is never shown without it): which outputs were
// degenerate, whether the model predicts text better than chance, and the suites' scores.
import type { Quality, QualitySuite } from "../../schema/bundle.ts";
import { detectDegeneration } from "../quality/degeneration.ts";
import type { Output } from "./recorder.ts";

/** Perplexity at or above this share of the vocabulary size: the model predicts text about as well as chance. */
export const CHANCE_PERPLEXITY_SHARE = 0.5;
/** A run fails when more than this share of its task answers is degenerate (and there are at least 3). */
export const DEGENERATE_ANSWER_SHARE = 0.5;

export interface QualityInput {
  /** The long greedy continuations of the speed tests. */
  decodeOutputs: Output[];
  suites: QualitySuite[];
  /** Every task answer, from every suite. */
  suiteOutputs: string[];
  perplexity?: Quality["perplexity"] | undefined;
  vocabSize: number;
}

export function judgeQuality(input: QualityInput): Quality {
  const flags: NonNullable<Quality["flags"]> = [];
  // Long greedy continuations loop even in healthy small models, so they are evidence (warn), not a verdict.
  for (const output of input.decodeOutputs) {
    for (const flag of detectDegeneration(output.text, { tokens: output.tokens })) {
      if (flags.some((f) => f.code === flag.code)) continue;
      const evidence = `${output.source} output: ${flag.evidence ?? ""}`.slice(0, 2000);
      flags.push({ ...flag, severity: flag.severity === "fail" ? "warn" : flag.severity, evidence });
    }
  }
  const reasons: string[] = [];
  const degenerate = input.suiteOutputs.filter((text) => detectDegeneration(text).some((f) => f.severity === "fail"));
  if (input.suiteOutputs.length >= 3 && degenerate.length > input.suiteOutputs.length * DEGENERATE_ANSWER_SHARE) {
    const example = JSON.stringify((degenerate[0] ?? "").slice(0, 160));
    const evidence = `${degenerate.length} of ${input.suiteOutputs.length} task answers are degenerate, e.g. ${example}`;
    flags.push({ code: "degenerate_outputs", severity: "fail", source: "automatic", evidence });
    reasons.push(evidence);
  }
  const ppl = input.perplexity;
  if (ppl && input.vocabSize > 0 && ppl.value >= input.vocabSize * CHANCE_PERPLEXITY_SHARE) {
    const evidence =
      `perplexity ${formatPerplexity(ppl.value)} on ${ppl.tokens} tokens of ${ppl.dataset} is at least ` +
      `${CHANCE_PERPLEXITY_SHARE * 100}% of the vocabulary size (${input.vocabSize}): no better than guessing`;
    flags.push({ code: "perplexity_near_chance", severity: "fail", source: "automatic", evidence });
    reasons.push(evidence);
  }
  return {
    verdict: reasons.length
      ? { status: "fail", reason: reasons.join("; "), source: "automatic" }
      : { status: "pass", reason: "no automatic quality gate failed", source: "automatic" },
    flags,
    ...(ppl ? { perplexity: ppl } : {}),
    ...(input.suites.length ? { suites: input.suites } : {}),
  };
}

function formatPerplexity(value: number): string {
  return value >= 1e6 ? value.toExponential(2) : value.toFixed(1);
}
