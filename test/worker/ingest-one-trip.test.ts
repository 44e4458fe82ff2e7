// A single submission is decided without reading D1 first and stored in one batch that checks what
// was assumed (workers/ingest.ts submitRun). These tests count the calls that reach D1 and show that
// each thing the assumptions leave out sends the run to the full decision, with its usual outcome.

import { env } from "cloudflare:workers";
import type { D1Database, D1PreparedStatement } from "@cloudflare/workers-types";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import fc from "fast-check";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import type { RunFlag } from "../../schema/api.ts";
import { Bundle } from "../../schema/bundle.ts";
import { cells } from "../../schema/db.ts";
import { deviceIdOf, generateKeyPair, type KeyPair } from "../../schema/signing.ts";
import { summarize } from "../../schema/summary.ts";
import { versionKey } from "../../schema/version-key.ts";
import { itemError } from "../../workers/errors.ts";
import { submitRun } from "../../workers/ingest.ts";
import { EMPTY_CELL, mayBeOutlierSql, plausibilityFlags, withRun } from "../../workers/plausibility.ts";
import { makeBundle } from "../support/bundles.ts";
import { rowCounts, signed } from "./helpers.ts";

const EXECUTIONS = new Set(["first", "all", "run", "raw"]);

/** The real local D1, with a count of the calls that reach it: each batch, each statement run alone. */
function countedD1(d1: D1Database) {
  let calls = 0;
  const unwrapped = new WeakMap<object, D1PreparedStatement>();
  const method = (target: object, prop: string | symbol) => {
    const value = Reflect.get(target, prop, target);
    return typeof value === "function" ? value.bind(target) : value;
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (typeof prop === "string" && EXECUTIONS.has(prop)) calls++;
        return method(target, prop);
      },
    });
    unwrapped.set(proxy, statement);
    return proxy;
  };
  const db = new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrap(target.prepare(query));
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          calls++;
          return target.batch(statements.map((s) => unwrapped.get(s) ?? s));
        };
      }
      return method(target, prop);
    },
  });
  return { db: drizzle(db), calls: () => calls };
}

type Options = Parameters<typeof makeBundle>[0] & { nonce?: string; version?: string };

async function submission(options: Options, key: KeyPair) {
  const bundle = makeBundle(options);
  if (options.nonce) bundle.provenance.nonce = options.nonce;
  if (options.version) bundle.runtime.version = options.version;
  const envelope = await signed(bundle, key);
  return { envelope, bundle: Bundle.parse(envelope.payload), deviceId: await deviceIdOf(envelope.publicKey) };
}

/** One submission through submitRun on a counted D1: its outcome and the calls it made. */
async function submitCounted(options: Options, key: KeyPair) {
  const counted = countedD1(env.DB);
  const s = await submission(options, key);
  try {
    const { prepared, created } = await submitRun(counted.db, s, new Date());
    return { id: prepared.id, flags: prepared.flags, created, calls: counted.calls() };
  } catch (error) {
    if (!(error instanceof HTTPException)) throw error;
    return { error: itemError(error), calls: counted.calls() };
  }
}

const codes = (flags: RunFlag[] | undefined) => (flags ?? []).map((f) => f.code.replace(/:\d+$/, ""));
const runRow = (id: string) =>
  env.DB.prepare("select hardware_slug, flags, rank_group from runs where id = ?").bind(id).first<{
    hardware_slug: string;
    flags: string;
    rank_group: number;
  }>();

