// The OpenAPI document against the app it describes: the same routes both ways, and real answers
// that validate against the documented response schemas (JSON Schema 2020-12, as OpenAPI 3.1 uses).
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { SubmitResponse } from "../../schema/api.ts";
import app from "../../workers/index.ts";
import { makeBundle } from "../support/bundles.ts";
import { call, postJson, signed } from "./helpers.ts";

const ADMIN = { authorization: "Bearer test-admin-token-0123456789", "content-type": "application/json" };
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components: Record<string, unknown>;
}

async function documentOf(): Promise<Document> {
  const res = await call("/v1/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Document;
}

/** Hono's `/v1/runs/:id` is OpenAPI's `/v1/runs/{id}`. */
const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

function registeredRoutes(): Set<string> {
  return new Set(
    app.routes
      // `use()` middleware is registered with method ALL; only real routes are operations.
      .filter((r) => r.method !== "ALL" && (r.path === "/v1" || r.path.startsWith("/v1/")))
      .map((r) => `${r.method} ${openApiPath(r.path)}`),
  );
}

function documentedRoutes(doc: Document): Set<string> {
  return new Set(
    Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`),
    ),
  );
}

describe("GET /v1/openapi.json", () => {
  it("is an OpenAPI 3.1 document with a bearer scheme for moderation", async () => {
    const doc = await documentOf();
    expect(doc.openapi).toBe("3.1.0");
    expect(JSON.stringify(doc.components)).toContain('"scheme":"bearer"');
  });

  it("documents every /v1 route the app registers, and nothing else", async () => {
    const doc = await documentOf();
    const registered = registeredRoutes();
    const documented = documentedRoutes(doc);
    expect(registered.size).toBeGreaterThanOrEqual(20);
    expect(
      [...registered].filter((r) => !documented.has(r)),
      "routes missing from the document",
    ).toEqual([]);
    expect(
      [...documented].filter((d) => !registered.has(d)),
      "documented paths with no route",
    ).toEqual([]);
    for (const route of [
      "POST /v1/keys/rotate",
      "POST /v1/keys/revoke",
      "GET /v1/keys/{deviceId}",
      "POST /v1/retractions",
    ]) {
      expect(documented).toContain(route);
    }
  });

  it("answers with the same cached document every time", async () => {
    expect(await (await call("/v1/openapi.json")).text()).toBe(await (await call("/v1/openapi.json")).text());
  });
});

describe("real answers validate against the documented schemas", () => {
  // Strict mode off: the document carries OpenAPI keywords (example, components…) that are not JSON Schema.
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });

  async function expectDocumented(doc: Document, template: string, path: string, init?: RequestInit) {
    const method = (init?.method ?? "GET").toLowerCase() as (typeof METHODS)[number];
    const res = await call(path, init);
    const operation = doc.paths[template]?.[method];
    expect(operation, `${method} ${template} is documented`).toBeDefined();
    const response = operation?.responses[String(res.status)];
    expect(response, `${method} ${path} answered ${res.status}, which is documented`).toBeDefined();
    const schema = response?.content?.["application/json"]?.schema;
    expect(schema, `${method} ${template} ${res.status} has a JSON schema`).toBeDefined();
    // The schema's references point into the document's components; they resolve against this root.
    const validate = ajv.compile({ ...(schema as object), components: doc.components });
    const body: unknown = await res.json();
    expect(validate(body), `${method} ${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
  }

  it("for runs, leaderboards, catalog, audit, keys, moderation and errors", async () => {
    const doc = await documentOf();
    const submitted = SubmitResponse.parse(
      await (await postJson(await signed(makeBundle({ board: "Raspberry Pi 4 Model B Rev 1.4" })))).json(),
    );
    await postJson(await signed(makeBundle({ decodeTps: 8, qualityFail: "degenerate output" })));
    // A batch answer with every kind of item: stored, stored before, refused.
    const fresh = await signed(makeBundle({ decodeTps: 9, model: "Batch-Model" }));
    await expectDocumented(doc, "/v1/runs/batch", "/v1/runs/batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelopes: [fresh, fresh, { ...fresh, signature: "AAAA" }] }),
    });
    await expectDocumented(doc, "/v1/runs/batch", "/v1/runs/batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelopes: [] }),
    });

    await expectDocumented(doc, "/v1/admin/runs/{id}/hide", `/v1/admin/runs/${submitted.id}/hide`, {
      method: "POST",
      headers: ADMIN,
      body: JSON.stringify({ reason: "checking the document" }),
    });
    await expectDocumented(doc, "/v1/admin/annotations", "/v1/admin/annotations", {
      method: "POST",
      headers: ADMIN,
      body: JSON.stringify({
        engine: "llama.cpp",
        fromVersion: "b5000",
        toVersion: "b7000",
        note: "slow build",
        effect: "note",
      }),
    });
    await expectDocumented(doc, "/v1/admin/aliases", "/v1/admin/aliases", {
      method: "POST",
      headers: ADMIN,
      body: JSON.stringify({ kind: "model", alias: "tm1b", slug: "test-model-1b" }),
    });

    await expectDocumented(doc, "/v1/runs", "/v1/runs?limit=1");
    await expectDocumented(doc, "/v1/runs/{id}", `/v1/runs/${submitted.id}`);
    await expectDocumented(doc, "/v1/runs/{id}", "/v1/runs/000000000000000000000000");
    await expectDocumented(doc, "/v1/leaderboard", "/v1/leaderboard?model=test-model-1b");
    await expectDocumented(doc, "/v1/leaderboard", "/v1/leaderboard?metric=nope");
    await expectDocumented(doc, "/v1/hardware", "/v1/hardware");
    await expectDocumented(doc, "/v1/hardware/{slug}", "/v1/hardware/rpi4");
    await expectDocumented(doc, "/v1/models", "/v1/models");
    await expectDocumented(doc, "/v1/models/{slug}", "/v1/models/tm1b");
    await expectDocumented(doc, "/v1/models/{slug}", "/v1/models/no-such-model");
    await expectDocumented(doc, "/v1/audit", "/v1/audit?limit=2");
    await expectDocumented(doc, "/v1/keys/{deviceId}", `/v1/keys/${submitted.deviceId}`);
    await expectDocumented(doc, "/v1/admin/annotations", "/v1/admin/annotations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    await expectDocumented(doc, "/v1/openapi.json", "/v1/openapi.json");
  });
});
