// The CLI's npm package as a device gets it: `npm pack` of the cli/ workspace (which builds it), then
// `npm install <tarball>` into an empty folder outside the checkout, run by the system's Node.js (20 on
// Raspberry Pi OS, Debian 12, Ubuntu 24.04), with nothing of the checkout's node_modules reachable.
// Shared by the CI step (scripts/ci-cli-pack.ts) and the install benchmark (scripts/bench-cli.ts).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, parse } from "node:path";
import { ROOT } from "./local-registry.ts";

/** The Node.js a device has: Debian's and Ubuntu's package puts it here. */
export const SYSTEM_NODE = "/usr/bin/node";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end; never throws for a non-zero exit (the caller says what it means). */
export function exec(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<Result> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - start }));
  });
}

export async function cliVersion(): Promise<string> {
  return (JSON.parse(await readFile(join(ROOT, "cli", "package.json"), "utf8")) as { version: string }).version;
}

/** What `npm pack --json` says of the tarball. */
export interface Packed {
  tarball: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string; size: number }>;
}

/** `npm pack` of the cli workspace into `dest` (its prepack builds dist/). */
export async function packCli(dest: string): Promise<Packed> {
  await mkdir(dest, { recursive: true });
  const packed = await exec("npm", ["pack", "--workspace", "cli", "--pack-destination", dest, "--json"], {
    cwd: ROOT,
    env: process.env,
  });
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr.slice(-4000)}`);
  // prepack's own output comes first on stdout; the JSON report is the rest.
  const [report] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<
    Omit<Packed, "tarball"> & { filename: string }
  >;
  if (!report?.filename) throw new Error(`npm pack named no tarball:\n${packed.stdout}`);
  return {
    tarball: join(dest, report.filename),
    size: report.size,
    unpackedSize: report.unpackedSize,
    files: report.files,
  };
}

/**
 * The environment of a device: the installed package's bin and the system's Node.js first on PATH, no
 * directory of the checkout, nothing from npm's run-script environment, a key directory of its own.
 */
export function deviceEnv(dir: string): NodeJS.ProcessEnv {
  if (!existsSync(SYSTEM_NODE)) throw new Error(`no system Node.js at ${SYSTEM_NODE}`);
  const rest = (process.env.PATH ?? "")
    .split(":")
    .filter((p) => p && !p.includes("node_modules") && !p.startsWith(ROOT));
  const keep = ["HOME", "TMPDIR", "LANG", "TERM", "USER"].filter((k) => process.env[k] !== undefined);
  return {
    ...Object.fromEntries(keep.map((k) => [k, process.env[k]])),
    PATH: [join(dir, "node_modules", ".bin"), dirname(SYSTEM_NODE), ...rest].join(":"),
    EDGEBENCH_HOME: join(dir, "home"),
    NO_COLOR: "1",
    DO_NOT_TRACK: "1",
  };
}

/** An empty project folder for the install, refused where a node_modules above it would be found. */
export async function emptyDevice(dir: string): Promise<void> {
  for (let up = dirname(dir); ; up = dirname(up)) {
    if (existsSync(join(up, "node_modules"))) throw new Error(`${up}/node_modules would be reachable from ${dir}`);
    if (up === parse(up).root) break;
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), '{ "private": true }\n');
}

/** `npm install <tarball>` as a device runs it (from the npm cache when it has the packages). */
export async function installTarball(dir: string, tarball: string, extra: string[] = []): Promise<Result> {
  const installed = await exec("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...extra, tarball], {
    cwd: dir,
    env: deviceEnv(dir),
  });
  if (installed.code !== 0) throw new Error(`npm install ${tarball} failed:\n${installed.stderr.slice(-4000)}`);
  return installed;
}
