// Degeneration gates: cheap checks on one generated output that catch a model which is fast but
// broken (seed 000: a repetition loop at 29.8 tok/s; seed 002: only dots or "method method…"; seed
// 003: <think> loops, "3333…" and blank answers). Each finding is a named flag with the excerpt and
// the numbers that tripped it, so a reader can check the verdict instead of trusting it.
import type { QualityFlag } from "../../schema/bundle.ts";
import { splitThink } from "./think.ts";

/**
 * Every threshold the gates use, with why it sits where it does. They are tuned so that the broken
 * outputs of the field reports are caught and prose, code, JSON, lists, tables and one-word answers
 * are not (test/node/quality.test.ts holds both sides).
 */
export const DEGENERATION_THRESHOLDS = {
  /** Longer outputs are judged on their last this-many characters: loops sit at the end, and the scans stay fast. */
  maxAnalyzedChars: 200_000,
  /** Shorter runs of one character are style ("...", "!!!", "**"), never counted. */
  repeatedCharMinRun: 5,
  /** A run making up this share of the non-space output is the whole answer ("......", "3333333333"): fail. */
  repeatedCharDominantShare: 0.8,
  /**
   * A run this long fails anywhere: no number a model prints has 24 equal digits (a float64 has 17).
   * Runs of 0 and f are exempt: all-zero and all-ones hex values (addresses, masks, hashes) are data.
   */
  repeatedCharFailRun: 24,
  /** A run of one letter or symbol this long inside normal text ("Loading..........") is suspicious: warn. */
  repeatedCharWarnRun: 10,
  /** A single word this many times in a row is a loop (seed 002's "method" ×6); prose stops at "no, no, no". */
  loopMinRepeatsWord: 6,
  /** A phrase of 2–7 words this many times in a row is a loop (seed 000's "Machine Learning" ×8). */
  loopMinRepeatsPhrase: 4,
  /** Units this many words long or longer count as sentences: eight words is a short sentence. */
  loopSentenceWords: 8,
  /** A sentence three times back to back is already a loop (seed 000 repeated its 16-word prompt 20+ times). */
  loopMinRepeatsSentence: 3,
  /** Longest repeating unit looked for, in words: a long paragraph; longer loops still show in low_distinct_n. */
  loopMaxPeriod: 64,
  /** A loop covering this share of the words, or running to the end of the output, makes it unusable: fail. */
  loopFailShare: 0.3,
  /** Longest unit repeated_ngram_run looks for, in characters or tokens: a special token or a short sentence. */
  ngramMaxPeriod: 32,
  /** A run below word level must be at least this long: 64 characters is a line of text, not a stylistic "hahaha". */
  ngramMinRunChars: 64,
  /** The same for token ids: 48 tokens is about the length of those 64 characters and more. */
  ngramMinRunTokens: 48,
  /** …and repeat its unit at least this many times, so a long unit seen twice is not a run. */
  ngramMinRepeats: 4,
  /** distinct-n is only judged on outputs at least this long: a short answer has too few words to judge. */
  distinctMinWords: 50,
  /** distinct-n is measured in windows of this many words (half-overlapping) so long healthy texts are not penalised. */
  distinctWindow: 100,
  /** Per 100 words prose has 0.5–0.8 distinct words and code 0.3+; seed 000's word salad has 0.13. Below: warn. */
  distinct1Warn: 0.2,
  /** Prose and code keep distinct-2 ≥ 0.75, repetitive JSON data ≥ 0.4; below this is suspicious: warn. */
  distinct2Warn: 0.5,
  /** Below this, most word pairs in a window are repeats: the output is a loop or word salad: fail. */
  distinct2Fail: 0.3,
  /** Think blocks shorter than this are never suspicious: a short reasoning before "42" is normal. */
  thinkMinChars: 1_000,
  /** A closed think block taking this share of the output leaves almost no answer: warn (it may still be right). */
  thinkShareWarn: 0.9,
  /** Quoted excerpts in evidence are cut to this many characters. */
  excerptChars: 80,
} as const;