describe("a single submission", () => {
  it("is decided and stored in one call to D1 when nothing assumed is false", async () => {
    const key = await generateKeyPair();
    const first = await submitCounted({ decodeTps: 10, nonce: "one-trip-nonce-0001" }, key);
    expect(first).toMatchObject({ created: true, calls: 1 });
    // A known key, a known board and model, a cell with runs in it: still one call.
    for (const [i, decodeTps] of [10.2, 9.8, 10.1].entries()) {
      expect(await submitCounted({ decodeTps, nonce: `one-trip-nonce-01${i}0` }, key)).toMatchObject({
        created: true,
        calls: 1,
      });
    }
    expect((await rowCounts()).runs).toBe(4);
  });

  it("goes to the full decision for a resend, and writes nothing", async () => {
    const key = await generateKeyPair();
    const sent = await submitCounted({ decodeTps: 10 }, key);
    const before = await rowCounts();
    const again = await submitCounted({ decodeTps: 10 }, key);
    expect(again).toMatchObject({ id: sent.id, created: false, calls: 2 });
    expect(await rowCounts()).toEqual(before);
  });

  it("goes to the full decision for a reused nonce, which it refuses naming the run that used it", async () => {
    const key = await generateKeyPair();
    const first = await submitCounted({ decodeTps: 10, nonce: "reused-nonce-000001" }, key);
    const replay = await submitCounted({ decodeTps: 11, nonce: "reused-nonce-000001" }, key);
    expect(replay.error?.error.code).toBe("nonce_reused");
    expect(replay.error?.error.message).toContain(String(first.id));
    expect(replay.calls).toBe(2);
    // Another key may use the same nonce: one call.
    expect(await submitCounted({ decodeTps: 11, nonce: "reused-nonce-000001" }, await generateKeyPair())).toMatchObject(
      {
        created: true,
        calls: 1,
      },
    );
  });

  it("goes to the full decision for a revoked or rotated key, which it refuses", async () => {
    for (const status of ["revoked", "rotated"] as const) {
      const key = await generateKeyPair();
      await submitCounted({ decodeTps: 10 }, key);
      await env.DB.prepare("update devices set status = ?, status_at = ?, replaced_by = ? where id = ?")
        .bind(
          status,
          new Date().toISOString(),
          status === "rotated" ? "f".repeat(64) : null,
          await deviceIdOf(key.publicKey),
        )
        .run();
      const before = await rowCounts();
      const refused = await submitCounted({ decodeTps: 10.5 }, key);
      expect(refused.error?.error.code).toBe(status === "revoked" ? "key_revoked" : "key_rotated");
      expect(refused.calls).toBe(2);
      expect(await rowCounts()).toEqual(before);
    }
  });

  it("counts a rotated key's successor under the lineage it continues, in one call", async () => {
    const [old, next] = [await generateKeyPair(), await generateKeyPair()];
    await submitCounted({ decodeTps: 10 }, old);
    const lineage = await deviceIdOf(old.publicKey);
    // What a rotation leaves: the new key's device row continues the old key's lineage.
    await env.DB.prepare("insert into devices (id, public_key, first_seen_at, lineage) values (?, ?, ?, ?)")
      .bind(await deviceIdOf(next.publicKey), next.publicKey, new Date().toISOString(), lineage)
      .run();
    expect(await submitCounted({ decodeTps: 10.4 }, next)).toMatchObject({ created: true, calls: 1 });
    const cell = await env.DB.prepare("select lineages, lineage_sums from cells").first<{
      lineages: number;
      lineage_sums: string;
    }>();
    expect(cell?.lineages).toBe(1);
    expect(Object.keys(JSON.parse(cell?.lineage_sums ?? "{}"))).toEqual([lineage]);
  });

  it("goes to the full decision for an outlier, which it flags and ranks apart", async () => {
    const key = await generateKeyPair();
    for (const decodeTps of [10, 10.5, 9.5, 10.2]) await submitCounted({ decodeTps }, key);
    const outlier = await submitCounted({ decodeTps: 25 }, key);
    expect(outlier).toMatchObject({ created: true, calls: 3 });
    expect(codes(outlier.flags)).toEqual(["outlier"]);
    expect(await runRow(String(outlier.id))).toMatchObject({ rank_group: 1 });
    // Within 3σ: one call, no flag.
    expect(await submitCounted({ decodeTps: 10.3 }, key)).toMatchObject({ created: true, calls: 1, flags: [] });
  });

  it("goes to the full decision for an annotated engine version, whose note it carries", async () => {
    await env.DB.prepare(
      `insert into annotations (engine, from_version, to_version, from_key, to_key, note, effect, created_at)
       values ('llama.cpp', 'b7000', 'b7100', ?, ?, 'a slow build', 'rank_apart', ?)`,
    )
      .bind(versionKey("b7000"), versionKey("b7100"), new Date().toISOString())
      .run();
    const key = await generateKeyPair();
    const annotated = await submitCounted({ decodeTps: 10, version: "b7050" }, key);
    expect(annotated).toMatchObject({ created: true, calls: 3 });
    expect(codes(annotated.flags)).toEqual(["annotation"]);
    expect(await submitCounted({ decodeTps: 10, version: "b7200" }, key)).toMatchObject({ created: true, calls: 1 });
  });

  it("goes to the full decision for merged hardware, and files the run under the merge", async () => {
    const key = await generateKeyPair();
    const into = await submitCounted({ decodeTps: 10, board: "Board Into" }, key);
    const target = (await runRow(String(into.id)))?.hardware_slug;
    const from = await submitCounted({ decodeTps: 10, board: "Board From" }, key);
    const alias = (await runRow(String(from.id)))?.hardware_slug;
    await env.DB.prepare("insert into aliases (kind, alias, slug, created_at) values ('hardware', ?, ?, ?)")
      .bind(alias, target, new Date().toISOString())
      .run();
    const merged = await submitCounted({ decodeTps: 10.1, board: "Board From" }, key);
    // The full decision reads the merged cell's figures once more.
    expect(merged).toMatchObject({ created: true, calls: 4 });
    expect((await runRow(String(merged.id)))?.hardware_slug).toBe(target);
  });
});

