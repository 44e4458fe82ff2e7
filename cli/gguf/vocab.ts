// SentencePiece ("llama" tokenizer model) vocabularies that llama.cpp's SPM tokenizer can use.
//
// Two facts about that tokenizer shape these: it needs all 256 <0xXX> byte tokens (it looks up
// <0x0A> while loading and falls back to bytes for any text it cannot match, and a missing byte token
// is an uncaught exception that aborts the process); and it only ever merges two adjacent symbols when
// their concatenation is itself a piece, highest score first. So a whole word becomes one token only
// if every piece on a merge path to it exists (`▁f`, `▁fo`, `▁fou`, `▁four`), and longer pieces score
// higher so merging always runs to the longest piece.

/** SentencePiece's visible space, which starts every word piece. */
export const SPACE = "\u2581";

/** llama_token_type values (tokenizer.ggml.token_type). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

export const UNK_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
/** <unk>, <s>, </s>, then the 256 byte tokens. */
export const BASE_VOCAB_SIZE = 3 + 256;

export interface Vocabulary {
  readonly tokens: readonly string[];
  readonly scores: Float32Array;
  readonly types: Int32Array;
  readonly ids: ReadonlyMap<string, number>;
}

class VocabularyBuilder {
  readonly tokens: string[] = [];
  private readonly scores: number[] = [];
  private readonly types: number[] = [];
  readonly ids = new Map<string, number>();

  constructor() {
    this.add("<unk>", 0, TOKEN_TYPE.unknown);
    this.add("<s>", 0, TOKEN_TYPE.control);
    this.add("</s>", 0, TOKEN_TYPE.control);
    for (let b = 0; b < 256; b++) this.add(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, 0, TOKEN_TYPE.byte);
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Adds a piece once; its score is its length in characters, so longer pieces win merges. */
  add(piece: string, score: number = [...piece].length, type: number = TOKEN_TYPE.normal): void {
    if (this.ids.has(piece)) return;
    this.ids.set(piece, this.tokens.length);
    this.tokens.push(piece);
    this.scores.push(score);
    this.types.push(type);
  }

  /** Adds `▁word` and every piece a merge from single characters to it passes through. */
  addWord(word: string): void {
    const chars = [SPACE, ...word];
    for (const c of chars) this.add(c);
    for (let end = 2; end <= chars.length; end++) this.add(chars.slice(0, end).join(""));
  }

  build(): Vocabulary {
    return {
      tokens: this.tokens,
      scores: Float32Array.from(this.scores),
      types: Int32Array.from(this.types),
      ids: this.ids,
    };
  }
}

const LOWERCASE = "abcdefghijklmnopqrstuvwxyz";

/** The base tokens, `▁`, the lowercase letters, then each word as one piece (with its merge path). */
export function wordVocabulary(words: readonly string[]): Vocabulary {
  const builder = new VocabularyBuilder();
  builder.add(SPACE);
  for (const c of LOWERCASE) builder.add(c);
  for (const word of words) builder.addWord(word);
  return builder.build();
}

// English letter frequency order: when a level of pieces is cut short, the common ones are kept.
const LETTERS_BY_FREQUENCY = "etaoinshrdlcumwfgypbvkjxqz";
const PRINTABLE = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i));

/** Smallest synthetic vocabulary: base tokens, `▁` and the printable ASCII characters. */
export const MIN_SYNTHETIC_VOCAB = BASE_VOCAB_SIZE + 1 + PRINTABLE.length;

/**
 * A vocabulary of exactly `size` tokens whose text pieces are letter strings, shortest first:
 * `▁x`, `xy`, `▁xy`, `xyz`, `▁xyz`, ... Each level is complete before the next starts, so every piece's
 * prefix one character shorter exists and merge paths never break. English text tokenizes into short
 * pieces, which is all a random-weight model needs.
 */
export function syntheticVocabulary(size: number): Vocabulary {
  if (!Number.isSafeInteger(size) || size < MIN_SYNTHETIC_VOCAB)
    throw new Error(`a synthetic vocabulary needs at least ${MIN_SYNTHETIC_VOCAB} tokens, not ${size}`);
  const builder = new VocabularyBuilder();
  builder.add(SPACE);
  for (const c of PRINTABLE) builder.add(c);
  const letters = [...LETTERS_BY_FREQUENCY];
  let strings = letters; // all letter strings of the current length
  outer: for (;;) {
    for (const s of strings) {
      if (builder.size >= size) break outer;
      builder.add(SPACE + s);
    }
    const longer: string[] = [];
    for (const s of strings) for (const c of letters) longer.push(s + c);
    for (const s of longer) {
      if (builder.size >= size) break outer;
      builder.add(s);
    }
    strings = longer;
  }
  return builder.build();
}
