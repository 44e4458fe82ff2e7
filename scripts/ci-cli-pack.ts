// CI, after `npm test`: the CLI as a device installs it. Packs the cli workspace, installs the tarball
// into an empty folder with the system's Node.js (20) first on PATH, and runs it as the README's
// "On a device" says: a generated model measured, a key made, the run submitted to a local registry
// (started here: the tests' registries are gone by now) and verified there.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { Bundle } from "../schema/bundle.ts";
import { freePort } from "../test/support/load.ts";
import { cliVersion, deviceEnv, emptyDevice, exec, installTarball, packCli } from "./cli-package.ts";
import { applyMigrations, buildWorker, type RunningWorker, startWorker } from "./local-registry.ts";

function log(line: string) {
  process.stderr.write(`ci-cli-pack: ${line}\n`);
}

async function startRegistry(dir: string): Promise<RunningWorker> {
  const persistTo = join(dir, "state");
  // The whole registry, site included, as `npm start` runs it (the tests have built it already).
  const [configPath] = await Promise.all([buildWorker(), applyMigrations(persistTo)]);
  return startWorker({
    port: await freePort(),
    persistTo,
    configPath,
    demoKeyDir: join(dir, "demo-key"),
  });
}

const tmp = await mkdtemp(join(os.tmpdir(), "edgebench-cli-pack-"));
const device = join(tmp, "device");
let registry: Promise<RunningWorker> | undefined;
try {
  const started = performance.now();
  // The registry starts while the package is packed and installed.
  registry = startRegistry(join(tmp, "registry"));
  registry.catch(() => {});
  const { tarball } = await packCli(join(tmp, "pack"));
  log(`packed ${tarball}`);
  await emptyDevice(device);
  const installed = await installTarball(device, tarball);
  log(`installed in ${(installed.ms / 1000).toFixed(1)} s`);

  const env = deviceEnv(device);
  const edgebench = async (args: string[]) => {
    const result = await exec("edgebench", args, { cwd: device, env });
    log(`edgebench ${args.join(" ")}: exit ${result.code}, ${(result.ms / 1000).toFixed(1)} s`);
    if (result.code !== 0) throw new Error(`edgebench ${args.join(" ")} exited with ${result.code}:\n${result.stderr}`);
    return result.stdout.trim();
  };

  const node = await exec("node", ["--version"], { cwd: device, env });
  log(`the device's Node.js: ${node.stdout.trim()}`);
  const version = await edgebench(["--version"]);
  if (version !== (await cliVersion())) throw new Error(`edgebench --version printed ${version}`);
  await edgebench(["fixture", "counter", "--out", "m.gguf"]);
  // Small sizes: this checks the package, not the speed (npm run bench measures that).
  await edgebench([
    ...["run", "m.gguf", "--threads", "1", "--repetitions", "1", "--gpu", "cpu"],
    ...["--prompt-sizes", "32", "--gen-sizes", "16", "--perplexity-tokens", "128", "--no-bandwidth", "--quiet"],
    ...["--out", "r.json"],
  ]);
  // A crash in the measurement child is recorded, not an exit code: the run must have measured.
  const bundle = Bundle.parse(JSON.parse(await readFile(join(device, "r.json"), "utf8")));
  if (bundle.failure || bundle.measurements.length === 0) {
    throw new Error(`edgebench run measured nothing: ${JSON.stringify(bundle.failure)}`);
  }
  await edgebench(["keygen"]);
  const { url } = await registry;
  const answer = JSON.parse(await edgebench(["submit", "r.json", "--registry", url, "--json"])) as { url: string };
  await edgebench(["verify", answer.url]);
  log(`passed in ${((performance.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await (await registry?.catch(() => undefined))?.stop();
  await rm(tmp, { recursive: true, force: true });
}
