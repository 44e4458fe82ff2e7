// A submission is one D1 batch: when any statement of it fails, nothing of it is kept. A SQLite
// trigger makes one statement fail on purpose (the run's insert, or its cell's write, which comes
// after the run's insert and would also re-level the cell's other runs); every table a submission
// writes must then be exactly as before, and the same bytes must be stored once the fault is gone.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ErrorBody, RunDetail, SubmitResponse } from "../../schema/api.ts";
import { generateKeyPair } from "../../schema/signing.ts";
import { makeBundle } from "../support/bundles.ts";
import { call, postJson, signed } from "./helpers.ts";

/** Every table a submission writes to, in a fixed order. */
const TABLES = ["devices", "hardware", "models", "runs", "cells"] as const;

type Snapshot = Record<(typeof TABLES)[number], Array<Record<string, unknown>>>;

async function snapshot(): Promise<Snapshot> {
  const rows = await env.DB.batch(TABLES.map((t) => env.DB.prepare(`select * from ${t} order by 1`)));
  return Object.fromEntries(TABLES.map((t, i) => [t, rows[i]?.results ?? []])) as Snapshot;
}

async function createTrigger(sql: string): Promise<void> {
  // The Worker logs the 500 the failing batch causes; expected here.
  vi.spyOn(console, "error").mockImplementation(() => {});
  await env.DB.prepare(sql).run();
}

afterEach(async () => {
  vi.restoreAllMocks();
  await env.DB.batch([
    env.DB.prepare("drop trigger if exists fail_run_insert"),
    env.DB.prepare("drop trigger if exists fail_cell_write"),
  ]);
});

async function store(body: unknown): Promise<SubmitResponse> {
  const res = await postJson(body);
  expect(res.status, await res.clone().text()).toBe(201);
  return SubmitResponse.parse(await res.json());
}

async function expectInternalError(res: Response): Promise<void> {
  expect(res.status, await res.clone().text()).toBe(500);
  const body = ErrorBody.parse(await res.json());
  expect(body.error.code).toBe("internal");
  expect(body.error.message, "no database error text reaches the client").not.toMatch(/refused|SQLITE|trigger/i);
}

describe("a D1 statement failing inside a submission's batch", () => {
  it("keeps nothing when the run's insert fails, not even its new device, hardware or model", async () => {
    const earlier = await store(await signed(makeBundle({ board: "Atomic Board 1", model: "Atomic-Model-1" })));
    // New key, new board, new model: the batch inserts a device, hardware and model before the run.
    const key = await generateKeyPair();
    const envelope = await signed(makeBundle({ board: "Atomic Board 2", model: "Atomic-Model-2", decodeTps: 12 }), key);
    const before = await snapshot();
    expect(before.runs.map((r) => r.id)).toEqual([earlier.id]);

    await createTrigger(
      "create trigger fail_run_insert before insert on runs begin select raise(abort, 'run insert refused'); end",
    );
    await expectInternalError(await postJson(envelope));
    expect(await snapshot(), "every table exactly as before the failed submission").toEqual(before);

    await env.DB.prepare("drop trigger fail_run_insert").run();
    const stored = await store(envelope);
    expect(stored.created).toBe(true);
    const after = await snapshot();
    expect(after.runs.map((r) => r.id).sort()).toEqual([earlier.id, stored.id].sort());
    expect(after.devices).toHaveLength(before.devices.length + 1);
    expect(after.hardware.map((h) => h.slug)).toEqual(["atomic-board-1", "atomic-board-2"]);
    expect(after.models.map((m) => m.slug)).toEqual(["atomic-model-1", "atomic-model-2"]);
    expect(after.cells).toHaveLength(2);
    const detail = await call(`/v1/runs/${stored.id}`);
    expect(RunDetail.parse(await detail.json()).run.modelName).toBe("Atomic-Model-2");
  });

  it("keeps nothing when the cell's write fails after the run's insert, and leaves the cell's other runs as they were", async () => {
    const bundle = () => makeBundle({ board: "Atomic Board 3", model: "Atomic-Model-3", decodeTps: 20 });
    const first = await store(await signed(bundle()));
    // The same measurement from another device: stored, it would make the cell "reproduced" and
    // copy that level onto the first run.
    const envelope = await signed(bundle(), await generateKeyPair());
    const before = await snapshot();
    expect(before.cells.map((c) => [c.runs, c.level])).toEqual([[1, "single"]]);

    await createTrigger(
      "create trigger fail_cell_write before update on cells begin select raise(abort, 'cell write refused'); end",
    );
    await expectInternalError(await postJson(envelope));
    expect(await snapshot(), "every table exactly as before the failed submission").toEqual(before);
    const firstRun = RunDetail.parse(await (await call(`/v1/runs/${first.id}`)).json()).run;
    expect(firstRun.reproduction).toBe("single");

    await env.DB.prepare("drop trigger fail_cell_write").run();
    const stored = await store(envelope);
    expect(stored.created).toBe(true);
    const after = await snapshot();
    expect(after.runs).toHaveLength(2);
    expect(after.cells.map((c) => [c.runs, c.lineages, c.level])).toEqual([[2, 2, "reproduced"]]);
    expect(RunDetail.parse(await (await call(`/v1/runs/${first.id}`)).json()).run.reproduction).toBe("reproduced");
  });
});
