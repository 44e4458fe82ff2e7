import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { Envelope, verifyEnvelope } from "../../schema/signing.ts";
import { makeBundle } from "../support/bundles.ts";
import { runCli } from "../support/cli.ts";

let dir: string;
let env: Record<string, string>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgebench-cli-"));
  env = { EDGEBENCH_HOME: join(dir, "home") };
});

async function writeBundle(name: string, value: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(value));
  return path;
}

/** A port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe("edgebench keygen", () => {
  it("creates a private key file readable only by its owner, and never prints the secret", async () => {
    const result = await runCli(["keygen"], env);
    expect(result.code).toBe(0);
    const path = join(env.EDGEBENCH_HOME as string, "device-key.json");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const key = JSON.parse(await readFile(path, "utf8"));
    expect(result.stdout).toContain(key.publicKey);
    expect(result.stdout + result.stderr).not.toContain(key.privateKey.d);
  });

  it("refuses to overwrite a key unless forced", async () => {
    await runCli(["keygen"], env);
    const again = await runCli(["keygen"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists.*--force/);
    expect((await runCli(["keygen", "--force"], env)).code).toBe(0);
  });
});

describe("edgebench sign and verify", () => {
  it("signs a bundle to stdout with an envelope that verifies", async () => {
    await runCli(["keygen"], env);
    const file = await writeBundle("bundle.json", makeBundle());
    const signed = await runCli(["sign", file], env);
    expect(signed.code).toBe(0);
    const envelope = Envelope.parse(JSON.parse(signed.stdout));
    expect((await verifyEnvelope(envelope)).ok).toBe(true);
    const out = join(dir, "signed.json");
    expect((await runCli(["sign", file, "--out", out], env)).code).toBe(0);
    const verified = await runCli(["verify", out], env);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^Valid: signed by device [0-9a-f]{24}/);
  });

  it("reports a tampered envelope as invalid with exit code 1", async () => {
    await runCli(["keygen"], env);
    const file = await writeBundle("bundle.json", makeBundle({ decodeTps: 10 }));
    const envelope = JSON.parse((await runCli(["sign", file], env)).stdout);
    envelope.payload.measurements[2].mean = 99;
    const result = await runCli(["verify", await writeBundle("tampered.json", envelope)], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/INVALID: the signature does not match/);
  });

  it("refuses to sign an invalid bundle, listing each failing path", async () => {
    await runCli(["keygen"], env);
    const bad = JSON.parse(JSON.stringify(makeBundle()));
    delete bad.runtime.engine;
    bad.measurements[1].unit = "ms";
    const result = await runCli(["sign", await writeBundle("bad.json", bad)], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("runtime.engine");
    expect(result.stderr).toContain("measurements[1].unit");
    expect(result.stdout).toBe("");
  });

  it("explains a missing key, a missing file, bad JSON and an unknown option", async () => {
    const file = await writeBundle("bundle.json", makeBundle());
    const noKey = await runCli(["sign", file], env);
    expect([noKey.code, noKey.stderr]).toEqual([1, expect.stringMatching(/no device key.*edgebench keygen/)]);
    const missing = await runCli(["verify", join(dir, "nope.json")], env);
    expect([missing.code, missing.stderr]).toEqual([
      2,
      expect.stringMatching(/cannot read .*nope\.json: no such file/),
    ]);
    const junk = await runCli(["verify", await writeBundle("junk.json", "{")], env);
    expect(junk.stderr).toMatch(/not valid JSON|not a signed edgebench envelope/);
    await writeFile(join(dir, "broken.json"), "{ not json");
    const broken = await runCli(["sign", join(dir, "broken.json")], env);
    expect([broken.code, broken.stderr]).toEqual([1, expect.stringMatching(/broken\.json is not valid JSON/)]);
    const typo = await runCli(["sign", file, "--ot", "x"], env);
    expect([typo.code, typo.stderr]).toEqual([2, expect.stringMatching(/unknown option --ot/)]);
    const noArgs = await runCli(["sign"], env);
    expect(noArgs.code).toBe(2);
  });
});

describe("edgebench submit", () => {
  it("says the registry cannot be reached, with exit code 1", async () => {
    await runCli(["keygen"], env);
    const file = await writeBundle("bundle.json", makeBundle());
    const registry = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(["submit", file, "--registry", registry], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot reach the registry at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it("refuses a registry that is not an http(s) URL", async () => {
    const file = await writeBundle("bundle.json", makeBundle());
    const result = await runCli(["submit", file, "--registry", "ftp://example"], env);
    expect([result.code, result.stderr]).toEqual([2, expect.stringMatching(/must be an http\(s\) URL/)]);
  });
});
