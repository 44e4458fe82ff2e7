import { createHash } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_SUITE } from "../../cli/quality/builtin-suite.ts";
import { DEGENERATION_THRESHOLDS, detectDegeneration } from "../../cli/quality/degeneration.ts";
import { PERPLEXITY_TEXT } from "../../cli/quality/perplexity-text.ts";
import { compileSafeRegex, RegexLimitError } from "../../cli/quality/safe-regex.ts";
import {
  firstJsonValue,
  firstNumber,
  type ItemResult,
  Suite,
  SuiteItem,
  scoreOutput,
  toQualitySuite,
} from "../../cli/quality/suite.ts";
import { loadUserSuite, MAX_LINE_BYTES } from "../../cli/quality/user-suite.ts";
import { QualityFlag, QualitySuite } from "../../schema/bundle.ts";

const codes = (output: string, options?: Parameters<typeof detectDegeneration>[1]) =>
  detectDegeneration(output, options).map((f) => `${f.code}:${f.severity}`);

// ---------------------------------------------------------------------------------------------
// Broken outputs, quoted from the field reports in /work/shared/seeds.

// Seed 000 (Gemma3-270m w8a8 on RK3588, 29.80 tok/s): "Repeats the input 20+ times, then degrades to:"
const SEED_000_PROMPT =
  "Artificial intelligence and machine learning are revolutionizing how we approach complex problems, but their impact on";
const SEED_000_OUTPUT = `machine learning are not only for artificial intelligence are not only for artificial 
intelligence and machine learning but also for artificial intelligence are not only 
for machine learning is not only for artificial intelligence is also for machine learning 
is not only for artificial intelligence is not only for artificial intelligence is also 
is machine learning and artificial problems are also and machine are are not only but 
also Artificial intelligence is also Artificial intelligence Artificial and machine 
learning Artificial and Machine learning are also Artificial and Machine learning are 
Artificial and Machine Learning Artificial Machine Learning Machine Learning Machine 
Learning Machine Learning Machine Learning Machine Learning Machine Learning Machine 
Learning Machine Machine Machine Machine Machine Machine Machine Machine Machine`;
// Seed 002 (SmolLM3-3B 1.58-bit MLX): the two sample outputs of the quantized model.
const SEED_002_DOTS = "........................................................................";
const SEED_002_METHOD = "method method method method method method...";
// Seed 002's healthy model, same prompt: the reference for code that must not be flagged.
const SEED_002_FACTORIAL = `def calculate_factorial(n):
    """
    Calculate the factorial of a given integer.
    
    Parameters:
    n (int): The input integer for which to calculate the factorial.
    
    Returns:
    int: The factorial of the input integer.
    """
    
    if not isinstance(n, int) or n < 0:
        raise ValueError("Input must be a positive integer.")
    
    result = 1
    for i in range(2, n + 1):
        result *= i
    
    return result`;
// Seed 003 (Jetson Orin, llama.cpp): "Gibberish (3333...)", "Blank responses", "<think> loops".
const SEED_003_GIBBERISH = "3333333333";
// The report names the symptom without quoting it; this is its shape: the reasoning circles and the
// block never closes before the token limit.
const SEED_003_THINK_LOOP = `<think>\n${"Okay, the user wants me to turn on the kitchen light. Wait, let me check the device list again. ".repeat(4)}Okay, the user wants`;

// ---------------------------------------------------------------------------------------------
// Healthy outputs that must not be flagged.

const PROSE =
  "The Raspberry Pi 4 is a small single-board computer with four Cortex-A72 cores and up to 8 GB of RAM. " +
  "For language models, memory bandwidth matters more than raw compute: each generated token reads every " +
  "weight once, so a 1 GB model on a board with 4 GB/s of usable bandwidth cannot go much faster than four " +
  "tokens per second. Quantization helps because it shrinks the weights, and a Q4_K_M file is roughly a " +
  "quarter of its fp16 original. Still, very small models may break after an aggressive conversion, which " +
  "is why a benchmark has to check what the model says, not only how fast it says it.";
