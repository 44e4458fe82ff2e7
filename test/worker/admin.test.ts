// Moderation: the token, hiding, annotations over engine version ranges, aliases, and the audit row
// that every action writes in the same transaction (a refused or failed action writes nothing).
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ErrorBody, Leaderboard, RunDetail, SubmitResponse } from "../../schema/api.ts";
import type { Bundle } from "../../schema/bundle.ts";
import { AliasResponse, AnnotationResponse, AuditPage, RunModerationResponse } from "../../schema/moderation.ts";
import { generateKeyPair, type KeyPair } from "../../schema/signing.ts";
import app from "../../workers/index.ts";
import { type BundleOptions, makeBundle } from "../support/bundles.ts";
import { BASE, call, postJson, signed } from "./helpers.ts";

const TOKEN = "test-admin-token-0123456789";

function admin(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(`/v1/admin${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function submit(options: BundleOptions & { version?: string } = {}, key?: KeyPair): Promise<string> {
  const bundle: Bundle = makeBundle(options);
  if (options.version !== undefined) bundle.runtime.version = options.version;
  const res = await postJson(await signed(bundle, key));
  expect(res.status, await res.clone().text()).toBe(201);
  return SubmitResponse.parse(await res.json()).id;
}

async function run(id: string) {
  const res = await call(`/v1/runs/${id}`);
  expect(res.status).toBe(200);
  return RunDetail.parse(await res.json()).run;
}

async function leaderboardIds(query = "model=test-model-1b"): Promise<string[]> {
  return Leaderboard.parse(await (await call(`/v1/leaderboard?${query}`)).json()).items.map((r) => r.id);
}

async function auditRows(): Promise<Array<{ action: string; target: string; reason: string | null; actor: string }>> {
  const { results } = await env.DB.prepare("select action, target, reason, actor from audit_log order by id").all<{
    action: string;
    target: string;
    reason: string | null;
    actor: string;
  }>();
  return results;
}

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  expect(res.status, await res.clone().text()).toBe(status);
  const body = ErrorBody.parse(await res.json());
  expect(body.error.code).toBe(code);
  return body;
}

/** The same Worker with other bindings (here: no ADMIN_TOKEN). */
async function callWith(bindings: Partial<Cloudflare.Env>, path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${BASE}${path}`, init), { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

// Triggers make a statement of the batch fail on purpose; the table cleanup does not drop them.
afterEach(async () => {
  vi.restoreAllMocks();
  await env.DB.prepare("drop trigger if exists refuse_audit").run();
});

/** Makes the audit insert of `action` fail; the Worker logs the resulting 500, which is expected here. */
async function refuseAuditRows(action: string) {
  vi.spyOn(console, "error").mockImplementation(() => {});
  await env.DB.prepare(
    `create trigger refuse_audit before insert on audit_log when new.action = '${action}' begin select raise(abort, 'audit refused'); end`,
  ).run();
}

describe("moderation token", () => {
  it("answers 401 without a token, with a wrong one, or with another scheme, and changes nothing", async () => {
    const id = await submit();
    const body = { reason: "spam" };
    for (const authorization of [
      undefined,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${TOKEN}`,
      "Bearer",
    ]) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (authorization !== undefined) headers.authorization = authorization;
      const res = await call(`/v1/admin/runs/${id}/hide`, { method: "POST", headers, body: JSON.stringify(body) });
      await expectError(res, 401, "unauthorized");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    }
    expect((await run(id)).status).toBe("visible");
    expect(await auditRows()).toEqual([]);
  });

  it("checks the token before the body: an unauthenticated bad body is still 401", async () => {
    const res = await call("/v1/admin/annotations", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "not json",
    });
    await expectError(res, 401, "unauthorized");
  });

  it("answers 403 when the registry has no ADMIN_TOKEN: moderation is off", async () => {
    const id = await submit();
    for (const ADMIN_TOKEN of [undefined, ""]) {
      const res = await callWith({ ADMIN_TOKEN }, `/v1/admin/runs/${id}/hide`, {
        method: "POST",
        headers: { authorization: "Bearer ", "content-type": "application/json" },
        body: JSON.stringify({ reason: "spam" }),
      });
      const body = await expectError(res, 403, "forbidden");
      expect(body.error.message).toContain("moderation is off");
    }
    expect((await run(id)).status).toBe("visible");
    expect(await auditRows()).toEqual([]);
  });
});

describe("request bodies", () => {
  it("refuses invalid bodies with the failing paths, and writes nothing", async () => {
    const id = await submit();
    const missing = await expectError(await admin(`/runs/${id}/hide`, {}), 400, "invalid_request");
    expect(missing.error.details?.map((d) => d.path)).toEqual(["reason"]);
    const blank = await expectError(await admin(`/runs/${id}/hide`, { reason: "   " }), 400, "invalid_request");
    expect(blank.error.details?.[0]?.message).toContain("say why");
    const extra = await expectError(await admin(`/runs/${id}/hide`, { reason: "x", also: 1 }), 400, "invalid_request");
    expect(extra.error.details).toContainEqual({ path: "also", message: "unknown field" });
    await expectError(await admin(`/runs/${id}/hide`, "{not json"), 400, "malformed_json");
    await expectError(
      await admin(`/runs/${id}/hide`, { reason: "x" }, { "content-type": "text/plain" }),
      415,
      "unsupported_media_type",
    );
    await expectError(await admin(`/runs/${id}/hide`, { reason: "x".repeat(10_000) }), 413, "payload_too_large");
    expect((await run(id)).status).toBe("visible");
    expect(await auditRows()).toEqual([]);
  });
});

describe("POST /v1/admin/runs/:id/hide and /unhide", () => {
  it("takes a hidden run off leaderboards, keeps it readable as hidden, and logs both actions", async () => {
    const a = await submit({ decodeTps: 10 });
    const b = await submit({ decodeTps: 11 });
    expect(await leaderboardIds()).toEqual([b, a]);

    const hidden = await admin(`/runs/${a}/hide`, { reason: "duplicate submission" });
    expect(hidden.status).toBe(200);
    const body = RunModerationResponse.parse(await hidden.json());
    expect(body.run).toMatchObject({ id: a, status: "hidden", statusReason: "duplicate submission" });
    expect(body.audit).toMatchObject({
      actor: "admin",
      action: "run.hide",
      target: `run:${a}`,
      reason: "duplicate submission",
    });
    expect(await leaderboardIds()).toEqual([b]);
    expect(await run(a)).toMatchObject({ status: "hidden", statusReason: "duplicate submission" });

    const shown = await admin(`/runs/${a}/unhide`, { reason: "not a duplicate after all" });
    expect(shown.status).toBe(200);
    expect(RunModerationResponse.parse(await shown.json()).run).toMatchObject({
      status: "visible",
      statusReason: null,
    });
    expect(await leaderboardIds()).toEqual([b, a]);
    expect(await auditRows()).toEqual([
      { actor: "admin", action: "run.hide", target: `run:${a}`, reason: "duplicate submission" },
      { actor: "admin", action: "run.unhide", target: `run:${a}`, reason: "not a duplicate after all" },
    ]);
  });

  it("recomputes the cell: a hidden run no longer reproduces another submitter's", async () => {
    const other = await generateKeyPair();
    const a = await submit({ decodeTps: 10 });
    const b = await submit({ decodeTps: 10.5 }, other);
    expect((await run(b)).reproduction).toBe("reproduced");
    await admin(`/runs/${a}/hide`, { reason: "bad run" });
    expect((await run(b)).reproduction).toBe("single");
    await admin(`/runs/${a}/unhide`, { reason: "fine after all" });
    expect((await run(b)).reproduction).toBe("reproduced");
    expect((await run(a)).reproduction).toBe("reproduced");
  });

  it("answers 409 for hiding a hidden run or showing a visible one, and 404 for an unknown run", async () => {
    const id = await submit();
    await expectError(await admin(`/runs/${id}/unhide`, { reason: "x" }), 409, "conflict");
    await admin(`/runs/${id}/hide`, { reason: "first" });
    const again = await expectError(await admin(`/runs/${id}/hide`, { reason: "second" }), 409, "conflict");
    expect(again.error.message).toContain("first");
    await expectError(await admin("/runs/0123456789abcdef01234567/hide", { reason: "x" }), 404, "not_found");
    await expectError(await admin("/runs/not-a-run/hide", { reason: "x" }), 404, "not_found");
    expect((await auditRows()).map((r) => r.action)).toEqual(["run.hide"]);
    expect((await run(id)).statusReason).toBe("first");
  });

  it("writes the change and its audit row in one batch: when the audit row fails, the run is not hidden", async () => {
    const id = await submit();
    await refuseAuditRows("run.hide");
    await expectError(await admin(`/runs/${id}/hide`, { reason: "x" }), 500, "internal");
    expect((await run(id)).status).toBe("visible");
    expect(await leaderboardIds()).toEqual([id]);
    expect(await auditRows()).toEqual([]);
  });
});

describe("POST /v1/admin/annotations", () => {
  const annotation = {
    engine: "llama.cpp",
    fromVersion: "b5500",
    toVersion: "b6500",
    note: "these builds mis-time decode on ARM",
    effect: "rank_apart",
  } as const;

  it("flags existing runs of the engine in the version range, ranks them apart, and flags later runs at ingest", async () => {
    const before = await submit({ version: "b5000", decodeTps: 9 });
    const inside = await submit({ version: "b6000", decodeTps: 20 });
    const after = await submit({ version: "b7000", decodeTps: 8 });
    const unversioned = await submit({ version: "main", decodeTps: 7 });
    expect(await leaderboardIds()).toEqual([inside, before, after, unversioned]);

    const res = await admin("/annotations", annotation);
    expect(res.status).toBe(201);
    const body = AnnotationResponse.parse(await res.json());
    expect(body.runsAffected).toBe(1);
    expect(body.annotation).toMatchObject({ ...annotation, removedAt: null });
    expect(body.audit).toMatchObject({ action: "annotation.add", target: `annotation:${body.annotation.id}` });
    const flag = { code: `annotation:${body.annotation.id}`, reason: annotation.note, rankApart: true };

    expect(await run(inside)).toMatchObject({ rankedApart: true, flags: [flag] });
    for (const id of [before, after, unversioned])
      expect(await run(id)).toMatchObject({ rankedApart: false, flags: [] });
    // Ranked apart: after every ranked run, whatever its speed.
    expect(await leaderboardIds()).toEqual([before, after, unversioned, inside]);

    // Close to the cell's other runs, so the only flag is the annotation's.
    const later = await submit({ version: "b6499", decodeTps: 8.5 });
    expect(await run(later)).toMatchObject({ rankedApart: true, flags: [flag] });
    expect((await leaderboardIds()).slice(-2).sort()).toEqual([inside, later].sort());
  });

  it("recomputes the cells it ranks apart, and again when it is removed", async () => {
    const a = await submit({ version: "b6000", decodeTps: 10 });
    const b = await submit({ version: "b6000", decodeTps: 10.4 }, await generateKeyPair());
    const unrelated = await submit({ version: "b7000", decodeTps: 10.2, model: "Other-Model" });
    expect((await run(a)).reproduction).toBe("reproduced");
    const body = AnnotationResponse.parse(
      await (await admin("/annotations", { ...annotation, fromVersion: "b6000", toVersion: "b6000" })).json(),
    );
    // Both runs of the cell are ranked apart now: no ranked runs reproduce each other.
    expect((await run(a)).reproduction).toBe("single");
    expect((await run(b)).reproduction).toBe("single");
    expect(await run(unrelated)).toMatchObject({ rankedApart: false, flags: [] });
    await admin(`/annotations/${body.annotation.id}/remove`, { reason: "wrong range" });
    expect((await run(a)).reproduction).toBe("reproduced");
    const cell = await env.DB.prepare(
      "select runs, lineages, level from cells where cell like '%test-model-1b%'",
    ).first();
    expect(cell).toEqual({ runs: 2, lineages: 2, level: "reproduced" });
  });

  it("a note flags the runs without ranking them apart", async () => {
    const id = await submit({ version: "b6000" });
    const body = AnnotationResponse.parse(
      await (await admin("/annotations", { ...annotation, effect: "note" })).json(),
    );
    expect(await run(id)).toMatchObject({
      rankedApart: false,
      flags: [{ code: `annotation:${body.annotation.id}`, reason: annotation.note, rankApart: false }],
    });
  });

  it("compares versions numerically, not as text (b987 is before b5500; 0.10.0 is after 0.9.0)", async () => {
    const old = await submit({ version: "b987" });
    const newer = await submit({ version: "0.10.0", decodeTps: 12 });
    await admin("/annotations", { ...annotation, fromVersion: "b5500", toVersion: "b99999" });
    expect((await run(old)).flags).toEqual([]);
    const res = await admin("/annotations", {
      ...annotation,
      fromVersion: "0.9.0",
      toVersion: "0.10.5",
      effect: "note",
    });
    expect(AnnotationResponse.parse(await res.json()).runsAffected).toBe(1);
    expect((await run(newer)).flags).toHaveLength(1);
  });

  it("updates hundreds of runs in one statement (D1 binds at most 100 parameters per statement)", async () => {
    const template = await submit({ version: "b6000" });
    const { results: columns } = await env.DB.prepare("select name from pragma_table_info('runs')").all<{
      name: string;
    }>();
    const names = columns.map((c) => c.name);
    const select = names.map((n) => (n === "id" ? "printf('%024x', n)" : n === "nonce" ? "null" : n)).join(", ");
    await env.DB.prepare(
      `with recursive k(n) as (select 1 union all select n + 1 from k where n < 250)
       insert into runs (${names.join(", ")}) select ${select} from k, runs where runs.id = ?`,
    )
      .bind(template)
      .run();
    const body = AnnotationResponse.parse(await (await admin("/annotations", annotation)).json());
    expect(body.runsAffected).toBe(251);
    const ranked = await env.DB.prepare("select count(*) as n from runs where rank_group = 1 and flags like ?")
      .bind(`%"annotation:${body.annotation.id}"%`)
      .first<{ n: number }>();
    expect(ranked?.n).toBe(251);
  });

  it("refuses a range that ends before it starts, or versions without a number", async () => {
    const reversed = await expectError(
      await admin("/annotations", { ...annotation, fromVersion: "b6500", toVersion: "b5500" }),
      400,
      "invalid_request",
    );
    expect(reversed.error.details?.map((d) => d.path)).toEqual(["toVersion"]);
    const words = await expectError(
      await admin("/annotations", { ...annotation, fromVersion: "latest" }),
      400,
      "invalid_request",
    );
    expect(words.error.details?.map((d) => d.path)).toEqual(["fromVersion"]);
    await expectError(await admin("/annotations", { ...annotation, effect: "hide" }), 400, "invalid_request");
    await expectError(await admin("/annotations", { ...annotation, engine: "gpt" }), 400, "invalid_request");
    expect(await auditRows()).toEqual([]);
    expect((await env.DB.prepare("select count(*) as n from annotations").first<{ n: number }>())?.n).toBe(0);
  });

  it("stores nothing and flags nothing when its audit row fails", async () => {
    const id = await submit({ version: "b6000" });
    await refuseAuditRows("annotation.add");
    await expectError(await admin("/annotations", annotation), 500, "internal");
    expect(await run(id)).toMatchObject({ rankedApart: false, flags: [] });
    expect((await env.DB.prepare("select count(*) as n from annotations").first<{ n: number }>())?.n).toBe(0);
  });
});

describe("POST /v1/admin/annotations/:id/remove", () => {
  const rankApart = {
    engine: "llama.cpp",
    fromVersion: "b5000",
    toVersion: "b7000",
    note: "slow build",
    effect: "rank_apart",
  } as const;

  it("removes the flag from every run and ranks runs again unless another reason remains", async () => {
    const plain = await submit({ version: "b6000", decodeTps: 10 });
    const failing = await submit({ version: "b6000", decodeTps: 11, qualityFail: "degenerate output" });
    const doubly = await submit({ version: "b6100", decodeTps: 12 });
    const first = AnnotationResponse.parse(await (await admin("/annotations", rankApart)).json());
    const second = AnnotationResponse.parse(
      await (
        await admin("/annotations", { ...rankApart, fromVersion: "b6100", toVersion: "b6100", note: "other" })
      ).json(),
    );
    expect((await run(doubly)).flags.map((f) => f.code)).toEqual([
      `annotation:${first.annotation.id}`,
      `annotation:${second.annotation.id}`,
    ]);

    const res = await admin(`/annotations/${first.annotation.id}/remove`, {
      reason: "fixed upstream; was a timer bug",
    });
    expect(res.status).toBe(200);
    const body = AnnotationResponse.parse(await res.json());
    expect(body.runsAffected).toBe(3);
    expect(body.annotation.removedAt).not.toBeNull();
    expect(body.audit).toMatchObject({ action: "annotation.remove", target: `annotation:${first.annotation.id}` });

    expect(await run(plain)).toMatchObject({ rankedApart: false, flags: [] });
    expect(await run(failing)).toMatchObject({ rankedApart: true, flags: [] });
    expect(await run(doubly)).toMatchObject({
      rankedApart: true,
      flags: [{ code: `annotation:${second.annotation.id}`, reason: "other", rankApart: true }],
    });
    // Runs submitted from now on no longer get it.
    const later = await submit({ version: "b6000", decodeTps: 13 });
    expect(await run(later)).toMatchObject({ rankedApart: false, flags: [] });
    expect(await leaderboardIds()).toEqual([later, plain, doubly, failing]);
  });

  it("answers 409 for an annotation already removed and 404 for an unknown one, writing nothing", async () => {
    const { annotation } = AnnotationResponse.parse(await (await admin("/annotations", rankApart)).json());
    await admin(`/annotations/${annotation.id}/remove`, { reason: "done" });
    await expectError(await admin(`/annotations/${annotation.id}/remove`, { reason: "again" }), 409, "conflict");
    await expectError(await admin("/annotations/99999/remove", { reason: "x" }), 404, "not_found");
    await expectError(await admin("/annotations/abc/remove", { reason: "x" }), 404, "not_found");
    expect((await auditRows()).map((r) => r.action)).toEqual(["annotation.add", "annotation.remove"]);
  });

  it("keeps the flags when its audit row fails", async () => {
    const id = await submit({ version: "b6000" });
    const { annotation } = AnnotationResponse.parse(await (await admin("/annotations", rankApart)).json());
    await refuseAuditRows("annotation.remove");
    await expectError(await admin(`/annotations/${annotation.id}/remove`, { reason: "x" }), 500, "internal");
    expect(await run(id)).toMatchObject({ rankedApart: true, flags: [{ code: `annotation:${annotation.id}` }] });
    const [stored] = (await env.DB.prepare("select removed_at from annotations").all<{ removed_at: string | null }>())
      .results;
    expect(stored?.removed_at).toBeNull();
  });
});

describe("POST /v1/admin/aliases", () => {
  it("adds an alias that every read resolves, once", async () => {
    await submit({ board: "Raspberry Pi 4 Model B Rev 1.4" });
    const res = await admin("/aliases", { kind: "hardware", alias: "my-pi", slug: "raspberry-pi-4" });
    expect(res.status).toBe(201);
    const body = AliasResponse.parse(await res.json());
    expect(body).toMatchObject({ created: true, alias: { kind: "hardware", alias: "my-pi", slug: "raspberry-pi-4" } });
    expect(body.audit).toMatchObject({ action: "alias.add", target: "alias:hardware:my-pi" });
    expect(await leaderboardIds("hardware=my-pi")).toHaveLength(1);

    const again = await admin("/aliases", { kind: "hardware", alias: "my-pi", slug: "raspberry-pi-4" });
    expect(again.status).toBe(200);
    expect(AliasResponse.parse(await again.json())).toMatchObject({ created: false, audit: null });
    expect((await auditRows()).map((r) => r.action)).toEqual(["alias.add"]);
  });

  it("refuses an unknown slug (404), and aliases that would hide or change another name (409)", async () => {
    await submit({ board: "Raspberry Pi 4 Model B Rev 1.4" });
    await submit({ board: "Raspberry Pi 5", decodeTps: 12 });
    await expectError(
      await admin("/aliases", { kind: "hardware", alias: "x", slug: "no-such-board" }),
      404,
      "not_found",
    );
    await expectError(await admin("/aliases", { kind: "model", alias: "x", slug: "raspberry-pi-4" }), 404, "not_found");
    await expectError(
      await admin("/aliases", { kind: "hardware", alias: "raspberry-pi-5", slug: "raspberry-pi-4" }),
      409,
      "conflict",
    );
    await expectError(
      await admin("/aliases", { kind: "hardware", alias: "rpi5", slug: "raspberry-pi-4" }),
      409,
      "conflict",
    );
    await admin("/aliases", { kind: "hardware", alias: "my-pi", slug: "raspberry-pi-4" });
    await expectError(
      await admin("/aliases", { kind: "hardware", alias: "my-pi", slug: "raspberry-pi-5" }),
      409,
      "conflict",
    );
    await expectError(
      await admin("/aliases", { kind: "hardware", alias: "raspberry-pi-4", slug: "raspberry-pi-4" }),
      400,
      "invalid_request",
    );
    await expectError(
      await admin("/aliases", { kind: "hardware", alias: "Not A Slug", slug: "raspberry-pi-4" }),
      400,
      "invalid_request",
    );
    expect((await auditRows()).map((r) => r.action)).toEqual(["alias.add"]);
  });
});

describe("the audit log of moderation", () => {
  it("lists every action newest first, filterable by target", async () => {
    const a = await submit({ decodeTps: 10 });
    const b = await submit({ decodeTps: 11 });
    await admin(`/runs/${a}/hide`, { reason: "one" });
    await admin(`/runs/${b}/hide`, { reason: "two" });
    await admin(`/runs/${a}/unhide`, { reason: "three" });
    const all = AuditPage.parse(await (await call("/v1/audit")).json());
    expect(all.items.map((e) => e.reason)).toEqual(["three", "two", "one"]);
    const forA = AuditPage.parse(await (await call(`/v1/audit?target=run:${a}`)).json());
    expect(forA.items.map((e) => e.action)).toEqual(["run.unhide", "run.hide"]);
    expect(forA.items[0]?.details).toEqual({ wasHiddenBecause: "one" });
  });
});
