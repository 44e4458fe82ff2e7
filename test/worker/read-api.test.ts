// Public reads around moderation: catalog entries by any of their names, the open data export, and
// the audit log's pages.
import { env } from "cloudflare:workers";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { ErrorBody, HardwareDetail, ModelDetail, RunRow, SubmitResponse } from "../../schema/api.ts";
import { AuditPage } from "../../schema/moderation.ts";
import { EXPORT_COLUMNS } from "../../workers/routes/export.ts";
import { type BundleOptions, makeBundle } from "../support/bundles.ts";
import { call, postJson, signed } from "./helpers.ts";

const ADMIN = { authorization: "Bearer test-admin-token-0123456789", "content-type": "application/json" };

function admin(path: string, body: unknown): Promise<Response> {
  return call(`/v1/admin${path}`, { method: "POST", headers: ADMIN, body: JSON.stringify(body) });
}

/** workerd warns when .text() reads a body whose type is not text/*; NDJSON is UTF-8 text. */
async function textOf(res: Response | Promise<Response>): Promise<string> {
  return new TextDecoder().decode(await (await res).arrayBuffer());
}

async function submit(options: BundleOptions = {}): Promise<string> {
  const res = await postJson(await signed(makeBundle(options)));
  expect(res.status, await res.clone().text()).toBe(201);
  return SubmitResponse.parse(await res.json()).id;
}

describe("GET /v1/hardware/:slug", () => {
  it("answers the canonical entry for its slug, a built-in alias, a stored alias, or a reported name", async () => {
    await submit({ board: "Raspberry Pi 4 Model B Rev 1.4", decodeTps: 6 });
    await submit({ board: "Raspberry Pi 4 Model B", decodeTps: 5, model: "Other-Model-3B" });
    expect((await admin("/aliases", { kind: "hardware", alias: "pi-four", slug: "raspberry-pi-4" })).status).toBe(201);

    const asked = [
      "raspberry-pi-4",
      "rpi4",
      "raspberry-pi-4-model-b",
      "pi-four",
      "raspberry-pi-4-model-b-rev-1.4",
      encodeURIComponent("Raspberry Pi 4 Model B Rev 1.4"),
    ];
    for (const name of asked) {
      const res = await call(`/v1/hardware/${name}`);
      expect(res.status, name).toBe(200);
      const body = HardwareDetail.parse(await res.json());
      expect(body).toMatchObject({
        slug: "raspberry-pi-4",
        requested: decodeURIComponent(name),
        runs: 2,
        models: 2,
        bestDecodeTps: 6,
      });
      expect(body.aliases).toEqual(["rpi4", "pi-4", "raspberry-pi-4b", "raspberry-pi-4-model-b", "pi-four"]);
    }
  });

  it("answers 404 for unknown hardware, and for known hardware with no runs yet", async () => {
    await submit();
    for (const name of ["no-such-board", "rpi5", "x".repeat(300)]) {
      const res = await call(`/v1/hardware/${name}`);
      expect(res.status, name).toBe(404);
      expect(ErrorBody.parse(await res.json()).error.code).toBe("not_found");
    }
  });

  it("leaves hidden runs out of the entry's figures", async () => {
    const fast = await submit({ decodeTps: 20 });
    await submit({ decodeTps: 10 });
    await admin(`/runs/${fast}/hide`, { reason: "implausible" });
    const body = HardwareDetail.parse(await (await call("/v1/hardware/test-board-1")).json());
    expect(body).toMatchObject({ runs: 1, bestDecodeTps: 10 });
  });
});

describe("GET /v1/models/:slug", () => {
  it("resolves stored aliases and repo-style names to the canonical model", async () => {
    await submit({ model: "Qwen3-4B" });
    await admin("/aliases", { kind: "model", alias: "qwen-3-4b", slug: "qwen3-4b" });
    for (const name of ["qwen3-4b", "qwen-3-4b", encodeURIComponent("Qwen/Qwen3-4B"), "Qwen3-4B.gguf"]) {
      const res = await call(`/v1/models/${name}`);
      expect(res.status, name).toBe(200);
      expect(ModelDetail.parse(await res.json())).toMatchObject({
        slug: "qwen3-4b",
        requested: decodeURIComponent(name),
        runs: 1,
        hardware: 1,
        aliases: ["qwen-3-4b"],
      });
    }
    expect((await call("/v1/models/qwen3-8b")).status).toBe(404);
  });
});

