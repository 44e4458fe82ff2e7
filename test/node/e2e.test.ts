// End to end, as a user meets it: `npm start` (scripts/start.ts) brings up the Worker on a local D1
// with the seed runs; the CLI submits a freshly signed bundle and its pages show it on the very next
// request (they are rendered on demand); moderation takes it off them as fast; a tampered upload is
// refused and changes nothing; a start stopped while seeding is completed by the next.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { ErrorBody, HardwareList, Leaderboard, RunPage } from "../../schema/api.ts";
import { Bundle } from "../../schema/bundle.ts";
import { AuditPage } from "../../schema/moderation.ts";
import { summarize } from "../../schema/summary.ts";
import { ROOT, type StartedRegistry, spawnStart, stopStart, untilRunning } from "../../scripts/local-registry.ts";
import { makeBundle } from "../support/bundles.ts";
import { runCli } from "../support/cli.ts";
import { QUICK } from "../support/edgebench-run.ts";
import { freePort } from "../support/load.ts";
import { readSeedBundles } from "../support/seeds.ts";

const seeds = readSeedBundles();

type Started = StartedRegistry;

/** Runs `npm start`'s script and resolves once it says the registry is up. */
async function npmStart(env: Record<string, string>): Promise<Started> {
  const started = spawnStart(env);
  if (!(await untilRunning(started, 300_000))) {
    await stopStart(started);
    throw new Error(`npm start did not report itself running (exit ${started.child.exitCode}):\n${started.output()}`);
  }
  return started;
}

const stop = stopStart;

async function json(url: string): Promise<unknown> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return res.json();
}

async function allRuns(base: string): Promise<number> {
  return RunPage.parse(await json(`${base}/v1/runs?limit=100`)).items.length;
}

