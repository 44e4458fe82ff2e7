// Commands load lazily: `edgebench verify` never pays for what `edgebench run` imports.
import { type CommandDef, defineCommand, runCommand, showUsage } from "citty";
import { CliError, EXIT_FAILURE, EXIT_USAGE } from "./errors.ts";
import { VERSION } from "./version.ts";

const commands = {
  keygen: () => import("./commands/keygen.ts").then((m) => m.default),
  sign: () => import("./commands/sign.ts").then((m) => m.default),
  submit: () => import("./commands/submit.ts").then((m) => m.default),
  verify: () => import("./commands/verify.ts").then((m) => m.default),
  run: () => import("./commands/run.ts").then((m) => m.default),
  fixture: () => import("./commands/fixture.ts").then((m) => m.default),
  outbox: () => import("./commands/outbox.ts").then((m) => m.default),
  import: () => import("./commands/import.ts").then((m) => m.default),
  key: () => import("./commands/key.ts").then((m) => m.default),
  retract: () => import("./commands/retract.ts").then((m) => m.default),
};

export const main = defineCommand({
  meta: { name: "edgebench", version: VERSION, description: "Measure, sign and submit on-device LLM benchmarks" },
  subCommands: commands,
});

async function cli(rawArgs: string[]): Promise<number> {
  if (rawArgs.length === 0 || rawArgs[0] === "--help" || rawArgs[0] === "-h") {
    await showUsage(main);
    return rawArgs.length === 0 ? EXIT_USAGE : 0;
  }
  if (rawArgs[0] === "--version") {
    console.log(VERSION);
    return 0;
  }
  try {
    if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
      const name = rawArgs[0] ?? "";
      if (name in commands) {
        const command = await commands[name as keyof typeof commands]();
        // `edgebench key rotate --help`: the subcommand's own usage, not its parent's.
        const subName = rawArgs[1] ?? "";
        const subCommands = (command.subCommands ?? {}) as Record<string, CommandDef | (() => Promise<CommandDef>)>;
        const sub = subCommands[subName];
        if (sub) await showUsage(typeof sub === "function" ? await sub() : sub, command);
        else await showUsage(command, main);
        return 0;
      }
    }
    await runCommand(main, { rawArgs });
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`edgebench: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof Error && error.name === "CLIError") {
      console.error(`edgebench: ${error.message}; see edgebench --help`);
      return EXIT_USAGE;
    }
    console.error("edgebench: unexpected error", error);
    return EXIT_FAILURE;
  }
}

const code = await cli(process.argv.slice(2));
// A command may have set its own exit code (e.g. 130 after Ctrl-C) while still returning normally.
if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
