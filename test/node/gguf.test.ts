// Generated GGUF models: the writer and quantizers byte for byte, the fixtures through llama.cpp's real
// loading and inference path (in child processes, since a bad file aborts the process), and the
// pre-flight inspection of user files without llama.cpp.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  COUNTER_WORDS,
  chooseRandomShape,
  expectedCounterContinuation,
  expectedLooperContinuation,
  type FixtureKind,
  type FixtureModel,
  type FixtureOptions,
  fixtureWordVocabulary,
  parameterCount,
  writeFixtureModel,
} from "../../cli/gguf/fixtures.ts";
import type { TensorType } from "../../cli/gguf/ggml-types.ts";
import { inspectModelFile, ModelFileError } from "../../cli/gguf/inspect.ts";
import { decode, encode, encodedBytes, f16BitsToF32, f32ToF16Bits } from "../../cli/gguf/quantize.ts";
import { SPACE, syntheticVocabulary, type Vocabulary } from "../../cli/gguf/vocab.ts";
import { kv, type TensorSpec, writeGguf } from "../../cli/gguf/writer.ts";
import type { ProbeRequest, ProbeResult } from "../support/llama-probe.ts";

const PROBE = join(import.meta.dirname, "..", "support", "llama-probe.ts");

const ENGLISH = [
  "The history of computing is a story of machines that grew smaller, cheaper and faster while the problems",
  "people asked them to solve grew larger. Early computers filled rooms and needed teams of engineers to keep",
  "them running. Today a phone in a pocket holds more memory than every machine of the nineteen sixties put",
  "together, and a small board that costs less than a meal can run a language model. Whether such a model is",
  "useful depends on how fast it answers and on whether its answers are any good, which is why careful",
  "measurement matters more than bold claims. A number without the conditions behind it tells very little:",
  "the length of the prompt, the size of the context, the number of threads and the temperature of the chip",
  "all change the result, sometimes by a factor of two or more.",
].join(" ");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgebench-gguf-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixtures = new Map<string, Promise<FixtureModel>>();
/** Each distinct fixture is written once per run. */
function fixture(kind: FixtureKind, options: Omit<FixtureOptions, "out"> = {}): Promise<FixtureModel> {
  const name = `${kind}-${options.type ?? "Q8_0"}-${options.params ?? 0}-${options.seed ?? 0}-${(options.omitKeys ?? []).join("+")}`;
  let model = fixtures.get(name);
  if (!model) {
    model = writeFixtureModel(kind, { ...options, out: join(dir, `${name}.gguf`) });
    fixtures.set(name, model);
  }
  return model;
}

interface ProbeRun {
  code: number | null;
  signal: string | null;
  stderr: string;
  result?: ProbeResult;
}

/** Runs test/support/llama-probe.ts in a child process: a crash in llama.cpp ends only that process. */
function probe(request: ProbeRequest): Promise<ProbeRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [PROBE, JSON.stringify({ threads: 1, ...request })],
      { timeout: 60_000, maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        const signal = error && "signal" in error ? (error.signal ?? null) : null;
        const line = stdout.trim().split("\n").at(-1);
        resolve({ code, signal, stderr, result: code === 0 && line ? (JSON.parse(line) as ProbeResult) : undefined });
      },
    );
  });
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

/** Seeded values in [-1, 1), with a few zeros, negatives and outliers in the mix. */
function testValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32) * 2 - 1;
    if (i % 97 === 0) out[i] = 0;
    if (i % 211 === 5) out[i] = (out[i] ?? 0) * 50;
  }
  return out;
}

