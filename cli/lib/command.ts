// Commands with strict flags: citty accepts any flag, and a typo like --regsitry must not be ignored.
import type { ArgsDef, CommandContext, CommandDef, CommandMeta } from "citty";
import { CliError, EXIT_USAGE } from "../errors.ts";

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function knownFlags(args: ArgsDef): Set<string> {
  const known = new Set(["help", "h"]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    known.add(name);
    known.add(kebab(name));
    for (const alias of "alias" in def ? [def.alias ?? []].flat() : []) known.add(alias);
  }
  return known;
}

export interface StrictCommand<T extends ArgsDef> {
  meta: CommandMeta;
  args: T;
  run: (context: CommandContext<T>) => unknown;
}

export function defineStrictCommand<const T extends ArgsDef>(def: StrictCommand<T>): CommandDef {
  const known = knownFlags(def.args);
  return {
    meta: def.meta,
    args: def.args,
    run: async (context) => {
      for (const token of context.rawArgs) {
        if (token === "--") break;
        if (!token.startsWith("-") || /^-\d/.test(token)) continue;
        const name = token.replace(/^--?(no-)?/, "").split("=")[0] ?? "";
        if (!known.has(name)) throw new CliError(`unknown option ${token.split("=")[0]}; see --help`, EXIT_USAGE);
      }
      // citty parsed these args from def.args, so they have def.args's shape.
      return def.run(context as unknown as CommandContext<T>);
    },
  };
}

/** Every value of a flag that may be given more than once (citty keeps only the last). */
export function repeatedFlag(rawArgs: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const token = rawArgs[i] as string;
    if (token === "--") break;
    if (token === `--${name}`) {
      const value = rawArgs[i + 1];
      if (value !== undefined) values.push(value);
      i++;
    } else if (token.startsWith(`--${name}=`)) {
      values.push(token.slice(name.length + 3));
    }
  }
  return values;
}
