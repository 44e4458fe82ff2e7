// Reasoning models wrap their scratch work in <think>…</think>. The degeneration gates look at the
// whole output (a loop inside the think block is still a loop), but answers are scored on what comes
// after it: the reasoning is allowed to mention wrong answers on the way to the right one.

// <thinking> is what some fine-tunes emit instead of <think>; both are matched case-insensitively.
// Models open the block as the very first thing they write; a tag further in, or one in backticks,
// is text about think tags (a model explaining Qwen3's template), not a block.
const OPEN = /^\s*<think(?:ing)?>/i;
const CLOSE = /(?<!`)<\/think(?:ing)?>(?!`)/i;

export interface ThinkSplit {
  /** Whether the output has a think block at all (an opening tag, or a closing tag the template opened). */
  present: boolean;
  /** Whether the think block was closed; an unclosed block never reached an answer. */
  closed: boolean;
  /** The text inside the think block, tags excluded. */
  thinkText: string;
  /** Its length in characters. */
  thinkChars: number;
  /** What the model answered: the output after the think block, trimmed; "" when the block never closed. */
  answer: string;
}

export function splitThink(output: string): ThinkSplit {
  const open = OPEN.exec(output);
  const rest = open ? output.slice(open[0].length) : output;
  const close = CLOSE.exec(rest);
  // Chat templates that open <think> in the prompt (Qwen3, DeepSeek-R1) leave only the closing tag
  // in the output, so a close with no open means the output started inside the block.
  if (!close) {
    return open
      ? { present: true, closed: false, thinkText: rest, thinkChars: rest.length, answer: "" }
      : { present: false, closed: true, thinkText: "", thinkChars: 0, answer: output.trim() };
  }
  const thinkText = rest.slice(0, close.index);
  const answer = rest.slice(close.index + close[0].length).trim();
  return { present: true, closed: true, thinkText, thinkChars: thinkText.length, answer };
}