describe("quantizers", () => {
  it("converts to IEEE half precision with round-to-nearest-even, subnormals included", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [65520, 0x7c00], // halfway to the next binade rounds up, to infinity
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // a tie, to even
      [3 * 2 ** -25, 0x0002], // a tie, to even
      [2 ** -14, 0x0400],
      [1 + 2 ** -11, 0x3c00], // a tie, to even
      [1 + 3 * 2 ** -11, 0x3c02],
      [Number.POSITIVE_INFINITY, 0x7c00],
    ];
    for (const [value, bits] of cases) expect([value, f32ToF16Bits(value)]).toEqual([value, bits]);
    expect(f32ToF16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    // Node 24 rounds to half precision natively: the two must agree everywhere, tiny values included.
    const f16round = (Math as { f16round?: (x: number) => number }).f16round;
    if (f16round) {
      const values = testValues(20_000, 7);
      for (let i = 0; i < values.length; i++) {
        const v = (values[i] ?? 0) * 2 ** ((i % 40) - 30);
        expect(f16BitsToF32(f32ToF16Bits(v))).toBe(f16round(Math.fround(v)));
      }
    }
  });

  it("Q8_0: 34-byte blocks of an f16 scale and 32 int8, within half a step of each value", () => {
    const values = testValues(32 * 200, 1);
    const bytes = new Uint8Array(encodedBytes("Q8_0", values.length));
    expect(bytes.length).toBe(200 * 34);
    encode("Q8_0", values, bytes);
    const back = decode("Q8_0", bytes, values.length);
    const view = new DataView(bytes.buffer);
    for (let b = 0; b < 200; b++) {
      const block = values.subarray(b * 32, b * 32 + 32);
      const amax = Math.max(...block.map(Math.abs));
      const d = f16BitsToF32(view.getUint16(b * 34, true));
      expect(Math.abs(d / (amax / 127) - 1)).toBeLessThanOrEqual(2 ** -11);
      const qs = new Int8Array(bytes.buffer, b * 34 + 2, 32);
      // The largest magnitude takes the full range.
      expect(Math.max(...qs.map(Math.abs))).toBe(127);
      for (let j = 0; j < 32; j++) {
        // Half a step, plus the scale's own rounding to f16 (at most 127 steps * 2^-11).
        expect(Math.abs((back[b * 32 + j] ?? 0) - (block[j] ?? 0))).toBeLessThanOrEqual(d * (0.5 + 127 * 2 ** -11));
      }
    }
  });

  it("Q4_0: 18-byte blocks, element j in byte j's low nibble and element j+16 in its high nibble", () => {
    // 0..31: the largest is +31, so d = -31/8 and element k quantizes to round(8.5 - 8k/31).
    const ramp = Float32Array.from({ length: 32 }, (_, k) => k);
    const bytes = new Uint8Array(18);
    encode("Q4_0", ramp, bytes);
    expect(f16BitsToF32(new DataView(bytes.buffer).getUint16(0, true))).toBeCloseTo(-31 / 8, 2);
    for (let j = 0; j < 16; j++) {
      const lo = Math.trunc(8.5 - (8 * j) / 31);
      const hi = Math.trunc(8.5 - (8 * (j + 16)) / 31);
      expect(bytes[2 + j]).toBe(lo | (hi << 4));
    }

    const values = testValues(32 * 200, 2);
    const packed = new Uint8Array(encodedBytes("Q4_0", values.length));
    encode("Q4_0", values, packed);
    const back = decode("Q4_0", packed, values.length);
    for (let b = 0; b < 200; b++) {
      const block = values.subarray(b * 32, b * 32 + 32);
      let max = 0;
      for (const v of block) if (Math.abs(v) > Math.abs(max)) max = v;
      const step = Math.abs(max) / 8;
      for (let j = 0; j < 32; j++) {
        const v = block[j] ?? 0;
        const error = Math.abs((back[b * 32 + j] ?? 0) - v);
        // 16 levels from -8d to 7d: values beyond 7d on the far side clamp to it (within one step).
        const inside = Math.sign(v) === Math.sign(max) || Math.abs(v) <= (7 / 8) * Math.abs(max);
        expect(error).toBeLessThanOrEqual(step * (inside ? 0.5 + 8 * 2 ** -11 : 1) + 1e-7);
      }
    }
  });
});

