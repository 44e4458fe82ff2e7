// What a device pays to get the CLI: the npm package installed from its tarball into an empty folder by
// the system's Node.js and npm, its size on disk with and without node-llama-cpp's platform binaries
// (the @node-llama-cpp/* packages npm picks by os and cpu), the install time from an empty npm cache
// (everything downloaded) and from a warm one, and how long the installed command takes to start.
import { lstat, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { deviceEnv, emptyDevice, exec, installTarball, type Packed, packCli, SYSTEM_NODE } from "./cli-package.ts";

/** The goal for the install without platform binaries. */
const GOAL_BYTES = 25e6;
const TOP = 8;

function log(line: string) {
  process.stderr.write(`bench: cli: ${line}\n`);
}

const fmt = (n: number, digits = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mb = (bytes: number) => `${fmt(bytes / 1e6)} MB`;

/** Bytes of the files under `path` (their sizes, not the disk blocks they take). */
async function bytesIn(path: string): Promise<number> {
  const stat = await lstat(path).catch(() => undefined);
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await bytesIn(join(path, entry));
  return total;
}

/** Every installed package under a node_modules folder, nested ones included, with its bytes. */
async function packagesIn(nodeModules: string): Promise<Array<{ name: string; bytes: number }>> {
  const found: Array<{ name: string; bytes: number }> = [];
  const names = (await readdir(nodeModules).catch(() => [] as string[])).filter((n) => !n.startsWith("."));
  for (const name of names) {
    if (name.startsWith("@")) {
      for (const sub of await readdir(join(nodeModules, name)))
        found.push(...(await packageAt(nodeModules, `${name}/${sub}`)));
    } else {
      found.push(...(await packageAt(nodeModules, name)));
    }
  }
  return found;
}

/** A package's own bytes (without the packages nested in it), then the nested ones. */
async function packageAt(nodeModules: string, name: string): Promise<Array<{ name: string; bytes: number }>> {
  const dir = join(nodeModules, name);
  const nested = await packagesIn(join(dir, "node_modules"));
  const bytes = (await bytesIn(dir)) - (await bytesIn(join(dir, "node_modules")));
  return [{ name, bytes }, ...nested];
}

interface Install {
  label: string;
  command: string;
  coldMs: number;
  warmMs: number;
  bytes: number;
  packages: Array<{ name: string; bytes: number }>;
}

/** Installs the tarball twice into fresh folders: from an empty npm cache, then from the cache that filled. */
async function install(dir: string, packed: Packed, label: string, flags: string[]): Promise<Install> {
  const cache = join(dir, `${label}-cache`);
  await mkdir(cache, { recursive: true });
  const cold = join(dir, `${label}-cold`);
  await emptyDevice(cold);
  log(`${label}: npm install ${[...flags, "<tarball>"].join(" ")} (empty cache)`);
  const coldRun = await installTarball(cold, packed.tarball, ["--cache", cache, ...flags]);
  const warm = join(dir, `${label}-warm`);
  await emptyDevice(warm);
  log(`${label}: the same from the warm cache`);
  const warmRun = await installTarball(warm, packed.tarball, ["--cache", cache, ...flags]);
  const packages = await packagesIn(join(warm, "node_modules"));
  return {
    label,
    command: `npm install ${[...flags, packed.tarball.split("/").at(-1)].join(" ")}`,
    coldMs: coldRun.ms,
    warmMs: warmRun.ms,
    bytes: await bytesIn(join(warm, "node_modules")),
    packages,
  };
}

export async function benchCli(dir: string): Promise<string> {
  log("npm pack --workspace cli");
  const packed = await packCli(join(dir, "pack"));
  const full = await install(dir, packed, "full", []);
  // Without the optional platform packages node-llama-cpp's postinstall would compile llama.cpp from
  // source (minutes, and a compiler); --ignore-scripts leaves that out, as it is not the CLI's cost.
  const bare = await install(dir, packed, "bare", ["--omit=optional", "--ignore-scripts"]);

  const device = join(dir, "full-warm");
  const env = deviceEnv(device);
  const node = (await exec("node", ["--version"], { cwd: device, env })).stdout.trim();
  const npm = (await exec("npm", ["--version"], { cwd: device, env })).stdout.trim();
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) starts.push((await exec("edgebench", ["--version"], { cwd: device, env })).ms);
  const startMs = starts.sort((a, b) => a - b)[2] as number;

  const binaries = full.packages.filter((p) => p.name.startsWith("@node-llama-cpp/"));
  const binaryBytes = binaries.reduce((sum, p) => sum + p.bytes, 0);
  const withoutBinaries = full.bytes - binaryBytes;
  const rest = full.packages.filter((p) => !p.name.startsWith("@node-llama-cpp/")).sort((a, b) => b.bytes - a.bytes);
  const llama = rest.find((p) => p.name === "node-llama-cpp");
  const sourceBundle = await bytesIn(join(device, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle"));
  const own = rest.find((p) => p.name === "edgebench");
  const others = withoutBinaries - (llama?.bytes ?? 0) - (own?.bytes ?? 0);
  const met = withoutBinaries <= GOAL_BYTES;

  const installRows = [full, bare].map(
    (i) =>
      `| \`${i.command}\` | ${i.packages.length} | ${mb(i.bytes)} | ${fmt(i.coldMs / 1000)} s | ${fmt(i.warmMs / 1000)} s |`,
  );
  const binaryRows = binaries.map((p) => `| \`${p.name}\` | ${mb(p.bytes)} |`);
  const topRows = rest.slice(0, TOP).map((p) => `| \`${p.name}\` | ${mb(p.bytes)} |`);

  return `## CLI install (\`npm run bench -- --only cli\`)

The CLI's npm package (\`npm pack --workspace cli\`: ${mb(packed.size)} packed, ${mb(packed.unpackedSize)} unpacked,
${packed.files.length} files) installed with \`npm install <tarball>\` into an empty folder outside the checkout by the
system's Node.js ${node} (\`${SYSTEM_NODE}\`) and npm ${npm}, on the machine above (a 2-core VM). Install times:
from an empty npm cache (every package downloaded from registry.npmjs.org), then again from the cache it filled.
Sizes are the bytes of the installed files (\`node_modules\`), in MB of 10⁶ bytes.

| install | packages | size | time (empty cache) | time (warm cache) |
|---|---|---|---|---|
${installRows.join("\n")}

The platform binaries npm installed on this ${process.platform}-${process.arch} machine are below. node-llama-cpp lists every
build as an optional dependency and npm installs each one whose \`os\`, \`cpu\` and \`libc\` fit: on x64 Linux the
CUDA and Vulkan builds too (and the arm builds, which also list x64); a Raspberry Pi (linux-arm64) gets
\`@node-llama-cpp/linux-arm64\` alone.

| package | size |
|---|---|
${binaryRows.join("\n")}
| **all of them** | **${mb(binaryBytes)}** |

Without them the install is ${mb(withoutBinaries)}: edgebench itself ${mb(own?.bytes ?? 0)}, node-llama-cpp
${mb(llama?.bytes ?? 0)} (of which ${mb(sourceBundle)} is \`llama/gitRelease.bundle\`, the llama.cpp source it
ships to compile where no prebuilt binary fits), everything else ${mb(others)}. Goal: 25 MB or less without the
platform binaries: ${met ? "met" : "**missed**"}${met ? "" : ", by node-llama-cpp's own package"}. The largest packages:

| package | size |
|---|---|
${topRows.join("\n")}

\`edgebench --version\` starts in ${fmt(startMs, 0)} ms (median of 5, the installed command on Node.js ${node}).
`;
}