const T = DEGENERATION_THRESHOLDS;

export interface DegenerationOptions {
  /** The generated token ids, when the runner has them: an output of only pad/EOS ids is pad_only. */
  tokens?: number[];
  /** Which ids are padding or end-of-sequence for this model's vocabulary. */
  padTokenIds?: number[];
}

// What a broken model emits instead of text: NUL bytes, replacement characters, zero-width
// characters and special tokens printed literally by a runtime that does not strip them.
const FILLER =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what a broken model emits.
  /\u0000|\uFFFD|[\u200B-\u200D\u2060\uFEFF]|<pad>|<unk>|<\/?s>|<eos>|<bos>|\[PAD\]|\[UNK\]|<\|(?:endoftext|end_of_text|im_end|eot_id|end|pad)\|>|<end_of_turn>/giu;

// Characters that draw lines in markdown and ASCII art (tables, rules, headings): a long run of them
// is layout, so only an output made of nothing else counts.
const RULE_CHARS = new Set(["-", "=", "_", "*", "#", "~", "`", "+", "─", "━", "═"]);

const HEX_FILL = new Set(["0", "f", "F"]);

const flag = (code: string, severity: QualityFlag["severity"], evidence: string): QualityFlag => ({
  code,
  severity,
  source: "automatic",
  evidence,
});

const percent = (share: number) => `${Math.round(share * 100)}%`;

/** A short quoted excerpt, control characters escaped, cut with an ellipsis. */
export function excerpt(text: string, max: number = T.excerptChars): string {
  const chars = Array.from(text.replace(/\s+/g, " ").trim());
  const cut = chars.length > max ? `${chars.slice(0, max).join("")}…` : chars.join("");
  return JSON.stringify(cut);
}

/** Names what is wrong with one generated output; an empty list when nothing is. */
export function detectDegeneration(output: string, options: DegenerationOptions = {}): QualityFlag[] {
  const blank = blankOutput(output, options);
  if (blank) return [blank];
  const text = output.length > T.maxAnalyzedChars ? output.slice(-T.maxAnalyzedChars) : output;
  const words = wordsOf(text);
  const loop = repetitionLoop(words, text);
  return [
    repeatedChar(text),
    loop,
    // A loop of words already explains the character run inside it: one finding, not two.
    loop ? undefined : repeatedNgramRun(text, options.tokens),
    lowDistinctN(words, text),
    runawayThink(output),
  ].filter((f): f is QualityFlag => f !== undefined);
}

// ---------------------------------------------------------------------------------------------
// empty_output, pad_only

function blankOutput(output: string, { tokens, padTokenIds }: DegenerationOptions): QualityFlag | undefined {
  const tokenNote = tokens ? ` from ${tokens.length} generated tokens` : "";
  if (tokens?.length && padTokenIds?.length) {
    const pads = new Set(padTokenIds);
    if (tokens.every((t) => pads.has(t))) {
      const ids = [...new Set(tokens)].slice(0, 5).join(", ");
      return flag(
        "pad_only",
        "fail",
        `all ${tokens.length} generated tokens are pad/EOS ids (${ids}); text ${excerpt(output)}`,
      );
    }
  }
  const withoutFiller = output.replace(FILLER, "");
  if (withoutFiller.trim() !== "") return undefined;
  if (withoutFiller.length !== output.length) {
    const fillers = output.match(FILLER) ?? [];
    return flag(
      "pad_only",
      "fail",
      `the output is only padding, NUL or special-token text (${fillers.length} of them${tokenNote}): ${excerpt(output)}`,
    );
  }
  const what = output.length === 0 ? "nothing" : `${output.length} whitespace characters`;
  return flag("empty_output", "fail", `the output is ${what}${tokenNote}`);
}

