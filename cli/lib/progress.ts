// Progress on stderr: a spinner on a terminal, plain lines in a log or CI, nothing with --quiet.
// stdout stays free for --json output.
import ora, { type Ora } from "ora";

export interface Progress {
  /** A new long step; on a terminal it spins until the next step or a final word. */
  step(text: string): void;
  /** New detail for the current step (percentages, tok/s so far). Plain output prints it rarely. */
  update(text: string): void;
  succeed(text: string): void;
  warn(text: string): void;
  fail(text: string): void;
  info(text: string): void;
  stop(): void;
}

const PLAIN_UPDATE_EVERY_MS = 5000;

export function createProgress(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) {
    const nothing = () => {};
    return {
      step: nothing,
      update: nothing,
      succeed: nothing,
      warn: nothing,
      fail: nothing,
      info: nothing,
      stop: nothing,
    };
  }
  if (stream.isTTY) return spinner(ora({ stream, discardStdin: false }));
  let lastUpdate = 0;
  const line = (mark: string, text: string) => stream.write(`${mark} ${text}\n`);
  return {
    step: (text) => {
      lastUpdate = Date.now();
      line("-", text);
    },
    update: (text) => {
      if (Date.now() - lastUpdate < PLAIN_UPDATE_EVERY_MS) return;
      lastUpdate = Date.now();
      line(" ", text);
    },
    succeed: (text) => line("✔", text),
    warn: (text) => line("!", text),
    fail: (text) => line("✖", text),
    info: (text) => line("i", text),
    stop: () => {},
  };
}

function spinner(s: Ora): Progress {
  let current = "";
  return {
    step: (text) => {
      current = text;
      s.start(text);
    },
    update: (text) => {
      s.text = `${current} ${text}`;
    },
    succeed: (text) => {
      s.succeed(text);
    },
    warn: (text) => {
      s.warn(text);
    },
    fail: (text) => {
      s.fail(text);
    },
    info: (text) => {
      s.info(text);
    },
    stop: () => {
      s.stop();
    },
  };
}
