// `npm run build --workspace cli` (and `npm pack`, by prepack): the CLI as plain JavaScript for Node.js 20,
// the Node that Raspberry Pi OS, Debian and Ubuntu ship, which cannot run the TypeScript sources. The
// shared schema/ code is bundled in; every npm package stays an import, resolved from the package's own
// dependencies (node-llama-cpp must: it loads native binaries from its platform packages).
import { readFile, rm } from "node:fs/promises";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { build } from "esbuild";

const CLI = import.meta.dirname;
const OUT = join(CLI, "dist");

const manifest = JSON.parse(await readFile(join(CLI, "package.json"), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
};
const { VERSION } = await import("./version.ts");
if (VERSION !== manifest.version) {
  throw new Error(`cli/version.ts says ${VERSION}, cli/package.json ${manifest.version}: make them equal`);
}

await rm(OUT, { recursive: true, force: true });
const result = await build({
  // The command runner and the measurement child it forks (cli/measure/supervisor.ts finds child.js
  // beside the chunk it is bundled into, so every file goes flat into dist/).
  entryPoints: { main: join(CLI, "main.ts"), child: join(CLI, "measure", "child.ts") },
  outdir: OUT,
  entryNames: "[name]",
  chunkNames: "[name]-[hash]",
  bundle: true,
  // Commands stay lazily loaded: each is a chunk of its own.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});

// Every import left in the output must be a Node built-in or a declared dependency, or the installed
// package fails at run time on a machine where the checkout's node_modules is not there to hide it.
const builtins = new Set(builtinModules);
const undeclared = new Set<string>();
const used = new Set<string>();
for (const output of Object.values(result.metafile.outputs)) {
  for (const { path, external } of output.imports) {
    if (!external || path.startsWith("node:") || builtins.has(path)) continue;
    const name = path.startsWith("@") ? path.split("/").slice(0, 2).join("/") : (path.split("/")[0] as string);
    used.add(name);
    if (!(name in manifest.dependencies)) undeclared.add(name);
  }
}
if (undeclared.size > 0) {
  throw new Error(`the built CLI imports ${[...undeclared].join(", ")}, not in cli/package.json's dependencies`);
}
// And nothing declared that it does not import: each one is installed on every device.
const unused = Object.keys(manifest.dependencies).filter((name) => !used.has(name));
if (unused.length > 0) throw new Error(`cli/package.json depends on ${unused.join(", ")}, which the CLI never imports`);
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
process.stderr.write(
  `cli: built ${Object.keys(result.metafile.outputs).length} files (${(bytes / 1e6).toFixed(2)} MB) into cli/dist\n`,
);