// ---------------------------------------------------------------------------------------------
// repeated_char

// One code point followed by copies of itself; `u` so an emoji counts as one character.
const CHAR_RUN = new RegExp(`(\\S)\\1{${T.repeatedCharMinRun - 1},}`, "gu");

function repeatedChar(text: string): QualityFlag | undefined {
  const nonSpace = Array.from(text.replace(/\s+/g, "")).length;
  let worst: { char: string; length: number; index: number; severity: "warn" | "fail" } | undefined;
  for (const match of text.matchAll(CHAR_RUN)) {
    const char = match[1] ?? "";
    const length = Array.from(match[0]).length;
    const index = match.index;
    const severity = charRunSeverity(char, length, nonSpace, text[index - 1]);
    if (!severity) continue;
    if (
      !worst ||
      (severity === "fail" && worst.severity === "warn") ||
      (severity === worst.severity && length > worst.length)
    ) {
      worst = { char, length, index, severity };
    }
  }
  if (!worst) return undefined;
  return flag(
    "repeated_char",
    worst.severity,
    `${JSON.stringify(worst.char)} repeated ${worst.length} times in a row (${percent(worst.length / nonSpace)} of the non-space output): ${excerpt(text.slice(worst.index))}`,
  );
}

function charRunSeverity(char: string, length: number, nonSpace: number, before: string | undefined) {
  // Lines drawn with rule characters are layout, unless the output is nothing else.
  if (RULE_CHARS.has(char)) return length === nonSpace ? "fail" : undefined;
  const long = length >= T.repeatedCharFailRun && !HEX_FILL.has(char);
  if (/\d/.test(char)) {
    // Digits inside a number (1000000, 0.3333333333333333) only fail when no number could be that long.
    if (before !== undefined && /[\d.,]/.test(before)) return long ? "fail" : undefined;
    return long || length / nonSpace >= T.repeatedCharDominantShare ? "fail" : undefined;
  }
  if (long || length / nonSpace >= T.repeatedCharDominantShare) return "fail";
  return length >= T.repeatedCharWarnRun ? "warn" : undefined;
}

// ---------------------------------------------------------------------------------------------
// words

interface Words {
  /** Lower-cased, with leading and trailing punctuation removed, so "Learning," equals "learning". */
  list: string[];
  /** Where each word starts in the analyzed text, for excerpts. */
  offsets: number[];
}

function wordsOf(text: string): Words {
  const list: string[] = [];
  const offsets: number[] = [];
  for (const match of text.matchAll(/\S+/g)) {
    const word = match[0].toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
    // Pure punctuation ("|", "---", "=>") is layout, not a word.
    if (word === "") continue;
    list.push(word);
    offsets.push(match.index);
  }
  return { list, offsets };
}

/** Whether words[start, start+length) repeats with a shorter period that divides its length. */
function hasShorterPeriod(w: string[], start: number, length: number): boolean {
  for (let d = 1; d < length; d++) {
    if (length % d !== 0) continue;
    let periodic = true;
    for (let i = start + d; i < start + length && periodic; i++) periodic = w[i] === w[i - d];
    if (periodic) return true;
  }
  return false;
}

const unitText = (w: string[], start: number, length: number) =>
  JSON.stringify(length > 8 ? `${w.slice(start, start + 8).join(" ")} …` : w.slice(start, start + length).join(" "));

// ---------------------------------------------------------------------------------------------
// repetition_loop

const minRepeats = (period: number) =>
  period === 1
    ? T.loopMinRepeatsWord
    : period < T.loopSentenceWords
      ? T.loopMinRepeatsPhrase
      : T.loopMinRepeatsSentence;

interface Loop {
  start: number;
  period: number;
  span: number;
  severity: "warn" | "fail";
}

/** Fail before warn, then the longer loop, then the shorter unit ("machine" ×9 rather than "machine machine" ×4). */
const worse = (a: Loop, b: Loop | undefined) =>
  !b || (a.severity !== b.severity ? a.severity === "fail" : a.span !== b.span ? a.span > b.span : a.period < b.period);

