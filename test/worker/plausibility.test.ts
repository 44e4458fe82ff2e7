// The server's own checks: physics, consistent timings, statistics across runs, replay rules.
import { describe, expect, it } from "vitest";
import { DryRunResponse, ErrorBody, Leaderboard, RunDetail, SubmitResponse } from "../../schema/api.ts";
import type { Bundle } from "../../schema/bundle.ts";
import { generateKeyPair, type KeyPair } from "../../schema/signing.ts";
import { makeBundle, TEST_CREATED_AT } from "../support/bundles.ts";
import { call, nodeSigned, postJson, rowCounts, signed } from "./helpers.ts";

async function submit(bundle: Bundle, key?: KeyPair) {
  const res = await postJson(await signed(bundle, key));
  return { status: res.status, body: (await res.json()) as unknown };
}

async function flagsOf(id: string) {
  return RunDetail.parse(await (await call(`/v1/runs/${id}`)).json()).run;
}

/** The example: 500 tok/s for a 4 GB model on a 12.8 GB/s board (a Raspberry Pi 4). */
function impossiblePi(): Bundle {
  const bundle = makeBundle({ board: "Raspberry Pi 4 Model B Rev 1.4", model: "Big-7B", decodeTps: 500 });
  bundle.model.fileBytes = 4e9;
  return bundle;
}

describe("plausibility", () => {
  it("flags decode speed above the memory-bandwidth bound and ranks the run apart, with the reason", async () => {
    const { status, body } = await submit(impossiblePi());
    expect(status).toBe(201);
    const run = await flagsOf(SubmitResponse.parse(body).id);
    expect(run.rankedApart).toBe(true);
    const flag = run.flags.find((f) => f.code === "implausible_speed");
    expect(flag?.reason).toMatch(/decode 500\.00 tok\/s is above the physical bound of 3\.20 tok\/s/);
    expect(flag?.reason).toMatch(/Raspberry Pi 4 \(.*\) 12\.8 GB\/s \(LPDDR4-3200, 32-bit\)/);
    const board = Leaderboard.parse(await (await call("/v1/leaderboard?hardware=raspberry-pi-4")).json());
    expect(board.items[0]).toMatchObject({ modelName: "Big-7B", rankedApart: true });
  });

  it("leaves a plausible run on the same board alone", async () => {
    const bundle = makeBundle({ board: "Raspberry Pi 4 Model B Rev 1.4", decodeTps: 2.5 });
    bundle.model.fileBytes = 4e9;
    const { body } = await submit(bundle);
    const run = await flagsOf(SubmitResponse.parse(body).id);
    expect(run.flags).toEqual([]);
    expect(run.rankedApart).toBe(false);
  });

  it("uses a declared bandwidth when the hardware is unknown", async () => {
    const bundle = makeBundle({ board: "Unknown Board X", decodeTps: 100 });
    bundle.model.fileBytes = 1e9;
    bundle.device.memoryBandwidthBytesPerSec = 10e9;
    const { body } = await submit(bundle);
    expect((await flagsOf(SubmitResponse.parse(body).id)).flags.map((f) => f.code)).toEqual(["implausible_speed"]);
  });

  it("pairs per-token latencies with the delivered decode rate, not the engine-timed headline", async () => {
    // On a small fast model llama.cpp's own eval timing is far above token arrival in JavaScript: both true.
    const bundle = makeBundle({ decodeTps: 2259 });
    const engine = bundle.measurements.find((m) => m.kind === "decode");
    if (engine) engine.timing = "engine";
    bundle.measurements.push(
      { kind: "decode", unit: "tokens/s", timing: "delivered", cold: false, nGen: 128, mean: 450, median: 450 },
      { kind: "token_latency", unit: "ms", cold: false, nGen: 128, mean: 2.2, p50: 2.2 },
    );
    const { body } = await submit(bundle);
    const run = await flagsOf(SubmitResponse.parse(body).id);
    expect(run.flags.map((f) => f.code)).not.toContain("inconsistent_timing");
    expect(run.decodeTps).toBe(2259);
    expect(run.decodeDeliveredTps).toBe(450);
  });

  it("flags timings that contradict each other", async () => {
    const bundle = makeBundle({ decodeTps: 10 });
    bundle.measurements.push({ kind: "token_latency", unit: "ms", cold: false, nGen: 128, mean: 10, p50: 10 });
    const { body } = await submit(bundle);
    const flag = (await flagsOf(SubmitResponse.parse(body).id)).flags.find((f) => f.code === "inconsistent_timing");
    expect(flag?.reason).toMatch(/reports 10 tok\/s but its per-token latency of 10 ms means 100\.0 tok\/s/);
  });

  it("flags statistics that do not match their own raw samples", async () => {
    const bundle = makeBundle({ decodeTps: 10 });
    const decode = bundle.measurements[2] as { mean?: number };
    decode.mean = 30;
    const { body } = await submit(bundle);
    const flag = (await flagsOf(SubmitResponse.parse(body).id)).flags.find((f) => f.code === "inconsistent_timing");
    expect(flag?.reason).toMatch(/reports a mean of 30 but its 2 raw samples average 10/);
  });

  it("flags a run more than 3σ from the other runs of its cell", async () => {
    for (const tps of [10, 10.5, 9.5, 10.2]) expect((await submit(makeBundle({ decodeTps: tps }))).status).toBe(201);
    const { body } = await submit(makeBundle({ decodeTps: 25 }));
    const flag = (await flagsOf(SubmitResponse.parse(body).id)).flags.find((f) => f.code === "outlier");
    expect(flag?.reason).toMatch(/decode 25\.00 tok\/s is \d+\.\dσ from the 4 other runs/);
  });

  it("does not flag any of the seed reports' runs", async () => {
    for (const { file, envelope } of nodeSigned().seeds) {
      const res = await postJson(envelope);
      const run = await flagsOf(SubmitResponse.parse(await res.json()).id);
      expect(run.flags, file).toEqual([]);
    }
  });
});

