// Regular expressions from suite files run against model output, and JavaScript has no regex
// timeout: a pattern like ^(a+)+$ backtracks exponentially and would hang the whole run. Every
// pattern from a suite (the regex mode and JSON Schema "pattern" keywords alike) therefore runs
// inside a vm context with a time limit, and only on inputs of bounded length.
import vm from "node:vm";

/**
 * Longest input a pattern is run on: above any answer of 4096 tokens, and a bound on the polynomial
 * blow-ups. Longer input is refused rather than cut, since a cut input can match ^…$ when the whole would not.
 */
export const REGEX_MAX_INPUT_CHARS = 16_384;
/** Time one match may take: well-behaved patterns need well under a millisecond on 16 KiB. */
export const REGEX_TIMEOUT_MS = 100;

const shown = (pattern: string) => `/${pattern.length > 60 ? `${pattern.slice(0, 60)}…` : pattern}/`;

/** A pattern that took too long, or an input too long to run it on: the answer cannot be judged. */
export class RegexLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RegexLimitError";
  }
}

export interface SafeRegex {
  readonly source: string;
  readonly flags: string;
  /** Whether the pattern matches `input`; throws RegexLimitError past the time or length limit. */
  test(input: string): boolean;
}

interface Sandbox {
  patterns: RegExp[];
  index: number;
  input: string;
  flags: string;
}

// One context for every pattern: a context costs about a megabyte, a suite may hold a thousand regexes.
let sandbox: { context: Sandbox & vm.Context; test: vm.Script; compile: vm.Script } | undefined;

function getSandbox() {
  sandbox ??= {
    context: vm.createContext({ patterns: [], index: 0, input: "", flags: "" } satisfies Sandbox) as Sandbox &
      vm.Context,
    test: new vm.Script("patterns[index].test(input)"),
    compile: new vm.Script("patterns.push(new RegExp(input, flags)) - 1"),
  };
  return sandbox;
}

/** Compiles a pattern once; throws a SyntaxError (with the engine's message) when it is invalid. */
export function compileSafeRegex(source: string, flags = ""): SafeRegex {
  // Compiling in the main realm first gives an ordinary SyntaxError for invalid patterns.
  new RegExp(source, flags);
  const box = getSandbox();
  box.context.input = source;
  box.context.flags = flags;
  const index = box.compile.runInContext(box.context, { timeout: REGEX_TIMEOUT_MS }) as number;
  box.context.input = "";
  return {
    source,
    flags,
    test(input: string): boolean {
      if (input.length > REGEX_MAX_INPUT_CHARS) {
        throw new RegexLimitError(
          `${input.length} characters is too long to run ${shown(source)} on (limit ${REGEX_MAX_INPUT_CHARS})`,
        );
      }
      box.context.index = index;
      box.context.input = input;
      try {
        return box.test.runInContext(box.context, { timeout: REGEX_TIMEOUT_MS }) === true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
          throw new RegexLimitError(`the pattern ${shown(source)} took longer than ${REGEX_TIMEOUT_MS} ms`);
        }
        throw error;
      } finally {
        box.context.input = "";
      }
    },
  };
}