function repetitionLoop({ list: w, offsets }: Words, text: string): QualityFlag | undefined {
  const n = w.length;
  let best: Loop | undefined;
  const consider = (start: number, period: number, matches: number) => {
    const span = matches + period;
    if (Math.floor(span / period) < minRepeats(period)) return;
    const toEnd = start + span === n;
    const loop: Loop = { start, period, span, severity: toEnd || span / n >= T.loopFailShare ? "fail" : "warn" };
    if (!worse(loop, best)) return;
    // A unit of bare numbers is data (a zero vector, a matrix row), not a model stuck in a loop.
    if (!w.slice(start, start + period).some((word) => /\p{L}/u.test(word))) return;
    if (period > 1 && hasShorterPeriod(w, start, period)) return;
    best = loop;
  };
  for (let period = 1; period <= Math.min(T.loopMaxPeriod, Math.floor(n / 2)); period++) {
    let run = 0;
    for (let i = 0; i + period < n; i++) {
      if (w[i] === w[i + period]) run++;
      else {
        if (run) consider(i - run, period, run);
        run = 0;
      }
    }
    if (run) consider(n - period - run, period, run);
  }
  if (!best) return undefined;
  const { start, period, span, severity } = best;
  const toEnd = start + span === n;
  const unit = period === 1 ? "word" : `${period}-word phrase`;
  return flag(
    "repetition_loop",
    severity,
    `the ${unit} ${unitText(w, start, period)} repeated ${Math.floor(span / period)} times in a row (${span} of ${n} words, ${percent(span / n)}${toEnd ? ", running to the end of the output" : ""}): ${excerpt(text.slice(offsets[start]))}`,
  );
}

// ---------------------------------------------------------------------------------------------
// repeated_ngram_run: the same loop seen below the word level, where there are no spaces to split
// on: "<|im_start|><|im_start|>…", "我是我是我是…", "hahahaha…", or a token sequence the runner saw.

interface Run {
  start: number;
  period: number;
  length: number;
}

/** The longest stretch of `seq` that is one unit of 2..maxPeriod elements repeated, unit accepted by `keep`. */
function longestPeriodicRun<T>(seq: readonly T[], maxPeriod: number, keep: (run: Run) => boolean): Run | undefined {
  let best: Run | undefined;
  for (let period = 2; period <= Math.min(maxPeriod, Math.floor(seq.length / 2)); period++) {
    let run = 0;
    for (let i = 0; i + period <= seq.length; i++) {
      if (i + period < seq.length && seq[i] === seq[i + period]) {
        run++;
        continue;
      }
      const candidate = { start: i - run, period, length: run + period };
      if (run >= period && (!best || candidate.length > best.length) && keep(candidate)) best = candidate;
      run = 0;
    }
  }
  return best;
}