const JSON_COMMAND = '{"action": "turn_on", "device": "kitchen_light"}';
const JSON_DOCUMENT = JSON.stringify(
  {
    devices: [
      { id: "kitchen_light", state: "on", level: 100 },
      { id: "bedroom_fan", state: "off", level: 0 },
      { id: "porch_light", state: "off", level: 0 },
    ],
    updated: "2025-11-21T23:00:00Z",
    history: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  },
  null,
  2,
);
const NUMBERED_LIST = `Here is how to flash the board:
1. Download the image for your board.
2. Write it to a microSD card with a flashing tool.
3. Insert the card and connect the power supply.
4. Wait for the first boot to finish, about two minutes.
5. Log in over SSH with the default user.
6. Change the password before doing anything else.`;
const PARALLEL_LIST = `Done:
1. Turn on the kitchen light.
2. Turn on the hallway light.
3. Turn on the bedroom light.
4. Turn on the porch light.
5. Turn on the garage light.
6. Turn on the living room light.`;
// The comparison table of seed 000, as a model might reproduce it.
const MARKDOWN_TABLE = `| Model | Speed | Quality | Verdict |
|-------|-------|---------|---------|
| **Gemma3-270m** | 29.80 tok/s | ❌ BROKEN | **REMOVE** |
| **Qwen3-0.6B** | 15.59 tok/s | ✅ EXCELLENT | **USE THIS** |
| **Gemma3-1B** | 13.50 tok/s | ✅ GOOD | **USE THIS** |`;

const HEALTHY: Record<string, string> = {
  prose: PROSE,
  "the factorial function of seed 002": SEED_002_FACTORIAL,
  "a JSON command": JSON_COMMAND,
  "a JSON document with a zero vector": JSON_DOCUMENT,
  "a numbered list": NUMBERED_LIST,
  "a list of parallel commands": PARALLEL_LIST,
  "a markdown table": MARKDOWN_TABLE,
  "a short answer: 42": "42",
  "a short answer: Paris": "Paris",
  "a big round number": "1000000",
  "a float": "0.3333333333333333",
  "a setext heading": "Results\n=======\n\nAll 16 tests passed.",
  "a horizontal rule": "Intro\n\n------------------------------------------------------------\n\nBody.",
  "a closed think block and an answer": "<think>The user asks for 17 + 25. 17 + 25 = 42.</think>\n\n42",
  "text that mentions the `<think>` tag": "Qwen3 wraps its reasoning in `<think>` tags; strip them before parsing.",
  "the perplexity text": PERPLEXITY_TEXT.text,
};