describe("GET /v1/export/runs.ndjson and runs.csv", () => {
  async function seed(): Promise<{ ids: string[]; hidden: string }> {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await submit({ decodeTps: 10 + i / 10, model: `Model-${i % 3}` }));
    const hidden = ids[2] ?? "";
    await admin(`/runs/${hidden}/hide`, { reason: "spam" });
    return { ids, hidden };
  }

  it("streams every run as one RunRow per line, hidden ones included with their status", async () => {
    const { ids, hidden } = await seed();
    const res = await call("/v1/export/runs.ndjson");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="edgebench-runs-\d{4}-\d\d-\d\d\.ndjson"$/,
    );
    const text = await textOf(res);
    expect(text.endsWith("\n")).toBe(true);
    const rows = text
      .trimEnd()
      .split("\n")
      .map((line) => RunRow.parse(JSON.parse(line)));
    const count = await env.DB.prepare("select count(*) as n from runs").first<{ n: number }>();
    expect(rows).toHaveLength(count?.n ?? -1);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids));
    expect(rows.find((r) => r.id === hidden)).toMatchObject({ status: "hidden", statusReason: "spam" });
  });

  it("streams CSV with a header row of the documented columns, which parses back to the same runs", async () => {
    const { ids, hidden } = await seed();
    const res = await call("/v1/export/runs.csv");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toMatch(/filename="edgebench-runs-[\d-]+\.csv"$/);
    const records: string[][] = parse(await res.text());
    expect(records[0]).toEqual(Object.keys(EXPORT_COLUMNS));
    const rows = records.slice(1).map((r) => Object.fromEntries(r.map((v, i) => [records[0]?.[i], v])));
    expect(rows).toHaveLength(ids.length);
    const row = rows.find((r) => r.id === hidden);
    expect(row).toMatchObject({ status: "hidden", statusReason: "spam", rankedApart: "false", decodeTps: "10.2" });
    expect(JSON.parse(row?.flags ?? "")).toEqual([]);
  });

  it("pages through more runs than one read (500) without losing or repeating any", async () => {
    const template = await submit();
    const { results: columns } = await env.DB.prepare("select name from pragma_table_info('runs')").all<{
      name: string;
    }>();
    const names = columns.map((c) => c.name);
    // Every copy gets its own id and a received time a millisecond apart, so the keyset order is total.
    const select = names
      .map((n) =>
        n === "id"
          ? "printf('%024x', n)"
          : n === "nonce"
            ? "null"
            : n === "received_at"
              ? "strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || (n % 50) || ' seconds')"
              : n,
      )
      .join(", ");
    await env.DB.prepare(
      `with recursive k(n) as (select 1 union all select n + 1 from k where n < 1200)
       insert into runs (${names.join(", ")}) select ${select} from k, runs where runs.id = ?`,
    )
      .bind(template)
      .run();
    const ndjson = (await textOf(call("/v1/export/runs.ndjson"))).trimEnd().split("\n");
    expect(ndjson).toHaveLength(1201);
    expect(new Set(ndjson.map((l) => (JSON.parse(l) as { id: string }).id)).size).toBe(1201);
    const csv: string[][] = parse(await (await call("/v1/export/runs.csv")).text());
    expect(csv).toHaveLength(1202);
    // One header row only, however many pages.
    expect(csv.filter((r) => r[0] === "id")).toHaveLength(1);

    const since = (await textOf(call("/v1/export/runs.ndjson?since=2026-01-01T00:00:40Z"))).trimEnd().split("\n");
    // n % 50 in 40…49 (24 per value… 10 values) plus the template, received now.
    expect(since).toHaveLength(1 + 24 * 10);
  });

  it("filters by ?since= and refuses a malformed one", async () => {
    await submit();
    expect(await textOf(call("/v1/export/runs.ndjson?since=2999-01-01"))).toBe("");
    const csv: string[][] = parse(await (await call("/v1/export/runs.csv?since=2999-01-01T00:00:00Z")).text());
    expect(csv).toEqual([Object.keys(EXPORT_COLUMNS)]);
    expect((await textOf(call("/v1/export/runs.ndjson?since=2000-01-01"))).trimEnd().split("\n")).toHaveLength(1);
    for (const bad of ["yesterday", "2026-13-01", ""]) {
      const res = await call(`/v1/export/runs.csv?since=${bad}`);
      expect(res.status, bad).toBe(400);
      expect(ErrorBody.parse(await res.json()).error.details?.[0]?.path).toBe("since");
    }
    expect((await call("/v1/export/runs.csv?format=xml")).status).toBe(400);
  });
});

describe("GET /v1/audit", () => {
  it("pages newest first with a cursor, at most 100 per page, optionally for one target", async () => {
    const ids = [await submit({ decodeTps: 10 }), await submit({ decodeTps: 11 })];
    for (let i = 0; i < 5; i++) {
      for (const id of ids) {
        await admin(`/runs/${id}/hide`, { reason: `hide ${i}` });
        await admin(`/runs/${id}/unhide`, { reason: `show ${i}` });
      }
    }
    const seen: number[] = [];
    let cursor: string | null = "";
    let pages = 0;
    while (cursor !== null) {
      const page: AuditPage = AuditPage.parse(
        await (await call(`/v1/audit?limit=3${cursor ? `&cursor=${cursor}` : ""}`)).json(),
      );
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
      pages++;
    }
    expect(seen).toHaveLength(20);
    expect(pages).toBe(7);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);

    const target = `run:${ids[0]}`;
    const first = AuditPage.parse(await (await call(`/v1/audit?target=${target}&limit=4`)).json());
    expect(first.items.map((e) => e.reason)).toEqual(["show 4", "hide 4", "show 3", "hide 3"]);
    expect(first.items.every((e) => e.target === target && e.actor === "admin")).toBe(true);
    const second = AuditPage.parse(
      await (await call(`/v1/audit?target=${target}&limit=100&cursor=${first.nextCursor}`)).json(),
    );
    expect(second.items).toHaveLength(6);
    expect(second.nextCursor).toBeNull();
  });

  it("refuses a page size over 100, unknown parameters and forged cursors", async () => {
    for (const query of ["limit=101", "limit=0", "actor=admin", "cursor=bm9wZQ"]) {
      const res = await call(`/v1/audit?${query}`);
      expect(res.status, query).toBe(400);
      expect(ErrorBody.parse(await res.json()).error.code).toBe("invalid_query");
    }
  });
});
