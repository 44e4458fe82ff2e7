// The key commands as a user runs them, against a real local registry (workerd on a local D1):
// `key rotate` switches the key file only once the registry accepted, `retract` withdraws a run,
// `key revoke` shuts the key out; with the registry unreachable nothing changes locally.
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunDetail, SubmitResponse } from "../../schema/api.ts";
import { KeyInfo } from "../../schema/key-records.ts";
import { apiConfig, applyMigrations, type RunningWorker, startWorker } from "../../scripts/local-registry.ts";
import { makeBundle } from "../support/bundles.ts";
import { runCli } from "../support/cli.ts";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return res.json();
}

describe("edgebench key and retract against a local registry", () => {
  let dir: string;
  let home: string;
  let worker: RunningWorker | undefined;
  let registry: string;
  const cli = (args: string[]) => runCli([...args, "--registry", registry], { EDGEBENCH_HOME: home });
  const keyFile = async () =>
    JSON.parse(await readFile(join(home, "device-key.json"), "utf8")) as { publicKey: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgebench-key-cli-"));
    home = join(dir, "home");
    const persistTo = join(dir, "state");
    await applyMigrations(persistTo);
    worker = await startWorker({
      port: await freePort(),
      persistTo,
      configPath: await apiConfig(dir),
      demoKeyDir: join(dir, "demo"),
    });
    registry = worker.url;
  });

  afterAll(async () => {
    await worker?.stop();
  });

  it("rotates, retracts and revokes; an unreachable registry changes nothing locally", async () => {
    expect((await runCli(["keygen"], { EDGEBENCH_HOME: home })).code).toBe(0);
    const original = await keyFile();
    const bundleFile = join(dir, "bundle.json");
    await writeFile(bundleFile, JSON.stringify(makeBundle()));
    const submitted = await cli(["submit", bundleFile, "--json"]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const run = SubmitResponse.parse(JSON.parse(submitted.stdout));

    // Unreachable: an error, the same key file, no backup; the record waits to be sent again.
    const offline = await runCli(["key", "rotate", "--registry", `http://127.0.0.1:${await freePort()}`], {
      EDGEBENCH_HOME: home,
    });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain("cannot reach the registry");
    expect(await keyFile()).toEqual(original);
    expect((await readdir(home)).sort()).toEqual(["device-key.json", "device-key.pending-rotation.json"]);

    // The answer lost on the way back: the registry applied the rotation, the device never heard.
    // Sending the same record again finishes the switch to the key it names.
    const pending = JSON.parse(await readFile(join(home, "device-key.pending-rotation.json"), "utf8"));
    const applied = await fetch(`${registry}/v1/keys/rotate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pending.envelope),
    });
    expect(applied.status).toBe(200);

    const rotated = await cli(["key", "rotate"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/^Rotated device key [0-9a-f]{24} -> [0-9a-f]{24}/);
    const next = await keyFile();
    expect(next.publicKey).not.toBe(original.publicKey);
    expect(next.publicKey).toBe(pending.next.publicKey);
    expect((await readdir(home)).sort()).toEqual(["device-key.json", `device-key.rotated-${run.deviceId}.json`]);
    const old = KeyInfo.parse(await getJson(`${registry}/v1/keys/${run.deviceId}`));
    expect(old.status).toBe("rotated");

    // The new key retracts the run the old key signed (same lineage), given by its URL.
    const retracted = await runCli(["retract", run.url, "--reason", "measured with the fan off"], {
      EDGEBENCH_HOME: home,
    });
    expect(retracted.code, retracted.stderr).toBe(0);
    expect(retracted.stdout).toContain(`Retracted run ${run.id}`);
    const detail = RunDetail.parse(await getJson(`${registry}/v1/runs/${run.id}`));
    expect(detail.run).toMatchObject({ status: "retracted", statusReason: "measured with the fan off" });

    const revoked = await cli(["key", "revoke", "--reason", "board retired"]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain("Revoked key");
    const refused = await cli(["submit", bundleFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("key_revoked");

    // A missing reason is a usage error, caught before anything is signed or sent.
    expect((await cli(["key", "revoke"])).code).toBe(2);
  });
});

describe("edgebench key rotate against a registry that fails", () => {
  it("keeps the pending rotation when the registry answers 503 (it may have applied it)", async () => {
    const home = join(await mkdtemp(join(tmpdir(), "edgebench-key-503-")), "home");
    const server = createHttpServer((_req, res) => {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "internal", message: "database busy", requestId: "r1" } }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    try {
      expect((await runCli(["keygen"], { EDGEBENCH_HOME: home })).code).toBe(0);
      const before = await readFile(join(home, "device-key.json"), "utf8");
      const failed = await runCli(["key", "rotate", "--registry", `http://127.0.0.1:${port}`], {
        EDGEBENCH_HOME: home,
      });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain("503");
      expect(failed.stderr).toContain("run edgebench key rotate again");
      expect(await readFile(join(home, "device-key.json"), "utf8")).toBe(before);
      expect((await readdir(home)).sort()).toEqual(["device-key.json", "device-key.pending-rotation.json"]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
