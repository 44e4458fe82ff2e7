// `npm start`, 20 times in a row on one state directory (the first seeds it, the others find it
// seeded), each until it prints "is running" and then stopped with SIGINT as Ctrl-C would: how many
// reached it, and how long each took. The Worker is built before the first start (once per state of
// the sources, as `npm start` itself does), so the figures are starts, not builds.
import { join } from "node:path";
import { percentile } from "../cli/measure/stats.ts";
import { freePort } from "../test/support/load.ts";
import { buildWorker, spawnStart, stopStart, untilRunning } from "./local-registry.ts";

const STARTS = 20;
/** One start may take this long before it counts as failed. */
const START_TIMEOUT_MS = 180_000;

const fmt = (n: number, digits = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

interface Start {
  ok: boolean;
  ms: number;
  /** The last lines it printed, when it did not reach "is running". */
  tail: string;
}

async function oneStart(env: Record<string, string>): Promise<Start> {
  const began = performance.now();
  const started = spawnStart(env);
  const ok = await untilRunning(started, START_TIMEOUT_MS);
  const ms = performance.now() - began;
  await stopStart(started);
  return { ok, ms, tail: started.output().split("\n").slice(-6).join("\n") };
}

export async function benchStart(dir: string): Promise<string> {
  await buildWorker();
  const env = { PORT: String(await freePort()), EDGEBENCH_STATE_DIR: join(dir, "start-state") };
  const starts: Start[] = [];
  for (let i = 0; i < STARTS; i++) {
    const start = await oneStart(env);
    process.stderr.write(
      `bench: start ${i + 1}/${STARTS}: ${start.ok ? "running" : "FAILED"} after ${fmt(start.ms / 1000)} s\n`,
    );
    if (!start.ok) process.stderr.write(`${start.tail}\n`);
    starts.push(start);
  }
  const reached = starts.filter((s) => s.ok).length;
  const later = starts.slice(1).map((s) => s.ms);
  const failures = starts.flatMap((s, i) =>
    s.ok ? [] : [`start ${i + 1}: ${s.tail.replace(/\s+/g, " ").slice(-200)}`],
  );
  return `## Start-up (\`npm run bench -- --only start\`)

\`npm start\` ${STARTS} times in a row on one state directory, each until it printed "is running", then stopped
with SIGINT as Ctrl-C stops it; the first start seeds the empty database, the others find it seeded. The Worker
was built once before (\`npm start\` builds it only when the sources changed).

**${reached} of ${STARTS} starts reached "is running".** The first (migrations, seeding) took ${fmt((starts[0]?.ms ?? 0) / 1000)} s; the
other ${STARTS - 1}: p50 ${fmt((percentile(later, 50) ?? 0) / 1000)} s, slowest ${fmt(Math.max(...later) / 1000)} s.
${failures.length > 0 ? `\nFailed:\n\n${failures.map((f) => `- ${f}`).join("\n")}\n` : ""}
The "fetch failed" that stopped 2 of 24 starts before came from building the site while the Worker ran: the
build was synced into the directory \`wrangler dev\` served, and wrangler restarted the Worker under the next
request. The site is now built before the Worker starts, and nothing changes under it while \`npm start\` runs
(\`test/node/e2e.test.ts › npm start answers every request from its first answer on\`).
`;
}