describe("reproduction ladder", () => {
  it("is single with one key, reproduced when another key agrees within 15%, disputed when it does not", async () => {
    const [a, b, c] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    await submit(makeBundle({ decodeTps: 10 }), a);
    const level = async () =>
      Leaderboard.parse(await (await call("/v1/leaderboard?hardware=test-board-1")).json()).items[0]?.reproduction;
    expect(await level()).toBe("single");
    await submit(makeBundle({ decodeTps: 11 }), b);
    expect(await level()).toBe("reproduced");
    const other = makeBundle({ decodeTps: 10, model: "Other-1B" });
    await submit(other, a);
    await submit(makeBundle({ decodeTps: 20, model: "Other-1B" }), c);
    const board = Leaderboard.parse(await (await call("/v1/leaderboard?model=other-1b")).json());
    expect(board.items.map((r) => r.reproduction)).toEqual(["disputed", "disputed"]);
  });

  it("filters the leaderboard by reproduction level", async () => {
    const [a, b] = [await generateKeyPair(), await generateKeyPair()];
    await submit(makeBundle({ decodeTps: 10 }), a);
    await submit(makeBundle({ decodeTps: 10.4 }), b);
    await submit(makeBundle({ decodeTps: 5, model: "Lonely-1B" }), a);
    const reproduced = Leaderboard.parse(await (await call("/v1/leaderboard?reproduction=reproduced")).json());
    expect(reproduced.items.map((r) => r.modelName)).toEqual(["Test-Model-1B", "Test-Model-1B"]);
  });
});

describe("replay and time window", () => {
  it("refuses a bundle created in the future or more than 90 days ago, naming the field", async () => {
    for (const createdAt of ["2999-01-01T00:00:00Z", "2020-01-01T00:00:00Z"]) {
      const bundle = makeBundle();
      bundle.provenance.createdAt = createdAt;
      const res = await postJson(await signed(bundle));
      expect(res.status).toBe(422);
      const error = ErrorBody.parse(await res.json()).error;
      expect(error.code).toBe("created_out_of_window");
      expect(error.details?.[0]?.path).toBe("payload.provenance.createdAt");
    }
    expect((await rowCounts()).runs).toBe(0);
  });

  it("refuses a nonce reused with different bytes (409) but takes the same bytes again (200)", async () => {
    const first = makeBundle({ decodeTps: 10 });
    first.provenance.nonce = "nonce-0001-abcdef";
    const envelope = await signed(first);
    expect((await postJson(envelope)).status).toBe(201);
    expect((await postJson(envelope)).status).toBe(200);
    const replay = makeBundle({ decodeTps: 99 });
    replay.provenance.nonce = "nonce-0001-abcdef";
    const res = await postJson(await signed(replay));
    expect(res.status).toBe(409);
    expect(ErrorBody.parse(await res.json()).error.code).toBe("nonce_reused");
    expect((await rowCounts()).runs).toBe(1);
  });

  it("lets two keys use the same nonce", async () => {
    const bundle = makeBundle();
    bundle.provenance.nonce = "shared-nonce-123";
    expect((await postJson(await signed(bundle, await generateKeyPair()))).status).toBe(201);
    expect((await postJson(await signed(bundle, await generateKeyPair()))).status).toBe(201);
  });
});

describe("POST /v1/runs/dry-run", () => {
  it("reports what would be stored and stores nothing", async () => {
    const res = await call("/v1/runs/dry-run", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(await signed(impossiblePi())),
    });
    expect(res.status).toBe(200);
    const report = DryRunResponse.parse(await res.json());
    expect(report).toMatchObject({ valid: true, alreadyStored: false, rankedApart: true });
    expect(report.summary.hardwareSlug).toBe("raspberry-pi-4");
    expect(report.flags.map((f) => f.code)).toContain("implausible_speed");
    expect(await rowCounts()).toEqual({ runs: 0, devices: 0, hardware: 0, models: 0 });
  });

  it("answers an invalid bundle with the same 422 as the real route", async () => {
    const bundle: Record<string, unknown> = { ...makeBundle() };
    delete bundle.runtime;
    const res = await call("/v1/runs/dry-run", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(await signed(bundle)),
    });
    expect(res.status).toBe(422);
    expect(ErrorBody.parse(await res.json()).error.details).toContainEqual({
      path: "payload.runtime",
      message: expect.any(String),
    });
  });

  it("says so when the same bytes are already stored", async () => {
    const envelope = await signed(makeBundle({ notes: `created ${TEST_CREATED_AT}` }));
    await postJson(envelope);
    const res = await call("/v1/runs/dry-run", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(envelope),
    });
    expect(DryRunResponse.parse(await res.json()).alreadyStored).toBe(true);
  });
});