describe("the local registry, end to end", () => {
  let dir: string;
  let env: Record<string, string>;
  let base: string;
  let started: Started | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgebench-e2e-"));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      EDGEBENCH_STATE_DIR: join(dir, "state"),
      EDGEBENCH_HOME: join(dir, "device"),
    };
    started = await npmStart(env);
  });

  afterAll(async () => {
    await stop(started);
  });

  it("seeds an empty database with every seed run and serves a page for every seed's hardware", async () => {
    expect(started?.output()).toMatch(`submitted ${seeds.length} seed runs`);
    expect(await allRuns(base)).toBe(seeds.length);
    const hardware = HardwareList.parse(await json(`${base}/v1/hardware`)).items.map((h) => h.slug);
    for (const { file, bundle } of seeds) {
      // Filed and named by the registry's identity rules: the seeds' boards, their models' canonical names.
      const summary = summarize(Bundle.parse(bundle));
      const slug = summary.hardwareSlug;
      expect(hardware, file).toContain(slug);
      const page = await fetch(`${base}/hardware/${slug}/`);
      expect(page.status, `${file}: /hardware/${slug}/`).toBe(200);
      const html = await page.text();
      expect(html, `${file} on /hardware/${slug}/`).toContain(escapeHtml(summary.modelName));
    }
  });

  it("shows a bundle submitted with the CLI on its run page, leaderboard, model page and badge at the next request", async () => {
    expect((await runCli(["keygen"], env)).code).toBe(0);
    const bundle = makeBundle({ board: "E2E Board 7", model: "E2E-Model-3B", decodeTps: 21.5 });
    const file = join(dir, "fresh.json");
    await writeFile(file, JSON.stringify(bundle));
    const submitted = await runCli(["submit", file, "--registry", base], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.match(/^Stored run ([0-9a-f]{24}): /)?.[1];
    expect(id).toBeDefined();

    const board = Leaderboard.parse(await json(`${base}/v1/leaderboard?hardware=e2e-board-7`));
    expect(board.items.map((r) => [r.id, r.modelName, r.decodeTps])).toEqual([[id, "E2E-Model-3B", 21.5]]);

    // The URL the CLI printed answers at once, with the run's figures: no build in between.
    const runPage = await fetch(`${base}/runs/${id}/`);
    expect(runPage.status).toBe(200);
    const runHtml = await runPage.text();
    expect(runHtml).toContain("E2E-Model-3B");
    expect(runHtml).toContain("21.5");
    const served = await (await fetch(`${base}/hardware/e2e-board-7/`)).text();
    expect(served).toContain(`/runs/${id}/`);
    // A later page of it under a cursor the API never handed out: no such page, not an error.
    expect((await fetch(`${base}/hardware/e2e-board-7/?cursor=bm90LWEtY3Vyc29y&from=50`)).status).toBe(404);
    const modelSlug = board.items[0]?.modelSlug;
    const modelPage = await (await fetch(`${base}/models/${modelSlug}/`)).text();
    expect(modelPage).toContain(`/runs/${id}/`);
    const badge = z.object({ message: z.string() }).parse(await json(`${base}/badge/${modelSlug}/e2e-board-7.json`));
    expect(badge.message).toContain("21.5");

    const verified = await runCli(["verify", `${base}/runs/${id}/`], env);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`run ${id} matches its content hash`);

    const again = await runCli(["submit", file, "--registry", base], env);
    expect(again.stdout).toMatch(`Already stored run ${id}`);
  });

  it("imports a llama-bench table, submits it, and shows its runs on the hardware page", async () => {
    const fixture = join(ROOT, "test", "fixtures", "import", "llama-bench", "md-2025-pi5-depth-fa.md");
    const args = ["import", fixture, "--hardware", "Raspberry Pi 5 Model B Rev 1.0", "--model", "Gemma 3 1B"];
    const imported = await runCli([...args, "--submit", "--registry", base], env);
    expect(imported.code, imported.stderr).toBe(0);
    const ids = [...imported.stderr.matchAll(/submitted: \S+\/runs\/([0-9a-f]{24})\//g)].map((m) => m[1]);
    // The table holds two configurations (flash attention off and on): two bundles.
    expect(ids, imported.stderr).toHaveLength(2);

    const board = Leaderboard.parse(await json(`${base}/v1/leaderboard?hardware=raspberry-pi-5`));
    const rows = board.items.filter((r) => ids.includes(r.id));
    expect(rows.map((r) => [r.decodeTps, r.prefillTps, r.method, r.importFormat]).sort()).toEqual([
      [11.85, 45.12, "imported", "llama-bench"],
      [12.01, 46.9, "imported", "llama-bench"],
    ]);

    const page = await (await fetch(`${base}/hardware/raspberry-pi-5/`)).text();
    for (const id of ids) expect(page).toContain(`/runs/${id}/`);
    expect(page).toContain("Gemma 3 1B");
  });

  it("moderates with the token npm start made: a hidden run leaves its pages at the next request, and the audit log says so", async () => {
    const token = (await readFile(join(dir, "state", "admin-token"), "utf8")).trim();
    const board = Leaderboard.parse(await json(`${base}/v1/leaderboard?hardware=raspberry-pi-5`));
    const target = board.items[0];
    expect(target).toBeDefined();
    // Rendered and cached before the hiding: the cache must not outlive it.
    const pages = [`/hardware/raspberry-pi-5/`, `/models/${target?.modelSlug}/`];
    for (const path of pages) {
      expect(await (await fetch(`${base}${path}`)).text(), path).toContain(`/runs/${target?.id}/`);
      const again = await fetch(`${base}${path}`);
      // Kept in this isolate's memory, or in the data center's cache.
      expect(["memory", "hit"], path).toContain(again.headers.get("x-edgebench-cache"));
    }
    const hide = (auth: string) =>
      fetch(`${base}/v1/admin/runs/${target?.id}/hide`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${auth}` },
        body: JSON.stringify({ reason: "e2e: duplicate upload" }),
      });
    expect((await hide("not-the-token")).status).toBe(401);
    expect((await hide(token)).status).toBe(200);
    const after = Leaderboard.parse(await json(`${base}/v1/leaderboard?hardware=raspberry-pi-5`));
    expect(after.items.map((r) => r.id)).not.toContain(target?.id);
    for (const path of pages) {
      const res = await fetch(`${base}${path}`);
      expect(res.headers.get("x-edgebench-cache"), path).toBe("miss");
      expect(await res.text(), path).not.toContain(`/runs/${target?.id}/`);
    }
    // The run's own page stays, and says it was hidden and why.
    const runPage = await (await fetch(`${base}/runs/${target?.id}/`)).text();
    expect(runPage).toContain("Hidden by a moderator: e2e: duplicate upload");
    const audit = AuditPage.parse(await json(`${base}/v1/audit?target=run:${target?.id}`));
    expect(audit.items.map((a) => a.action)).toEqual(["run.hide"]);
  });

  it("answers a tampered upload with 401 and leaves the row count unchanged", async () => {
    const before = await allRuns(base);
    const file = join(dir, "to-tamper.json");
    await writeFile(file, JSON.stringify(makeBundle({ board: "E2E Board 7", decodeTps: 3 })));
    const envelope = JSON.parse((await runCli(["sign", file], env)).stdout);
    envelope.payload.measurements[2].mean = 300;
    const res = await fetch(`${base}/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(envelope),
    });
    expect(res.status).toBe(401);
    expect(ErrorBody.parse(await res.json()).error.code).toBe("bad_signature");
    expect(await allRuns(base)).toBe(before);
  });

  it("measures a generated 20M-parameter model with the default command and shows it, with its quality gates", async () => {
    const model = join(dir, "m.gguf");
    const made = await runCli(["fixture", "random", "--params", "20000000", "--out", model], env);
    expect(made.code, made.stderr).toBe(0);
    const out = join(dir, "random-run.json");
    const run = await runCli(["run", model, "--submit", "--registry", base, "--out", out], env);
    expect(run.code, run.stderr).toBe(0);
    const bundle = Bundle.parse(JSON.parse(await readFile(out, "utf8")));
    const id = run.stderr.match(/submitted: \S+\/runs\/([0-9a-f]{24})\//)?.[1];
    expect(id, run.stderr).toBeDefined();
    const slug = summarize(bundle).hardwareSlug;
    const row = Leaderboard.parse(await json(`${base}/v1/leaderboard?hardware=${slug}`)).items.find((r) => r.id === id);
    expect(row?.decodeTps).toBeGreaterThan(0);
    expect(row?.prefillTps).toBeGreaterThan(0);
    expect(row?.peakMemoryBytes).toBeGreaterThan(20e6);
    // Random weights predict text no better than chance: the gate catches it and the board ranks it apart.
    expect(row).toMatchObject({
      qualityStatus: "fail",
      rankedApart: true,
      qualityReason: expect.stringMatching(/perplexity/),
    });
    expect(bundle.roofline?.efficiency).toBeGreaterThan(0);

    const page = await (await fetch(`${base}/runs/${id}/`)).text();
    expect(page).toContain("Roofline");
    expect(page).toContain("perplexity_near_chance");
    const board = await (await fetch(`${base}/hardware/${slug}/`)).text();
    expect(board).toContain(`/runs/${id}/`);
    // A full default run: about 45 s on an idle 2-core machine; room for a busy one.
  }, 240_000);

  it("ranks the looper model apart, with its reason, in the leaderboard and on the page", async () => {
    const model = join(dir, "looper.gguf");
    await runCli(["fixture", "looper", "--out", model], env);
    const out = join(dir, "looper-run.json");
    const run = await runCli(["run", model, ...QUICK, "--submit", "--registry", base, "--out", out], env);
    expect(run.code, run.stderr).toBe(0);
    const bundle = Bundle.parse(JSON.parse(await readFile(out, "utf8")));
    const slug = summarize(bundle).hardwareSlug;
    const row = Leaderboard.parse(await json(`${base}/v1/leaderboard?hardware=${slug}`)).items.find(
      (r) => r.modelName === bundle.model.name,
    );
    expect(row).toMatchObject({
      rankedApart: true,
      qualityReason: expect.stringMatching(/task answers are degenerate/),
    });
    const page = await (await fetch(`${base}/hardware/${slug}/`)).text();
    expect(page).toMatch(/Ranked apart: [^<]*task answers are degenerate/);
  });

  it("keeps an undeliverable bundle in the outbox and delivers it exactly once, even with two flushes at once", async () => {
    const model = join(dir, "counter.gguf");
    await runCli(["fixture", "counter", "--out", model], env);
    const down = "http://127.0.0.1:9";
    const run = await runCli(["run", model, ...QUICK, "--no-builtin-suite", "--submit", "--registry", down], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/queued in the outbox as ([0-9a-f]{24})/);
    const listed = JSON.parse((await runCli(["outbox", "list", "--json"], env)).stdout) as Array<{ state: string }>;
    expect(listed.map((i) => i.state)).toEqual(["pending"]);
    const before = await allRuns(base);
    const [a, b] = await Promise.all([
      runCli(["outbox", "flush", "--registry", base, "--json"], env),
      runCli(["outbox", "flush", "--registry", base, "--json"], env),
    ]);
    const delivered = [a, b].flatMap((r) => (JSON.parse(r.stdout) as { delivered: unknown[] }).delivered);
    expect(delivered).toHaveLength(1);
    expect(await allRuns(base)).toBe(before + 1);
    expect(JSON.parse((await runCli(["outbox", "list", "--json"], env)).stdout)).toEqual([]);
  });

  it("is idempotent: a second npm start on the same state keeps every run once and does not seed", async () => {
    const before = await allRuns(base);
    await stop(started);
    started = await npmStart(env);
    expect(started.output()).not.toMatch(/seed runs/);
    expect(await allRuns(base)).toBe(before);
  });
});