describe("detectDegeneration on the field reports' broken outputs", () => {
  it("flags seed 000's word salad as a repetition loop that ran to the end", () => {
    const flags = detectDegeneration(SEED_000_OUTPUT);
    const loop = flags.find((f) => f.code === "repetition_loop");
    expect(loop?.severity).toBe("fail");
    expect(loop?.evidence).toMatch(/"machine" repeated 9 times in a row .*running to the end of the output/);
    expect(loop?.evidence).toContain('"Machine Machine Machine');
    expect(flags.find((f) => f.code === "low_distinct_n")?.evidence).toMatch(/distinct-1 0\.\d\d, distinct-2 0\.\d\d/);
  });

  it("flags seed 000's prompt repeated 20 times", () => {
    const output = `${Array(20).fill(SEED_000_PROMPT).join(" ")} ${SEED_000_OUTPUT}`;
    const loop = detectDegeneration(output).find((f) => f.code === "repetition_loop");
    expect(loop?.severity).toBe("fail");
    expect(loop?.evidence).toMatch(
      /16-word phrase "artificial intelligence and machine learning .*" repeated 20 times/,
    );
  });

  it("flags seed 000's word salad by its distinct-n even before the loop", () => {
    const salad = SEED_000_OUTPUT.split("\n").slice(0, 5).join("\n");
    expect(codes(salad)).toEqual(["low_distinct_n:warn"]);
  });

  it("flags seed 002's dots and 'method method method…'", () => {
    expect(codes(SEED_002_DOTS)).toEqual(["repeated_char:fail"]);
    expect(detectDegeneration(SEED_002_DOTS)[0]?.evidence).toMatch(/^"\." repeated 72 times in a row \(100% of/);
    expect(codes(SEED_002_METHOD)).toEqual(["repetition_loop:fail"]);
    expect(detectDegeneration(SEED_002_METHOD)[0]?.evidence).toMatch(/the word "method" repeated 6 times in a row/);
  });

  it("flags seed 003's gibberish, blank responses and <think> loops", () => {
    expect(codes(SEED_003_GIBBERISH)).toEqual(["repeated_char:fail"]);
    expect(codes("")).toEqual(["empty_output:fail"]);
    expect(codes("  \n\t ")).toEqual(["empty_output:fail"]);
    expect(codes("<think>\n\n</think>\n\n")).toEqual(["empty_output:fail"]);
    expect(codes(SEED_003_THINK_LOOP)).toEqual(["repetition_loop:fail", "low_distinct_n:fail", "runaway_think:fail"]);
    expect(detectDegeneration(SEED_003_THINK_LOOP).at(-1)?.evidence).toMatch(
      /^<think> opened and never closed: \d+ characters/,
    );
  });

  it("flags a think block that never reaches an answer, and warns when it is almost the whole output", () => {
    expect(codes("<think>Let me think about the kitchen light.")).toEqual(["runaway_think:fail"]);
    expect(codes("<think>Let me think about it.</think>")).toEqual(["runaway_think:fail"]);
    // Templates that open <think> in the prompt leave only the closing tag.
    expect(codes("Let me think about it.</think>")).toEqual(["runaway_think:fail"]);
    const long = `<think>${PROSE.repeat(3)}</think>\nOK`;
    expect(codes(long)).toEqual(["runaway_think:warn"]);
  });

  it("flags seed 001's pad-token output, NUL bytes and special-token filler", () => {
    const tokens = Array<number>(50).fill(0);
    expect(codes("", { tokens, padTokenIds: [0] })).toEqual(["pad_only:fail"]);
    expect(detectDegeneration("", { tokens, padTokenIds: [0] })[0]?.evidence).toMatch(/all 50 generated tokens/);
    expect(codes("\u0000\u0000\u0000\u0000")).toEqual(["pad_only:fail"]);
    expect(codes("<pad><pad><pad></s>")).toEqual(["pad_only:fail"]);
    expect(codes("<|endoftext|>")).toEqual(["pad_only:fail"]);
    // Tokens that are not all pads: the text decides.
    expect(codes("Paris", { tokens: [3681, 0], padTokenIds: [0] })).toEqual([]);
  });

  it("flags loops below the word level: special tokens, unspaced scripts, token ids", () => {
    expect(codes(`Sure! ${"<|im_start|>".repeat(10)}`)).toEqual(["repeated_ngram_run:fail"]);
    expect(codes("我是".repeat(40))).toEqual(["repeated_ngram_run:fail"]);
    const tokens = Array.from({ length: 60 }, (_, i) => [101, 7, 9][i % 3] ?? 0);
    const flags = detectDegeneration("some text that decodes oddly", { tokens });
    expect(flags.map((f) => f.code)).toEqual(["repeated_ngram_run"]);
    expect(flags[0]?.evidence).toMatch(/token ids \[101, 7, 9\] \(3 tokens\) repeated 20 times/);
  });

  it("tells suspicion (warn) from unusable (fail)", () => {
    expect(codes("Loading.............. done")).toEqual(["repeated_char:warn"]);
    const loopInText = `${PROSE} Yes yes yes yes yes yes, it really is. ${PROSE}`;
    expect(codes(loopInText)).toEqual(["repetition_loop:warn"]);
  });

  it("produces flags that are valid in a bundle, with a short quoted excerpt", () => {
    const outputs = [SEED_000_OUTPUT, SEED_002_DOTS, SEED_002_METHOD, SEED_003_GIBBERISH, SEED_003_THINK_LOOP, ""];
    for (const output of outputs) {
      for (const flag of detectDegeneration(output)) {
        expect(QualityFlag.parse(flag)).toEqual(flag);
        expect(flag.source).toBe("automatic");
        expect(flag.evidence?.length).toBeLessThan(500);
      }
    }
  });

  it("stays fast on a long output", () => {
    const start = performance.now();
    detectDegeneration(PERPLEXITY_TEXT.text.repeat(15));
    detectDegeneration("word ".repeat(60_000));
    expect(performance.now() - start).toBeLessThan(3000);
  });

  it("exports its thresholds", () => {
    expect(DEGENERATION_THRESHOLDS.loopMinRepeatsWord).toBeLessThanOrEqual(6);
    expect(DEGENERATION_THRESHOLDS.repeatedCharDominantShare).toBeGreaterThan(0.5);
  });
});

describe("detectDegeneration on healthy outputs", () => {
  for (const [name, output] of Object.entries(HEALTHY)) {
    it(`does not flag ${name}`, () => {
      expect(detectDegeneration(output)).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// scoring

const item = (scoring: SuiteItem["scoring"]): SuiteItem => SuiteItem.parse({ id: "t", prompt: "p", scoring });

describe("scoreOutput", () => {
  it("exact: trimmed, case-insensitive unless asked", () => {
    const paris = item({ mode: "exact", value: "Paris" });
    expect(scoreOutput(paris, "  Paris \n")).toMatchObject({ passed: true, score: 1 });
    expect(scoreOutput(paris, "paris").passed).toBe(true);
    expect(scoreOutput(paris, "Paris, France")).toMatchObject({ passed: false, score: 0 });
    expect(scoreOutput(paris, "London").detail).toBe('expected "Paris", got "London"');
    expect(scoreOutput(item({ mode: "exact", value: "Paris", caseSensitive: true }), "paris").passed).toBe(false);
  });

  it("contains: one string, or all of several with partial credit", () => {
    expect(scoreOutput(item({ mode: "contains", value: "kitchen" }), "The Kitchen light is on.").passed).toBe(true);
    const both = item({ mode: "contains", value: ["kitchen", "porch"] });
    expect(scoreOutput(both, "kitchen or porch?")).toMatchObject({ passed: true, score: 1 });
    expect(scoreOutput(both, "the kitchen one?")).toMatchObject({ passed: false, score: 0.5 });
    expect(scoreOutput(both, "the kitchen one?").detail).toMatch(/^missing "porch"/);
  });

  it("regex: flags apply, and the pattern is compiled once", () => {
    const label = item({ mode: "regex", pattern: "^\\W*positive\\W*$", flags: "i" });
    expect(scoreOutput(label, "**Positive**.").passed).toBe(true);
    expect(scoreOutput(label, "Negative").passed).toBe(false);
    expect(scoreOutput(label, "positive or negative").detail).toMatch(/does not match \/\^\\W\*positive\\W\*\$\/i$/);
  });

  it("regex: a catastrophic-backtracking pattern fails quickly instead of hanging the run", () => {
    const hostile = item({ mode: "regex", pattern: "^(\\w+)+$" });
    const start = performance.now();
    const result = scoreOutput(hostile, "Thequickbrownfoxjumpsoverthelazydogagain!");
    expect(performance.now() - start).toBeLessThan(2000);
    expect(result).toMatchObject({ passed: false, score: 0 });
    expect(result.detail).toMatch(/took longer than 100 ms; scored as failed/);
    // The same pattern still answers on harmless input.
    expect(scoreOutput(hostile, "fine").passed).toBe(true);
    const regex = compileSafeRegex("^(a|aa)+$");
    const start2 = performance.now();
    expect(() => regex.test(`${"a".repeat(60)}b`)).toThrow(/took longer than 100 ms/);
    expect(performance.now() - start2).toBeLessThan(2000);
    // Too long to run at all: refused rather than cut, since a cut input could match ^…$.
    expect(() => regex.test("a".repeat(100_000))).toThrow(RegexLimitError);
    expect(scoreOutput(item({ mode: "regex", pattern: "Paris" }), `Paris. ${PROSE.repeat(40)}`).detail).toMatch(
      /too long to run \/Paris\/ on/,
    );
  });

  it("json_schema: the first JSON value, in a code fence, bare or inside prose", () => {
    const light = item({
      mode: "json_schema",
      schema: {
        type: "object",
        required: ["action", "device"],
        properties: { action: { const: "turn_on" }, device: { enum: ["kitchen_light"] } },
      },
    });
    expect(scoreOutput(light, JSON_COMMAND).passed).toBe(true);
    expect(scoreOutput(light, `\`\`\`json\n${JSON_COMMAND}\n\`\`\``).passed).toBe(true);
    expect(scoreOutput(light, `Sure! Here is the command: ${JSON_COMMAND} Anything else?`).passed).toBe(true);
    const wrong = scoreOutput(light, '{"action": "turn_off", "device": "kitchen_light"}');
    expect(wrong).toMatchObject({ passed: false, score: 0 });
    expect(wrong.detail).toMatch(/does not match the schema: \/action must be equal to constant/);
    expect(scoreOutput(light, "I turned on the kitchen light.").detail).toMatch(/^no JSON value in/);
    expect(scoreOutput(light, '{"action": "turn_on", "device": "kitchen_light"').passed).toBe(false);
  });

  it("json_schema: a hostile pattern inside the schema is bounded too", () => {
    const hostile = item({
      mode: "json_schema",
      schema: { type: "object", properties: { name: { type: "string", pattern: "^(\\w+)+$" } } },
    });
    const start = performance.now();
    const result = scoreOutput(hostile, '{"name": "Thequickbrownfoxjumpsoverthelazydogagain!"}');
    expect(performance.now() - start).toBeLessThan(2000);
    expect(result.passed).toBe(false);
    expect(result.detail).toMatch(/took longer than/);
  });

  it("json_schema: schemas with an $id can be used by several items", () => {
    const schema = { $id: "https://example.org/cmd.json", type: "object", required: ["a"] };
    expect(scoreOutput(item({ mode: "json_schema", schema }), '{"a": 1}').passed).toBe(true);
    expect(scoreOutput(item({ mode: "json_schema", schema }), '{"b": 1}').passed).toBe(false);
  });

  it("number: the first number, with absolute or relative tolerance", () => {
    const answer = item({ mode: "number", value: 42 });
    expect(scoreOutput(answer, "The answer is 42.")).toMatchObject({ passed: true, detail: "read 42" });
    expect(scoreOutput(answer, "42.0").passed).toBe(true);
    expect(scoreOutput(answer, "41").detail).toBe("expected 42, read 41");
    expect(scoreOutput(answer, "forty-two").detail).toMatch(/^no number in/);
    expect(scoreOutput(item({ mode: "number", value: 49.99, tolerance: 0.01 }), "$50.00").passed).toBe(true);
    expect(scoreOutput(item({ mode: "number", value: 1000, relativeTolerance: 0.01 }), "1,009").passed).toBe(true);
    expect(scoreOutput(item({ mode: "number", value: 1000, relativeTolerance: 0.01 }), "1,011").passed).toBe(false);
    expect(scoreOutput(item({ mode: "number", value: -3 }), "\u22123 degrees").passed).toBe(true);
    expect(firstNumber("COVID-19 started in 2019")?.value).toBe(19);
    expect(firstJsonValue('text [1, 2] {"a": 1}')?.value).toEqual([1, 2]);
  });

  it("scores the answer after a closed think block, and no answer when it never closed", () => {
    const answer = item({ mode: "number", value: 42 });
    expect(scoreOutput(answer, "<think>Maybe 41? No: 17 + 25 = 42.</think>\n42").passed).toBe(true);
    expect(scoreOutput(answer, "<think>17 + 25 is 42").detail).toMatch(/degenerate output \(runaway_think\)/);
  });

  it("fails a degenerate output even when it contains the answer, and carries its flags", () => {
    const result = scoreOutput(item({ mode: "contains", value: "positive" }), "positive ".repeat(12));
    expect(result).toMatchObject({ passed: false, score: 0, detail: "degenerate output (repetition_loop)" });
    expect(result.flags?.map((f) => f.code)).toEqual(["repetition_loop"]);
  });
});

describe("suite schemas", () => {
  const parseItem = (scoring: unknown) => SuiteItem.safeParse({ id: "x", prompt: "p", scoring });
  const messages = (scoring: unknown) => {
    const parsed = parseItem(scoring);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };

  it("names an unknown or missing mode", () => {
    expect(messages({ mode: "fuzzy", value: "x" })).toEqual([
      'scoring.mode: unknown mode "fuzzy" (one of exact, contains, regex, json_schema, number)',
    ]);
    expect(messages({ value: "x" })[0]).toMatch(/a scoring mode is required/);
  });

  it("rejects invalid regexes, stateful flags and invalid JSON schemas", () => {
    expect(messages({ mode: "regex", pattern: "(" })[0]).toMatch(/^scoring.pattern: invalid regex: /);
    expect(messages({ mode: "regex", pattern: "a", flags: "g" })[0]).toMatch(/flags may only use/);
    expect(messages({ mode: "json_schema", schema: { type: "strng" } })[0]).toMatch(
      /^scoring.schema: invalid JSON schema/,
    );
    expect(messages({ mode: "json_schema", schema: { typo: 1 } })[0]).toMatch(/unknown keyword: "typo"/);
    expect(messages({ mode: "json_schema", schema: { type: "string", format: "date" } })).toEqual([]);
  });

  it("rejects duplicate ids in a suite", () => {
    const one = { id: "a", prompt: "p", scoring: { mode: "exact", value: "x" } };
    const parsed = Suite.safeParse({ name: "s", version: "1", items: [one, one] });
    expect(parsed.success).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// the built-in suite

// A correct answer per item, as a small instruct model would write it: kept here, not in the suite,
// so the suite cannot carry its own answers to the model.
const REFERENCE: Record<string, string> = {
  "home-kitchen-light-on": '{"action": "turn_on", "device": "kitchen_light"}',
  "home-bedroom-fan-off": '```json\n{"action": "turn_off", "device": "bedroom_fan"}\n```',
  "home-thermostat-set": '{"action": "set_temperature", "device": "thermostat", "value": 21}',
  "home-porch-light-state": '{"action": "get_state", "device": "porch_light"}',
  "extract-date": "2024-03-14",
  "extract-email": "anna.berg@example.org",
  "extract-price": "49.99",
  "extract-destination": "Lisbon.",
  "sentiment-positive": "Positive",
  "sentiment-negative": "negative",
  "intent-order-status": "order_status",
  "intent-cancel-order": "`cancel_order`",
  "math-add": "42",
  "math-multiply": "156",
  "math-word-problem": "48 eggs",
  "math-percent": "12",
};

const WRONG: Record<string, string> = {
  "home-kitchen-light-on": '{"action": "turn_on", "device": "porch_light"}',
  "home-thermostat-set": '{"action": "set_temperature", "device": "thermostat", "value": 12}',
  "extract-date": "March 14, 2024",
  "extract-destination": "Hamburg",
  "sentiment-positive": "neutral",
  "intent-cancel-order": "refund",
  "math-add": "17 + 25 = 42",
  "math-percent": "The answer is 1.2",
};

describe("the built-in suite", () => {
  it("is edgebench-core version 1, valid, small, and short to answer", () => {
    expect(Suite.parse(BUILTIN_SUITE)).toEqual(BUILTIN_SUITE);
    expect(BUILTIN_SUITE.name).toBe("edgebench-core");
    expect(BUILTIN_SUITE.version).toBe("1");
    expect(BUILTIN_SUITE.items.length).toBeGreaterThanOrEqual(12);
    expect(BUILTIN_SUITE.items.length).toBeLessThanOrEqual(16);
    for (const i of BUILTIN_SUITE.items) {
      expect(i.maxTokens).toBeLessThanOrEqual(64);
      expect(i.prompt.length).toBeLessThan(400);
    }
    const categories = new Set(BUILTIN_SUITE.items.map((i) => i.category));
    expect(categories).toEqual(new Set(["json_command", "extraction", "classification", "arithmetic"]));
  });

  it("is frozen: version 1's items cannot change without a new version", () => {
    const digest = createHash("sha256").update(JSON.stringify(BUILTIN_SUITE)).digest("hex");
    expect(digest).toBe(BUILTIN_SUITE_V1_SHA256);
  });

  it("scores every reference answer as passed", () => {
    expect(Object.keys(REFERENCE).sort()).toEqual(BUILTIN_SUITE.items.map((i) => i.id).sort());
    for (const i of BUILTIN_SUITE.items) {
      const result = scoreOutput(i, REFERENCE[i.id] ?? "");
      expect({ id: i.id, ...result }).toMatchObject({ id: i.id, passed: true, score: 1 });
    }
  });

  it("scores typical wrong answers as failed", () => {
    for (const [id, output] of Object.entries(WRONG)) {
      const i = BUILTIN_SUITE.items.find((x) => x.id === id);
      expect(i, id).toBeDefined();
      if (i) expect({ id, passed: scoreOutput(i, output).passed }).toEqual({ id, passed: false });
    }
  });
});

const BUILTIN_SUITE_V1_SHA256 = "deb5d21be631298ed5fdfb184bd27b48d855ca06048298f1d31c6343a20a3190";

// ---------------------------------------------------------------------------------------------
// toQualitySuite

const run = (suite: Suite, outputs: Record<string, string>): ItemResult[] =>
  suite.items
    .filter((i) => i.id in outputs)
    .map((i) => ({ item: i, output: outputs[i.id] ?? "", ...scoreOutput(i, outputs[i.id] ?? "") }));

describe("toQualitySuite", () => {
  it("maps the built-in suite's results to a valid QualitySuite with a primary accuracy", () => {
    const outputs = { ...REFERENCE, "math-add": "17 + 25 = 42", "sentiment-positive": SEED_002_DOTS };
    const suite = toQualitySuite(BUILTIN_SUITE, "builtin", run(BUILTIN_SUITE, outputs));
    expect(QualitySuite.parse(suite)).toEqual(suite);
    expect(suite).toMatchObject({ name: "edgebench-core", version: "1", source: "builtin", status: "completed" });
    expect(suite.scores).toEqual([
      { metric: "accuracy", unit: "fraction", value: 14 / 16, passed: 14, total: 16, primary: true },
    ]);
    expect(suite.categories?.find((c) => c.name === "arithmetic")?.scores[0]).toMatchObject({ passed: 3, total: 4 });
    const dots = suite.items?.find((i) => i.id === "sentiment-positive");
    expect(dots).toMatchObject({
      passed: false,
      score: 0,
      output: SEED_002_DOTS,
      notes: "degenerate output (repeated_char)",
    });
    expect(dots?.flags?.map((f) => f.code)).toEqual(["repeated_char"]);
    const add = suite.items?.find((i) => i.id === "math-add");
    expect(add).toMatchObject({ prompt: expect.stringContaining("17 + 25"), expected: "42", passed: false });
  });

  it("cuts long outputs, counts missing items as failed and marks the suite partial", () => {
    const long = `${PROSE} `.repeat(20);
    const suite = toQualitySuite(
      BUILTIN_SUITE,
      "builtin",
      run(BUILTIN_SUITE, { "math-add": long, "math-percent": "12" }),
    );
    expect(QualitySuite.parse(suite)).toEqual(suite);
    expect(suite.status).toBe("partial");
    expect(suite.scores?.[0]).toMatchObject({ passed: 1, total: 16 });
    const cut = suite.items?.find((i) => i.id === "math-add");
    expect(cut?.output?.length).toBeLessThanOrEqual(2000);
    expect(cut?.notes).toMatch(/output cut from \d+ characters/);
    expect(suite.items?.find((i) => i.id === "math-multiply")).toMatchObject({ passed: false, notes: "not run" });
  });

  it("keeps a 1000-item suite within the schema's limits", () => {
    const items = Array.from({ length: 1000 }, (_, n) => ({
      id: `q${n}`,
      prompt: `What is ${n} + 1? Reply with only the number. ${"Context. ".repeat(50)}`,
      scoring: { mode: "number", value: n + 1 },
    }));
    const big = Suite.parse({ name: "big", version: "1", items });
    const outputs = Object.fromEntries(big.items.map((i, n) => [i.id, `${n + 1} ${"because ".repeat(300)}`]));
    const suite = toQualitySuite(big, "user", run(big, outputs));
    expect(QualitySuite.parse(suite)).toEqual(suite);
    // Every answer is degenerate, so every item is a failure worth listing, as many as fit.
    expect(suite.scores?.[0]).toMatchObject({ passed: 0, total: 1000 });
    expect(suite.items?.length).toBeGreaterThan(50);
    expect(suite.items?.length).toBeLessThan(500);
    expect(suite.notes).toBe(`${1000 - (suite.items?.length ?? 0)} of 1000 items scored but not listed`);
    expect(JSON.stringify(suite.items).length).toBeLessThanOrEqual(64 * 1024);
  });
});

// ---------------------------------------------------------------------------------------------
// user suites

describe("loadUserSuite", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgebench-suite-"));
  });
  const file = async (name: string, lines: string[]) => {
    const path = join(dir, name);
    await writeFile(path, lines.join("\n"));
    return path;
  };
  const good = (id: string) => JSON.stringify({ id, prompt: "What is 2 + 2?", scoring: { mode: "number", value: 4 } });
  const failure = async (path: string) => {
    try {
      await loadUserSuite(path);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).not.toContain("\n");
      return message;
    }
    throw new Error(`${path} loaded without an error`);
  };

  it("loads the sample suite: header, comments and blank lines", async () => {
    const suite = await loadUserSuite("test/fixtures/suites/home-assistant.jsonl");
    expect(suite.name).toBe("home-assistant-sample");
    expect(suite.version).toBe("1");
    expect(suite.items.map((i) => i.scoring.mode)).toEqual(["json_schema", "number", "regex", "exact", "contains"]);
  });

  it("names a suite without a header after its file, versioned by its content", async () => {
    const path = await file("my-tasks.jsonl", [good("a"), good("b"), ""]);
    const suite = await loadUserSuite(path);
    expect(suite.name).toBe("my-tasks");
    expect(suite.version).toMatch(/^sha256:[0-9a-f]{12}$/);
  });

  it("reports bad JSON with file and line", async () => {
    const path = await file("bad-json.jsonl", ['{"suite": "s"}', "# comment", good("a"), "{id: 1}"]);
    expect(await failure(path)).toMatch(new RegExp(`^${path}:4: invalid JSON: `));
  });

  it("reports an unknown mode, an invalid regex and an invalid JSON schema with file and line", async () => {
    const mode = await file("mode.jsonl", [
      good("a"),
      JSON.stringify({ id: "b", prompt: "p", scoring: { mode: "fuzzy" } }),
    ]);
    expect(await failure(mode)).toBe(
      `${mode}:2: scoring.mode: unknown mode "fuzzy" (one of exact, contains, regex, json_schema, number)`,
    );
    const regex = await file("regex.jsonl", [
      "",
      JSON.stringify({ id: "b", prompt: "p", scoring: { mode: "regex", pattern: "([a-z" } }),
    ]);
    expect(await failure(regex)).toMatch(new RegExp(`^${regex}:2: scoring.pattern: invalid regex: `));
    const schema = await file("schema.jsonl", [
      JSON.stringify({
        id: "b",
        prompt: "p",
        scoring: { mode: "json_schema", schema: { type: "object", required: "a" } },
      }),
    ]);
    expect(await failure(schema)).toMatch(new RegExp(`^${schema}:1: scoring.schema: invalid JSON schema: `));
  });

  it("reports missing fields, unknown fields and duplicate ids", async () => {
    const missing = await file("missing.jsonl", [JSON.stringify({ id: "a", scoring: { mode: "exact", value: "x" } })]);
    expect(await failure(missing)).toMatch(new RegExp(`^${missing}:1: prompt: `));
    const unknown = await file("unknown.jsonl", [
      JSON.stringify({ id: "a", prompt: "p", answer: "x", scoring: { mode: "exact", value: "x" } }),
    ]);
    expect(await failure(unknown)).toBe(`${unknown}:1: answer: unknown field`);
    const dup = await file("dup.jsonl", [good("a"), good("b"), good("a")]);
    expect(await failure(dup)).toBe(`${dup}:3: duplicate id "a" (first on line 1)`);
  });

  it("enforces 64 KiB per line and 1000 items", async () => {
    const long = await file("long.jsonl", [
      good("a"),
      JSON.stringify({ id: "b", prompt: "x".repeat(MAX_LINE_BYTES), scoring: { mode: "exact", value: "x" } }),
    ]);
    expect(await failure(long)).toMatch(
      new RegExp(`^${long}:2: the line is \\d+ bytes; the limit is 65536 \\(64 KiB\\)$`),
    );
    const many = await file("many.jsonl", [
      '{"suite": "many"}',
      ...Array.from({ length: 1001 }, (_, n) => good(`q${n}`)),
    ]);
    expect(await failure(many)).toBe(`${many}:1002: more than 1000 items; split the suite`);
  });

  it("reports a misplaced header, an empty suite and a missing file", async () => {
    const late = await file("late.jsonl", [good("a"), '{"suite": "late"}']);
    expect(await failure(late)).toMatch(new RegExp(`^${late}:2: the \\{"suite": …\\} header must be the first line`));
    const empty = await file("empty.jsonl", ["# nothing", "", '{"suite": "empty"}']);
    expect(await failure(empty)).toBe(`${empty}: no items (every line is blank, a comment or the header)`);
    expect(await failure(join(dir, "nope.jsonl"))).toMatch(/^cannot read suite .*nope\.jsonl: no such file$/);
  });
});

// ---------------------------------------------------------------------------------------------
// perplexity text

describe("the perplexity text", () => {
  it("is frozen: edgebench-pd-v1 cannot change silently", () => {
    expect(PERPLEXITY_TEXT.id).toBe("edgebench-pd-v1");
    expect(createHash("sha256").update(PERPLEXITY_TEXT.text).digest("hex")).toBe(
      "74a0479b452772c58d3b109a7f538b171d69c6d0bc6b76705b02dc2ecc0d1e74",
    );
  });

  it("is a few thousand tokens of plain English from public-domain sources", () => {
    const words = PERPLEXITY_TEXT.text.split(/\s+/).filter(Boolean).length;
    expect(words).toBeGreaterThanOrEqual(2000);
    expect(words).toBeLessThanOrEqual(3000);
    expect(PERPLEXITY_TEXT.text).toMatch(/^[\x20-\x7e\n]+$/);
    expect(PERPLEXITY_TEXT.source).toMatch(/Declaration of Independence/);
    expect(PERPLEXITY_TEXT.text).toContain("We hold these truths to be self-evident");
    expect(PERPLEXITY_TEXT.text).toContain("shall not perish from the earth.");
  });
});