describe("GGUF writer", () => {
  const types: TensorType[] = ["F32", "F16", "Q8_0", "Q4_0"];
  const shape = [64, 3];
  // Within [-1, 1], so one absolute tolerance per type fits every value.
  const source = (i: number) => testValues(64 * 3, 10 + i).map((v) => Math.max(-1, Math.min(1, v)));

  it("round-trips metadata of every type and tensors of every type through readGgufFileInfo", async () => {
    const path = join(dir, "roundtrip.gguf");
    const tensors: TensorSpec[] = types.map((type, i) => ({
      name: `t.${type}`,
      shape,
      type,
      data: () => [source(i)],
    }));
    tensors.push({ name: "norm", shape: [5], type: "F32", data: () => [Float32Array.of(1, 2, 3, 4, 5)] });
    const written = await writeGguf(path, {
      metadata: [
        ["general.architecture", kv.string("llama")],
        ["test.u8", kv.u8(200)],
        ["test.u32", kv.u32(4_000_000_000)],
        ["test.i32", kv.i32(-5)],
        ["test.f32", kv.f32(0.25)],
        ["test.bool", kv.bool(true)],
        ["test.string", kv.string("naïve ▁ text")],
        ["test.u64", kv.u64(2n ** 40n)],
        ["test.strings", kv.strings(["a", "", "▁b"])],
        ["test.f32s", kv.f32s([0.5, -1.5])],
        ["test.i32s", kv.i32s([-1, 7])],
        ["test.u32s", kv.u32s([1, 2, 3])],
      ],
      tensors,
    });
    const info = await readGgufFileInfo(path, { logWarnings: false });
    expect(info.version).toBe(3);
    expect(info.tensorCount).toBe(5);
    const m = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(m.general).toEqual({ architecture: "llama", alignment: 32 });
    expect(m.test).toEqual({
      u8: 200,
      u32: 4_000_000_000,
      i32: -5,
      f32: 0.25,
      bool: true,
      string: "naïve ▁ text",
      u64: 2n ** 40n,
      strings: ["a", "", "▁b"],
      f32s: [0.5, -1.5],
      i32s: [-1, 7],
      u32s: [1, 2, 3],
    });

    const file = await readFile(path);
    expect(file.length).toBe(written.bytes);
    expect(info.infoEndOffset).toBe(written.dataOffset);
    expect(written.dataOffset % 32).toBe(0);
    let expectedOffset = 0;
    for (const [i, tensor] of (info.tensorInfo ?? []).entries()) {
      const spec = tensors[i] as TensorSpec;
      expect(tensor.name).toBe(spec.name);
      expect(tensor.dimensions).toEqual(spec.shape);
      expect(tensor.offset).toBe(expectedOffset);
      const count = spec.shape.reduce((a, b) => a * b, 1);
      const bytes = encodedBytes(spec.type, count);
      const start = Number(tensor.fileOffset);
      const decoded = decode(spec.type, file.subarray(start, start + bytes), count);
      const original = [...spec.data()][0] as Float32Array;
      const tolerance = { F32: 0, F16: 2 ** -11, Q8_0: 0.5 / 127 + 2 ** -11, Q4_0: 1 / 8 + 2 ** -11 }[spec.type];
      for (let j = 0; j < count; j++)
        expect(Math.abs((decoded[j] ?? 0) - (original[j] ?? 0))).toBeLessThanOrEqual(tolerance);
      expectedOffset += Math.ceil(bytes / 32) * 32;
    }
    expect(info.tensorInfo?.map((t) => t.ggmlType)).toEqual([0, 1, 8, 2, 0]);
    expect(file.length).toBe(written.dataOffset + expectedOffset);
    expect(written.parameters).toBe(4 * 64 * 3 + 5);
  });

  it("streams: one tensor's chunks at a time, each tensor's source opened only when its turn comes", async () => {
    const events: string[] = [];
    const tensor = (name: string): TensorSpec => ({
      name,
      shape: [32, 4],
      type: "Q8_0",
      *data() {
        events.push(`open ${name}`);
        for (let i = 0; i < 4; i++) {
          events.push(`chunk ${name}`);
          yield new Float32Array(32).fill(i);
        }
        events.push(`end ${name}`);
      },
    });
    await writeGguf(join(dir, "stream.gguf"), { metadata: [], tensors: [tensor("a"), tensor("b")] });
    expect(events).toEqual([
      "open a",
      ...Array(4).fill("chunk a"),
      "end a",
      "open b",
      ...Array(4).fill("chunk b"),
      "end b",
    ]);
  });

  it("refuses shapes ggml cannot hold, leaving no file behind", async () => {
    const path = join(dir, "bad-shape.gguf");
    const bad: TensorSpec = { name: "w", shape: [48, 2], type: "Q4_0", data: () => [new Float32Array(96)] };
    await expect(writeGguf(path, { metadata: [], tensors: [bad] })).rejects.toThrow(/multiple of 32/);
    const short: TensorSpec = { name: "w", shape: [32, 2], type: "Q8_0", data: () => [new Float32Array(32)] };
    await expect(writeGguf(path, { metadata: [], tensors: [short] })).rejects.toThrow(/32 values, expected 64/);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });
});