describe("npm start answers every request from its first answer on", () => {
  it("never drops a request while it migrates, seeds and reports itself running, nor after", async () => {
    // The race behind "npm start failed: fetch failed": the site used to be built while the Worker ran and
    // synced into the directory wrangler served, which restarted the Worker under the next request. Here
    // a client asks for a page and an API route back to back from the moment the port first answers until
    // a few seconds after "is running"; every request after the first answer must be answered, with 200.
    const dir = await mkdtemp(join(tmpdir(), "edgebench-race-"));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const started = spawnStart({ PORT: String(port), EDGEBENCH_STATE_DIR: join(dir, "state") });
    const { child } = started;
    const failures: string[] = [];
    let answered = 0;
    let runningAt: number | undefined;
    try {
      const deadline = Date.now() + 240_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${started.output()}`);
        if (Date.now() > deadline) throw new Error(`npm start did not report itself running:\n${started.output()}`);
        if (runningAt === undefined && started.output().includes("edgebench is running")) runningAt = Date.now();
        if (runningAt !== undefined && Date.now() - runningAt > 3000) break;
        for (const path of ["/", "/v1/hardware"]) {
          try {
            const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(20_000) });
            await res.arrayBuffer();
            answered++;
            if (res.status !== 200) failures.push(`${path}: ${res.status}`);
          } catch (error) {
            // Refused before the port first answers is the Worker still starting; after, it is the race.
            if (answered > 0) failures.push(`${path}: ${(error as Error).message}`);
          }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await stopStart(started);
    }
    expect(started.output()).not.toContain("npm start failed");
    expect(answered).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  }, 300_000);
});

describe("npm start stopped while seeding", () => {
  it("completes the seeds on the next start, with the same ids, and a third start adds nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "edgebench-seed-"));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // A pause after each seed, so the first start can be stopped part-way, as Ctrl-C would.
    const env = { PORT: String(port), EDGEBENCH_STATE_DIR: join(dir, "state"), EDGEBENCH_SEED_PAUSE_MS: "400" };
    const first = spawnStart(env);
    const stored = async () => {
      try {
        return await allRuns(base);
      } catch {
        return 0; // not up yet
      }
    };
    const deadline = Date.now() + 180_000;
    while ((await stored()) < 3) {
      if (first.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the first start never seeded 3 runs:\n${first.output()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await stopStart(first);

    const second = await npmStart({ ...env, EDGEBENCH_SEED_PAUSE_MS: "0" });
    try {
      const page = RunPage.parse(await json(`${base}/v1/runs?limit=100`));
      expect(page.items).toHaveLength(seeds.length);
      // Completed with the envelopes signed before the interruption: each seed once, none twice.
      expect(new Set(page.items.map((r) => r.id)).size).toBe(seeds.length);
      expect(second.output()).toMatch(/completed the seeding an earlier start began \((\d+) more seed runs\)/);
      const more = Number(second.output().match(/\((\d+) more seed runs\)/)?.[1]);
      expect(more).toBeGreaterThan(0);
      expect(more).toBeLessThan(seeds.length);
    } finally {
      await stop(second);
    }
    const third = await npmStart(env);
    try {
      expect(await allRuns(base)).toBe(seeds.length);
      expect(third.output()).not.toMatch(/seed runs/);
    } finally {
      await stop(third);
    }
  }, 400_000);
});

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
