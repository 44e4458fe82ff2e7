// Faults a registry meets in the field, on the real local runtime (Miniflare: workerd + local D1):
// the Worker killed outright in the middle of a stream of submissions, a client that hangs up in the
// middle of its upload, and the CLI's outbox delivering with two processes at once while the registry
// is down, comes up, and goes down again mid-flush. Whatever happens, every bundle ends up stored
// exactly once, under the id its signed bytes hash to, and nothing is stored half.

import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueue, type FlushReport, listOutbox, outboxDir } from "../../cli/lib/outbox.ts";
import { SubmitResponse } from "../../schema/api.ts";
import { apiConfig, applyMigrations } from "../../scripts/local-registry.ts";
import { type CliResult, runCli } from "../support/cli.ts";
import { freePort, KillableRegistry, type SignedBundle, signBundles, storedRunIds } from "../support/load.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `done` every `everyMs` until it holds; fails with `what` after `timeoutMs`. */
async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 25) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const sorted = (ids: Iterable<string>) => [...ids].sort();

/** Ids stored now that were not stored before, duplicates kept (a duplicate would show twice). */
function added(before: string[], after: string[]): string[] {
  const old = new Set(before);
  return sorted(after.filter((id) => !old.has(id)));
}

function flushReport(result: CliResult, label: string): FlushReport {
  try {
    return JSON.parse(result.stdout) as FlushReport;
  } catch {
    throw new Error(`${label} printed no JSON report (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

describe("faults on the local registry", () => {
  let dir: string;
  let registry: KillableRegistry;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgebench-faults-"));
    const persistTo = join(dir, "state");
    const [configPath, port] = await Promise.all([
      apiConfig(dir, { liftLimits: true }),
      freePort(),
      applyMigrations(persistTo),
    ]);
    registry = new KillableRegistry({ port, persistTo, configPath });
    await registry.start();
  });

  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("stores every bundle exactly once when the Worker is killed mid-stream and clients retry the same bytes", async () => {
    const bundles = await signBundles(40, { prefix: "Crash" });
    const before = await storedRunIds(registry.url);
    const answers: Array<{ bundle: SignedBundle; status: number; id: string }> = [];
    const failures: string[] = [];

    /** One client's submission: the same bytes again after every failure, until the registry answers. */
    const submit = async (bundle: SignedBundle) => {
      const deadline = Date.now() + 50_000;
      for (;;) {
        try {
          const res = await fetch(`${registry.url}/v1/runs`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: bundle.body,
            signal: AbortSignal.timeout(10_000),
          });
          const text = await res.text();
          if (res.status === 201 || res.status === 200) {
            answers.push({ bundle, status: res.status, id: SubmitResponse.parse(JSON.parse(text)).id });
            return;
          }
          // A refusal (4xx) would be a real answer about these bytes, and wrong: they are valid.
          if (res.status < 500) throw new Error(`bundle ${bundle.id} refused with ${res.status}: ${text}`);
          failures.push(`HTTP ${res.status}`);
        } catch (error) {
          if ((error as Error).message.startsWith("bundle ")) throw error;
          failures.push((error as Error).message);
        }
        if (Date.now() > deadline) throw new Error(`bundle ${bundle.id} was never acknowledged: ${failures.at(-1)}`);
        await sleep(100);
      }
    };
    const queue = [...bundles];
    const clients = Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let b = queue.shift(); b; b = queue.shift()) await submit(b);
      }),
    );

    await until("10 acknowledged submissions before the kill", () => answers.length >= 10);
    const acknowledgedAtKill = answers.length;
    await registry.kill();
    await registry.start();
    const failuresWhileDown = failures.length;
    await clients;

    expect(acknowledgedAtKill, "the kill came before the stream ended").toBeLessThan(bundles.length);
    expect(failuresWhileDown, "submissions failed while the Worker was down (the fault happened)").toBeGreaterThan(0);
    for (const a of answers) expect(a.id, "the registry's id is the hash of the signed bytes").toBe(a.bundle.id);
    expect(sorted(answers.map((a) => a.bundle.id)), "every bundle was acknowledged once by its client").toEqual(
      sorted(bundles.map((b) => b.id)),
    );
    expect(added(before, await storedRunIds(registry.url)), "stored runs: each bundle exactly once").toEqual(
      sorted(bundles.map((b) => b.id)),
    );
  });

  it("keeps nothing of an upload whose client hangs up mid-body, and goes on answering", async () => {
    const [bundle] = await signBundles(1, { prefix: "Cut" });
    if (!bundle) throw new Error("no bundle signed");
    const before = await storedRunIds(registry.url);
    const bytes = Buffer.from(bundle.body);
    const port = Number(new URL(registry.url).port);
    for (const cut of [1, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const socket = connect(port, "127.0.0.1");
      await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      let answered = "";
      socket.on("data", (d) => {
        answered += d;
      });
      socket.on("error", () => {});
      socket.write(
        `POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${bytes.length}\r\n\r\n`,
      );
      socket.write(bytes.subarray(0, cut));
      await sleep(300);
      socket.destroy();
      expect(answered, `no success for an upload cut after ${cut} of ${bytes.length} bytes`).not.toMatch(
        /^HTTP\/1\.1 2/,
      );
    }
    await sleep(500);
    const hardware = await fetch(`${registry.url}/v1/hardware`);
    await hardware.arrayBuffer();
    expect(hardware.status, "the registry still answers").toBe(200);
    expect(sorted(await storedRunIds(registry.url)), "nothing stored by the cut uploads").toEqual(sorted(before));

    // The whole upload of the same bytes is then new to the registry: 201, not "already stored".
    const res = await fetch(`${registry.url}/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bundle.body,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(SubmitResponse.parse(await res.json())).toMatchObject({ id: bundle.id, created: true });
    expect(added(before, await storedRunIds(registry.url))).toEqual([bundle.id]);
  });

  it("delivers bundles queued while the registry was down exactly once with two flushes at once", async () => {
    const env = { EDGEBENCH_HOME: join(dir, "device-a") };
    const bundles = await signBundles(6, { prefix: "Outbox" });
    await registry.kill();
    for (const b of bundles) await enqueue(registry.url, b.envelope, outboxDir(env.EDGEBENCH_HOME));

    const whileDown = await runCli(["outbox", "flush", "--json"], env);
    expect(whileDown.code, "a flush with the registry down fails").toBe(1);
    expect(flushReport(whileDown, "flush while down").failed).toHaveLength(bundles.length);
    const pending = await listOutbox(outboxDir(env.EDGEBENCH_HOME));
    expect(pending.map((i) => [i.id, i.state, i.attempts])).toEqual(
      sorted(bundles.map((b) => b.id)).map((id) => [id, "pending", 1]),
    );

    await registry.start();
    const before = await storedRunIds(registry.url);
    const [a, b] = await Promise.all([
      runCli(["outbox", "flush", "--json"], env),
      runCli(["outbox", "flush", "--json"], env),
    ]);
    const reports = [flushReport(a, "first flush"), flushReport(b, "second flush")];
    const delivered = reports.flatMap((r) => r.delivered);
    expect(sorted(delivered.map((d) => d.id)), "each bundle delivered by exactly one of the two processes").toEqual(
      sorted(bundles.map((x) => x.id)),
    );
    expect(delivered.every((d) => d.created)).toBe(true);
    expect(reports.flatMap((r) => [...r.failed, ...r.rejected])).toEqual([]);
    expect(added(before, await storedRunIds(registry.url))).toEqual(sorted(bundles.map((x) => x.id)));
    expect(await listOutbox(outboxDir(env.EDGEBENCH_HOME)), "the outbox is empty").toEqual([]);
  });

  it("delivers every bundle exactly once when the registry goes down in the middle of two flushes", async () => {
    const env = { EDGEBENCH_HOME: join(dir, "device-b") };
    const bundles = await signBundles(30, { prefix: "OutboxMid" });
    for (const b of bundles) await enqueue(registry.url, b.envelope, outboxDir(env.EDGEBENCH_HOME));
    const before = await storedRunIds(registry.url);

    // Two bundles a request, so that the kill falls between requests of each flush.
    const flushes = Promise.all([
      runCli(["outbox", "flush", "--json", "--batch", "2"], env),
      runCli(["outbox", "flush", "--json", "--batch", "2"], env),
    ]);
    try {
      await until(
        "the first deliveries of the flush",
        async () => (await storedRunIds(registry.url)).length >= before.length + 3,
      );
    } finally {
      await registry.kill();
    }
    const interrupted = (await flushes).map((r, i) => flushReport(r, `interrupted flush ${i + 1}`));
    const failed = interrupted.flatMap((r) => r.failed.map((f) => f.id));
    expect(failed.length, "the kill interrupted the flushes: some bundles are still queued").toBeGreaterThan(0);
    expect(interrupted.flatMap((r) => r.rejected)).toEqual([]);

    await registry.start();
    const last = await runCli(["outbox", "flush", "--json"], env);
    expect(last.code, last.stderr).toBe(0);
    const final = flushReport(last, "flush after the restart");
    expect(sorted(final.delivered.map((d) => d.id)), "the bundles left queued are delivered next").toEqual(
      sorted(new Set(failed)),
    );

    const delivered = [...interrupted, final].flatMap((r) => r.delivered);
    expect(sorted(new Set(delivered.map((d) => d.id))), "every bundle delivered").toEqual(
      sorted(bundles.map((b) => b.id)),
    );
    const created = delivered.filter((d) => d.created).map((d) => d.id);
    expect(created.length, "no bundle created twice").toBe(new Set(created).size);
    expect(added(before, await storedRunIds(registry.url)), "stored runs: each bundle exactly once").toEqual(
      sorted(bundles.map((b) => b.id)),
    );
    expect(await listOutbox(outboxDir(env.EDGEBENCH_HOME)), "the outbox is empty").toEqual([]);
  });
});