describe("fixture models", () => {
  it("sizes random models within ±10% of the requested parameter count", () => {
    for (const params of [50_000, 300_000, 1_000_000, 2_000_000, 20_000_000, 100_000_000, 1_000_000_000]) {
      const shape = chooseRandomShape(params);
      expect(Math.abs(parameterCount(shape) / params - 1)).toBeLessThan(0.1);
      expect(shape.nEmbd % shape.nHead).toBe(0);
      expect(shape.nEmbd % 32).toBe(0);
      if (params >= 20_000_000) expect(shape.nVocab).toBe(32_000);
    }
    expect(() => chooseRandomShape(1000)).toThrow(/smallest/);
  });

  it("writes a 20M-parameter random model within ±10%, and the same bytes for the same seed", async () => {
    const model = await writeFixtureModel("random", { out: join(dir, "random-20m.gguf"), params: 20_000_000 });
    expect(Math.abs(model.parameters / 20_000_000 - 1)).toBeLessThan(0.1);
    expect(model.nVocab).toBe(32_000);
    // Q8_0 is 34 bytes per 32 weights; the F32 norms and the header are a rounding error.
    expect(model.bytes / model.parameters).toBeGreaterThan(34 / 32);
    expect(model.bytes / model.parameters).toBeLessThan(1.1);
    const identity = await inspectModelFile(model.path);
    expect(identity.parameters).toBe(model.parameters);
    expect(identity.tensorBytes).toBe(model.tensorBytes);

    const again = await fixture("random", { params: 300_000, seed: 5 });
    const copy = await writeFixtureModel("random", { out: join(dir, "copy.gguf"), params: 300_000, seed: 5 });
    const other = await writeFixtureModel("random", { out: join(dir, "other.gguf"), params: 300_000, seed: 6 });
    expect(await sha256(copy.path)).toBe(await sha256(again.path));
    expect(await sha256(other.path)).not.toBe(await sha256(again.path));
  });

  it("has a merge path to every piece, as llama.cpp's SentencePiece tokenizer needs", () => {
    const check = (vocab: Vocabulary) => {
      const present = new Set(vocab.tokens);
      for (let b = 0; b < 256; b++)
        expect(present.has(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`)).toBe(true);
      for (const [i, piece] of vocab.tokens.entries()) {
        if (vocab.types[i] !== 1) continue;
        const chars = [...piece];
        if (chars.length > 1) expect(present.has(chars.slice(0, -1).join(""))).toBe(true);
        if (chars.length > 1)
          expect(vocab.scores[i]).toBeGreaterThan(vocab.scores[vocab.ids.get(chars[0] ?? "") ?? 0] ?? 0);
      }
    };
    const words = fixtureWordVocabulary();
    check(words);
    for (const word of COUNTER_WORDS) expect(words.ids.has(SPACE + word)).toBe(true);
    const synthetic = syntheticVocabulary(32_000);
    expect(synthetic.tokens.length).toBe(32_000);
    check(synthetic);
  });

  it("knows the counter's and looper's continuations", () => {
    expect(expectedCounterContinuation("one two three", 3)).toBe(" four five six");
    expect(expectedCounterContinuation("ninety hundred", 2)).toBe(" one two");
    expect(expectedCounterContinuation("hello", 2)).toBe(" one two");
    expect(expectedCounterContinuation("three ", 1)).toBe(" one");
    expect(expectedCounterContinuation("one\ttwo", 1)).toBe(" one");
    expect(expectedCounterContinuation("one  two", 1)).toBe(" three");
    expect(expectedLooperContinuation("deep machine", 2)).toBe(" learning machine");
    expect(expectedCounterContinuation("", 2)).toBe("one two");
    expect(expectedLooperContinuation("anything", 3)).toBe(" machine learning machine");
  });
});

describe("fixtures in llama.cpp (child processes)", () => {
  it("counter continues 'one two three' with exactly the expected words", async () => {
    const model = await fixture("counter");
    // After a whole counter word comes the next; after anything else (a tab instead of a space, trailing
    // punctuation or space, an unknown word, nothing) the first.
    const prompts = [
      "one two three",
      "nineteen twenty",
      "ninety hundred",
      "one\ttwo",
      "one  two",
      "three.",
      "Seven",
      "",
    ];
    const run = await probe({
      model: model.path,
      generate: prompts.map((prompt) => ({ prompt, maxTokens: prompt === "one two three" ? 32 : 4 })),
    });
    expect(run.stderr).toBe("");
    expect(run.result?.generate.map((g) => g.text)).toEqual(
      prompts.map((p) => expectedCounterContinuation(p, p === "one two three" ? 32 : 4)),
    );
    expect(run.result?.generate[0]?.pieces.slice(0, 3)).toEqual([" four", " five", " six"]);
    expect(run.result?.vocabularyType).toBe("spm");
    expect(run.result?.trainContextSize).toBe(model.contextLength);
  });

  it.each(["Q4_0", "F16", "F32"] as const)("counter written as %s counts the same way", async (type) => {
    const model = await fixture("counter", { type });
    const prompt = "seventeen eighteen nineteen";
    const run = await probe({ model: model.path, generate: [{ prompt, maxTokens: 12 }] });
    expect(run.result?.generate[0]?.text).toBe(expectedCounterContinuation(prompt, 12));
    expect(run.result?.typeDescription).toContain(type);
  });

  it("looper answers anything with 'machine learning machine learning ...'", async () => {
    const model = await fixture("looper");
    const prompts = ["Tell me about edge devices.", "one two three", "deep machine"];
    const run = await probe({ model: model.path, generate: prompts.map((prompt) => ({ prompt, maxTokens: 16 })) });
    const texts = run.result?.generate.map((g) => g.text);
    expect(texts?.[0]).toBe(" machine learning".repeat(8));
    expect(texts).toEqual(prompts.map((p) => expectedLooperContinuation(p, 16)));
  });

  it("a tiny random model's perplexity on English is within ±30% of its vocabulary size", async () => {
    const model = await fixture("random", { params: 1_000_000 });
    const run = await probe({ model: model.path, perplexity: { text: ENGLISH }, contextSize: 1024 });
    const result = run.result?.perplexity;
    expect(result?.tokens).toBeGreaterThan(300);
    expect((result?.perplexity ?? 0) / model.nVocab).toBeGreaterThan(0.7);
    expect((result?.perplexity ?? 0) / model.nVocab).toBeLessThan(1.3);
  });

  it("llama.cpp itself fails (aborting, in this version) on a model without llama.feed_forward_length", async () => {
    const model = await fixture("counter", { omitKeys: ["llama.feed_forward_length"] });
    const run = await probe({ model: model.path });
    expect(run.code).not.toBe(0);
    expect(run.result).toBeUndefined();
  });
});

describe("inspectModelFile", () => {
  it("returns the identity of good files", async () => {
    const counter = await fixture("counter");
    expect(await inspectModelFile(counter.path)).toEqual({
      path: counter.path,
      ggufVersion: 3,
      architecture: "llama",
      name: "edgebench-counter",
      parameters: counter.parameters,
      fileType: "Q8_0",
      contextLength: 2048,
      embeddingLength: 64,
      blockCount: 2,
      vocabSize: counter.nVocab,
      tokenizer: "llama",
      tensorCount: 3 + 9 * counter.nLayer,
      fileBytes: counter.bytes,
      tensorBytes: counter.tensorBytes,
      // The fixture writes general.name and no other naming key.
      metadata: { name: "edgebench-counter" },
    });
    for (const type of ["Q4_0", "F16", "F32"] as const) {
      const identity = await inspectModelFile((await fixture("counter", { type })).path);
      expect([identity.fileType, identity.parameters]).toEqual([type, counter.parameters]);
    }
    const random = await fixture("random", { params: 1_000_000 });
    const identity = await inspectModelFile(random.path);
    expect([identity.parameters, identity.vocabSize, identity.embeddingLength]).toEqual([
      random.parameters,
      random.nVocab,
      random.nEmbd,
    ]);
  });

  async function broken(name: string, bytes: Uint8Array): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  }

  async function problem(path: string): Promise<string> {
    const error = await inspectModelFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelFileError);
    const message = (error as Error).message;
    expect(message.startsWith(`${path}: `)).toBe(true);
    expect(message).not.toContain("\n");
    return message.slice(path.length + 2);
  }

  it("names the file and the problem for broken files, without loading llama.cpp", async () => {
    const good = await readFile((await fixture("counter")).path);
    const info = await readGgufFileInfo((await fixture("counter")).path, { logWarnings: false });

    expect(await problem(await broken("cut.gguf", good.subarray(0, good.length - 1000)))).toMatch(
      /^truncated: tensor output\.weight data ends at byte \d+, past the end of the file \(\d+ bytes\)$/,
    );
    expect(await problem(await broken("cut-header.gguf", good.subarray(0, 3000)))).toMatch(/^truncated/);
    expect(
      await problem(await broken("cut-tensor-info.gguf", good.subarray(0, (info.infoEndOffset ?? 0) - 40))),
    ).toMatch(/^truncated: the header needs \d+ bytes, the file has \d+$/);
    expect(await problem(await broken("tiny.gguf", good.subarray(0, 10)))).toMatch(/^truncated/);
    const zip = Buffer.concat([Buffer.from("PK\x03\x04"), good.subarray(4)]);
    expect(await problem(await broken("zip.gguf", zip))).toBe(
      'not a GGUF file: it starts with "PK\\x03\\x04\\x03\\x00\\x00\\x00" instead of "GGUF"',
    );
    expect(await problem(await broken("empty.gguf", new Uint8Array()))).toBe("not a GGUF file: it is empty");
    const v1 = Buffer.from(good);
    v1.writeUInt32LE(1, 4);
    expect(await problem(await broken("v1.gguf", v1))).toBe(
      "unsupported GGUF version 1 (llama.cpp reads versions 2 and 3)",
    );
    const noFfn = await fixture("counter", { omitKeys: ["llama.feed_forward_length"] });
    expect(await problem(noFfn.path)).toBe("missing required metadata key llama.feed_forward_length");
    const noHeads = await fixture("counter", { omitKeys: ["llama.attention.head_count"] });
    expect(await problem(noHeads.path)).toBe("missing required metadata key llama.attention.head_count");
    expect(await problem(join(dir, "missing.gguf"))).toBe("no such file");

    // All of the above ran in this process: had llama.cpp been loaded its library would be mapped here.
    const report = process.report.getReport() as { sharedObjects?: string[] };
    expect(report.sharedObjects?.length).toBeGreaterThan(0);
    expect(report.sharedObjects?.filter((lib) => /llama|ggml/.test(lib))).toEqual([]);
  });

  it("reads only the header, never the tensor data", async () => {
    const model = await writeFixtureModel("random", { out: join(dir, "random-8m.gguf"), params: 8_000_000 });
    const file = await open(model.path, "r+");
    // Scribble over the tensor data: inspection must not notice, because it must not read it.
    await file.write(Buffer.alloc(1 << 20, 0xff), 0, 1 << 20, model.bytes - (1 << 20));
    await file.close();
    const identity = await inspectModelFile(model.path);
    expect(identity.parameters).toBe(model.parameters);
  });
});
