// `npm start`: the whole registry on this machine, with the seed runs, at http://127.0.0.1:8787
// (or PORT). Safe to run again: migrations and seeding only do what is not done yet.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { applyMigrations, buildWorker, ROOT, type RunningWorker, seedOnce, startWorker } from "./local-registry.ts";

const port = Number(process.env.PORT || 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}
// Where the local database and demo key live, and where the site is built: overridable so tests can
// run a second registry beside a developer's own.
const stateDir = resolve(process.env.EDGEBENCH_STATE_DIR || join(ROOT, ".wrangler"));
const persistTo = join(stateDir, "state");
const demoKeyDir = join(stateDir, "demo-key");
// For the interrupted-seeding test: a pause after each seed, so a start can be stopped part-way.
const seedPauseMs = Number(process.env.EDGEBENCH_SEED_PAUSE_MS || 0);

/** ADMIN_TOKEN from the environment, else one made for this state directory and kept beside it. */
async function localAdminToken(): Promise<string> {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const file = join(stateDir, "admin-token");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const token = randomBytes(24).toString("base64url");
    await mkdir(stateDir, { recursive: true });
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    return token;
  }
}

/** After a migration that changed the identity rules: every stored run filed by them (POST /v1/admin/rekey). */
async function rekeyStoredRuns(url: string, token: string): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await fetch(`${url}/v1/admin/rekey`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`re-keying stored runs failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { rekeyed: number; remaining: number };
    total += body.rekeyed;
    if (body.remaining === 0 || body.rekeyed === 0) return total;
  }
}

let worker: RunningWorker | undefined;
const shutdown = async () => {
  await worker?.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

try {
  console.log("edgebench: applying D1 migrations to the local database…");
  // The build holds no data, so it can come first: the Worker never restarts under a running start.
  const [, configPath] = await Promise.all([
    applyMigrations(persistTo),
    (async () => {
      console.log("edgebench: building the Worker and the site (astro build, once per change of the sources)…");
      return buildWorker();
    })(),
  ]);
  console.log("edgebench: starting the Worker (workerd, local D1)…");
  const adminToken = await localAdminToken();
  worker = await startWorker({ port, persistTo, configPath, demoKeyDir, adminToken });
  const rekeyed = await rekeyStoredRuns(worker.url, adminToken);
  if (rekeyed > 0) console.log(`edgebench: re-keyed ${rekeyed} stored runs to the current hardware and model rules`);
  const seeding = await seedOnce(worker.url, stateDir, demoKeyDir, { pauseMs: seedPauseMs });
  if (seeding.state === "seeded") {
    console.log(`edgebench: submitted ${seeding.created} seed runs signed with the local demo key`);
  } else if (seeding.state === "completed") {
    console.log(`edgebench: completed the seeding an earlier start began (${seeding.created} more seed runs)`);
  }
  console.log(`
edgebench is running (Ctrl-C stops it)
  site:        ${worker.url}/
  API:         ${worker.url}/v1/leaderboard   ${worker.url}/v1/hardware   ${worker.url}/v1/models
  submit:      npx edgebench submit <bundle.json> --registry ${worker.url}
  import:      npx edgebench import <llama-bench or ollama output…> --submit --registry ${worker.url}
  OpenAPI:     ${worker.url}/v1/openapi.json      audit log: ${worker.url}/v1/audit
  moderation:  curl -H "Authorization: Bearer ${process.env.ADMIN_TOKEN ? "$ADMIN_TOKEN" : `$(cat ${join(stateDir, "admin-token")})`}" ${worker.url}/v1/admin/…
`);
  const code = await new Promise<number | null>((r) => worker?.child.once("exit", r));
  console.error(`edgebench: the Worker exited (${code})`);
  process.exit(1);
} catch (error) {
  console.error(`edgebench: npm start failed: ${(error as Error).message}`);
  await worker?.stop();
  process.exit(1);
}
