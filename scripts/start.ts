// `npm start`: the whole registry on this machine, with the seed runs, at http://127.0.0.1:8787
// (or PORT). Safe to run again: migrations and seeding only do what is not done yet.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  applyMigrations,
  buildSite,
  isEmpty,
  ROOT,
  type RunningWorker,
  startWorker,
  submitSeeds,
  waitForBuiltPage,
} from "./local-registry.ts";

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
const assetsDir = resolve(process.env.EDGEBENCH_SITE_OUT || join(ROOT, "site", "dist"));

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
  await applyMigrations(persistTo);
  console.log("edgebench: starting the Worker (wrangler dev, local D1)…");
  const adminToken = await localAdminToken();
  worker = await startWorker({ port, persistTo, assetsDir, demoKeyDir, adminToken });
  const rekeyed = await rekeyStoredRuns(worker.url, adminToken);
  if (rekeyed > 0) console.log(`edgebench: re-keyed ${rekeyed} stored runs to the current hardware and model rules`);
  if (await isEmpty(worker.url)) {
    const created = await submitSeeds(worker.url, demoKeyDir);
    console.log(`edgebench: the database was empty; submitted ${created} seed runs signed with the local demo key`);
  } else {
    console.log("edgebench: the database already holds runs; not seeding");
  }
  console.log("edgebench: building the site from the local API…");
  await buildSite(worker.url, assetsDir);
  await waitForBuiltPage(worker.url, assetsDir);
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