function repeatedNgramRun(text: string, tokens: number[] | undefined): QualityFlag | undefined {
  const chars = Array.from(text);
  const charRun = longestPeriodicRun(chars, T.ngramMaxPeriod, ({ start, period, length }) => {
    if (length < T.ngramMinRunChars || length / period < T.ngramMinRepeats) return false;
    const unit = chars.slice(start, start + period).join("");
    // A unit with no letter or pictograph is layout or data: "|---", "=-", "0, ", "\n\n".
    return /[\p{L}\p{So}]/u.test(unit) && !/^(.)\1*$/u.test(unit);
  });
  if (charRun) {
    const { start, period, length } = charRun;
    const unit = chars.slice(start, start + period).join("");
    const toEnd = start + length === chars.length;
    const share = length / chars.length;
    return flag(
      "repeated_ngram_run",
      toEnd || share >= T.loopFailShare ? "fail" : "warn",
      `${JSON.stringify(unit)} (${period} characters) repeated ${Math.floor(length / period)} times in a row, ${length} of ${chars.length} characters (${percent(share)}${toEnd ? ", running to the end of the output" : ""}): ${excerpt(chars.slice(start).join(""))}`,
    );
  }
  if (!tokens?.length) return undefined;
  const tokenRun = longestPeriodicRun(
    tokens,
    T.ngramMaxPeriod,
    ({ length, period }) => length >= T.ngramMinRunTokens && length / period >= T.ngramMinRepeats,
  );
  if (!tokenRun) return undefined;
  const { start, period, length } = tokenRun;
  const toEnd = start + length === tokens.length;
  const share = length / tokens.length;
  return flag(
    "repeated_ngram_run",
    toEnd || share >= T.loopFailShare ? "fail" : "warn",
    `token ids [${tokens.slice(start, start + Math.min(period, 12)).join(", ")}${period > 12 ? ", …" : ""}] (${period} tokens) repeated ${Math.floor(length / period)} times in a row, ${length} of ${tokens.length} tokens (${percent(share)}${toEnd ? ", running to the end of the output" : ""})`,
  );
}

// ---------------------------------------------------------------------------------------------
// low_distinct_n

function lowDistinctN({ list: w, offsets }: Words, text: string): QualityFlag | undefined {
  const n = w.length;
  if (n < T.distinctMinWords) return undefined;
  const size = Math.min(T.distinctWindow, n);
  const step = Math.max(1, Math.floor(size / 2));
  let worst: { start: number; d1: number; d2: number } | undefined;
  for (let start = 0; ; start += step) {
    // The last window is aligned to the end so the tail, where loops sit, is always measured whole.
    const from = Math.min(start, n - size);
    const window = w.slice(from, from + size);
    const d1 = new Set(window).size / window.length;
    const pairs = new Set<string>();
    for (let i = 0; i + 1 < window.length; i++) pairs.add(`${window[i]} ${window[i + 1]}`);
    const d2 = pairs.size / (window.length - 1);
    if (!worst || d2 < worst.d2 || (d2 === worst.d2 && d1 < worst.d1)) worst = { start: from, d1, d2 };
    if (from + size >= n) break;
  }
  if (!worst) return undefined;
  const { d1, d2 } = worst;
  if (d2 >= T.distinct2Warn && d1 >= T.distinct1Warn) return undefined;
  const severity = d2 < T.distinct2Fail ? "fail" : "warn";
  return flag(
    "low_distinct_n",
    severity,
    `in words ${worst.start + 1}–${worst.start + size} of ${n}: distinct-1 ${d1.toFixed(2)}, distinct-2 ${d2.toFixed(2)} (healthy text ≥ ${T.distinct1Warn} and ≥ ${T.distinct2Warn}): ${excerpt(text.slice(offsets[worst.start]))}`,
  );
}

// ---------------------------------------------------------------------------------------------
// runaway_think

function runawayThink(output: string): QualityFlag | undefined {
  const think = splitThink(output);
  if (!think.present) return undefined;
  if (!think.closed) {
    return flag(
      "runaway_think",
      "fail",
      `<think> opened and never closed: ${think.thinkChars} characters of reasoning and no answer; it ends ${excerpt(output.slice(-T.excerptChars))}`,
    );
  }
  if (think.answer === "") {
    if (think.thinkText.trim() === "")
      return flag("empty_output", "fail", "the output is an empty think block and nothing else");
    return flag(
      "runaway_think",
      "fail",
      `the think block (${think.thinkChars} characters) closed with no answer after it`,
    );
  }
  const share = think.thinkChars / output.length;
  if (think.thinkChars >= T.thinkMinChars && share >= T.thinkShareWarn) {
    return flag(
      "runaway_think",
      "warn",
      `the think block is ${think.thinkChars} characters, ${percent(share)} of the output; the answer is ${excerpt(think.answer)}`,
    );
  }
  return undefined;
}