describe("the outlier assumption in SQL", () => {
  it("holds for every run the JS test would flag, on the cell's figures as ingest keeps them", async () => {
    const db = drizzle(env.DB);
    let n = 0;
    let flaggedCases = 0;
    // A cell of runs around a base speed, and a run k standard deviations from their mean, with k
    // close to the threshold of 3 on either side: where rounding could tell the two tests apart.
    const cluster = fc
      .tuple(
        fc.double({ min: 1, max: 100, noNaN: true }),
        fc.array(fc.double({ min: -0.05, max: 0.05, noNaN: true }), { minLength: 3, maxLength: 12 }),
      )
      .map(([base, noise]) => noise.map((e) => base * (1 + e)));
    const distance = fc.tuple(fc.double({ min: 2.9, max: 3.1, noNaN: true }), fc.boolean());
    await fc.assert(
      fc.asyncProperty(cluster, distance, async (others, [k, below]) => {
        const stats = others.reduce(withRun, EMPTY_CELL);
        const sd = Math.sqrt(Math.max(0, stats.decodeM2) / (stats.runs - 1));
        const x = stats.decodeSum / stats.runs + (below ? -k : k) * sd;
        const cell = `outlier-case-${n++}`;
        await db.insert(cells).values({
          cell,
          hardwareSlug: "h",
          modelSlug: "m",
          runs: stats.runs,
          lineages: 1,
          decodeSum: stats.decodeSum,
          decodeM2: stats.decodeM2,
          level: "single",
          updatedAt: "2026-01-01T00:00:00.000Z",
        });
        const bundle = makeBundle({ decodeTps: x });
        const flagged = plausibilityFlags(bundle, summarize(bundle), stats).some((f) => f.code === "outlier");
        const [row] = await db
          .select({ may: mayBeOutlierSql(x) })
          .from(cells)
          .where(eq(cells.cell, cell));
        if (flagged) {
          flaggedCases++;
          expect(row?.may, JSON.stringify({ others, x })).toBe(1);
        }
      }),
      { numRuns: 150 },
    );
    // The property was tested on flagged runs, not only on runs that no test would flag.
    expect(flaggedCases).toBeGreaterThan(20);
  });
});
